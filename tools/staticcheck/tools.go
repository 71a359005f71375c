//go:build tools

// Package tools pins staticcheck (honnef.co/go/tools) in its own module, so
// that the linter's dependencies never enter the main go.mod.
package tools

import _ "honnef.co/go/tools/cmd/staticcheck"
