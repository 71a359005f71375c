package testkit

import (
	"testing"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// ParseMedia parses a media playlist with gohlslib, failing the test when
// it does not parse or is a multivariant playlist.
func ParseMedia(t testing.TB, b []byte) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("playlist does not parse: %v\n%s", err, b)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("not a media playlist:\n%s", b)
	}
	return m
}
