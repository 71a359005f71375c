// Package srt is the SRT ingest: a gosrt listener that admits publishers by
// streamid and passphrase and feeds their TS into the stream fan-out.
package srt

import (
	"errors"
	"fmt"
	"strings"
)

// StreamID is a parsed SRT streamid.
type StreamID struct {
	Resource string // the stream name ("r" key, or the bare form)
	Mode     string // "publish", "request" or "bidirectional"
	User     string // "u" key, informational
	Session  string // "s" key, informational
	Type     string // "t" key ("stream" when absent)
}

// Streamid modes.
const (
	ModePublish       = "publish"
	ModeRequest       = "request"
	ModeBidirectional = "bidirectional"
)

// accessControlPrefix starts a streamid in SRT's access-control syntax.
const accessControlPrefix = "#!::"

// Parse errors.
var (
	ErrEmptyStreamID = errors.New("empty streamid")
	ErrBadStreamID   = errors.New("malformed streamid")
)

// ParseStreamID reads either SRT's access-control syntax
// (`#!::r=cam1,m=publish,u=alice,s=xyz`) or the bare `cam1` form. In the
// access-control form keys are tolerated whether known or not; a missing
// m means publish (this listener only ingests, so it is the only useful mode;
// libsrt's documented default is request, which is why an explicit
// m=request is refused rather than guessed). The bare form is a stream name,
// also accepted as "publish:cam1" and "live/cam1" (common encoder presets).
func ParseStreamID(s string) (StreamID, error) {
	if s == "" {
		return StreamID{}, ErrEmptyStreamID
	}
	id := StreamID{Mode: ModePublish, Type: "stream"}
	if !strings.HasPrefix(s, accessControlPrefix) {
		name := s
		if rest, ok := strings.CutPrefix(name, "publish:"); ok {
			name = rest
		}
		name = strings.TrimPrefix(name, "live/")
		if !plausibleName(name) {
			return StreamID{}, fmt.Errorf("%w: %q is neither #!::r=<stream>,m=publish nor a stream name", ErrBadStreamID, s)
		}
		id.Resource = name
		return id, nil
	}
	body := s[len(accessControlPrefix):]
	seen := map[string]bool{}
	for _, pair := range strings.Split(body, ",") {
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return StreamID{}, fmt.Errorf("%w: %q is not key=value", ErrBadStreamID, pair)
		}
		if seen[k] {
			return StreamID{}, fmt.Errorf("%w: key %q repeated", ErrBadStreamID, k)
		}
		seen[k] = true
		switch k {
		case "r":
			id.Resource = v
		case "m":
			switch v {
			case ModePublish, ModeRequest, ModeBidirectional:
				id.Mode = v
			default:
				return StreamID{}, fmt.Errorf("%w: unknown mode m=%q", ErrBadStreamID, v)
			}
		case "u":
			id.User = v
		case "s":
			id.Session = v
		case "t":
			id.Type = v
		default:
			// h (host) and application keys are tolerated and ignored.
		}
	}
	if id.Resource == "" {
		return StreamID{}, fmt.Errorf("%w: no resource (r=<stream>) in %q", ErrBadStreamID, s)
	}
	return id, nil
}

// plausibleName rejects what cannot be a stream name (control characters,
// separators) so that garbage gets "malformed" rather than "unknown".
func plausibleName(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(",=/#?&", r) {
			return false
		}
	}
	return true
}
