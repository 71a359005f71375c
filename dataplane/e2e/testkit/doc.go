// Package testkit holds what the tests of several packages share, so that
// each helper exists once: the repository root and the edge binary under
// test, the check that a tool a test drives is installed (failing loudly,
// never skipping), real MPEG-TS made by ffmpeg, and TLS files (a throwaway
// certificate for 127.0.0.1, the relay's node certificates from
// scripts/certs.sh).
package testkit
