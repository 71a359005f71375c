package recording

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Recording states.
const (
	StateRecording = "recording"
	StateReady     = "ready"
)

// Entry is one recording in a stream's index: what
// GET /api/v1/streams/{name}/recordings lists.
type Entry struct {
	ID              string    `json:"id"`
	State           string    `json:"state"` // recording or ready
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	Gaps            []Gap     `json:"gaps"`
	// URL is the multivariant VOD playlist, which the edge serves from
	// the bucket.
	URL string `json:"url"`
}

// index is a stream's list of recordings, oldest first, kept in the bucket
// so that any node can list it. Only the stream's leader writes it (fenced).
type index struct {
	Stream     string  `json:"stream"`
	Recordings []Entry `json:"recordings"`
}

func (u *uploader) readIndex(ctx context.Context) (*index, error) {
	b, found, err := u.rec.bucket.get(ctx, u.rec.keys.Index(u.stream))
	if err != nil {
		return nil, err
	}
	idx := &index{Stream: u.stream}
	if found {
		if err := json.Unmarshal(b, idx); err != nil {
			return nil, fmt.Errorf("index %s: %w", u.rec.keys.Index(u.stream), err)
		}
	}
	return idx, nil
}

// saveEntry writes e into the stream's index (read, replace by id or
// append, write).
func (u *uploader) saveEntry(ctx context.Context, e Entry) error {
	idx, err := u.readIndex(ctx)
	if err != nil {
		return err
	}
	if e.Gaps == nil {
		e.Gaps = []Gap{}
	}
	replaced := false
	for i := range idx.Recordings {
		if idx.Recordings[i].ID == e.ID {
			idx.Recordings[i], replaced = e, true
		}
	}
	if !replaced {
		idx.Recordings = append(idx.Recordings, e)
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return u.rec.bucket.put(ctx, u.rec.keys.Index(u.stream), "application/json", b, nil)
}

// newID names a recording after the instant its first segment starts
// (sortable, readable in a URL), unique in the stream's index.
func newID(start time.Time, idx *index) string {
	base := start.UTC().Format("20060102T150405Z")
	id := base
	for n := 2; ; n++ {
		taken := false
		for _, e := range idx.Recordings {
			taken = taken || e.ID == id
		}
		if !taken {
			return id
		}
		id = fmt.Sprintf("%s-%d", base, n)
	}
}
