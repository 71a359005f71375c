package viewers

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// What a viewer reads from a media playlist: the parts it lists, when each
// became available, and the part its preload hint names.

// Position names one part: its segment's media sequence number and its
// index in that segment.
type Position struct {
	MSN  int
	Part int
}

func (p Position) before(o Position) bool {
	return p.MSN < o.MSN || p.MSN == o.MSN && p.Part < o.Part
}

// part is one listed part and the moment it became available.
type part struct {
	pos       Position
	uri       string
	available time.Time
}

// Availability is defined from the origin's side: a part is available when
// the media it ends with has happened on the packager's clock, that is its
// segment's EXT-X-PROGRAM-DATE-TIME (which the packager anchors to the
// wall clock at which the session's first frame arrived) plus the
// durations of the segment's parts up to and including it. The packager
// publishes a part once its last frame has arrived, so a lone viewer's
// blocking reload returns close to this instant; what load adds comes on
// top.
func listedParts(m *playlist.Media) ([]part, error) {
	var out []part
	var next time.Time // where the previous segment ended
	add := func(msn int, start *time.Time, parts []*playlist.MediaPart) time.Time {
		t := next
		if start != nil {
			t = *start
		}
		for i, p := range parts {
			t = t.Add(p.Duration)
			out = append(out, part{pos: Position{msn, i}, uri: p.URI, available: t})
		}
		return t
	}
	for i, s := range m.Segments {
		if s.DateTime == nil && next.IsZero() {
			return nil, errors.New("playlist's first segment has no EXT-X-PROGRAM-DATE-TIME")
		}
		start := next
		if s.DateTime != nil {
			start = *s.DateTime
		}
		add(m.MediaSequence+i, &start, s.Parts)
		next = start.Add(s.Duration)
	}
	// The open segment starts where the last complete one ended.
	add(m.MediaSequence+len(m.Segments), nil, m.Parts)
	return out, nil
}

// hintName is how the edge names a part: part<MSN>.<index>.m4s.
var hintName = regexp.MustCompile(`(\d+)\.(\d+)\.m4s$`)

// hinted is the part EXT-X-PRELOAD-HINT names.
func hinted(m *playlist.Media) (Position, error) {
	if m.PreloadHint == nil {
		return Position{}, errors.New("playlist has no EXT-X-PRELOAD-HINT")
	}
	g := hintName.FindStringSubmatch(m.PreloadHint.URI)
	if g == nil {
		return Position{}, fmt.Errorf("preload hint %q is not named part<MSN>.<index>.m4s", m.PreloadHint.URI)
	}
	msn, _ := strconv.Atoi(g[1])
	idx, _ := strconv.Atoi(g[2])
	return Position{msn, idx}, nil
}

// NewestAvailable is when the newest part a playlist lists became
// available (see listedParts).
func NewestAvailable(m *playlist.Media) (time.Time, error) {
	parts, err := listedParts(m)
	if err != nil {
		return time.Time{}, err
	}
	if len(parts) == 0 {
		return time.Time{}, errors.New("no part listed")
	}
	return parts[len(parts)-1].available, nil
}
