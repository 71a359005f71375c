//go:build tools

// Package tools pins Versity's S3 gateway (github.com/versity/versitygw) in
// its own module, so that its dependencies never enter the main go.mod. The
// recording tests and `make run` use it as a real S3-API server on loopback.
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
