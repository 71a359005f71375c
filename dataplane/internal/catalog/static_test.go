package catalog

import (
	"context"
	"errors"
	"testing"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// The contract configuration's list is a catalog as it stands.
func TestStatic(t *testing.T) {
	ctx := context.Background()
	s := NewStatic(config.Streams{
		{Name: "cam2", Passphrase: "second-camera-pass"},
		{Name: "cam1", Passphrase: "correct-horse-battery", Record: true},
		{Name: "open"},
	})
	gets := []struct {
		name    string
		want    Stream
		wantErr error
	}{
		{"cam1", Stream{Name: "cam1", Passphrase: "correct-horse-battery", Record: true, Latency: LatencyLow, Version: 1}, nil},
		{"open", Stream{Name: "open", Latency: LatencyLow, Version: 1}, nil},
		{"cam3", Stream{}, ErrNotFound},
	}
	for _, g := range gets {
		got, err := s.Get(ctx, g.name)
		if !errors.Is(err, g.wantErr) || got.Name != g.want.Name || got.Passphrase != g.want.Passphrase || got.Record != g.want.Record || got.Latency != g.want.Latency || got.Version != g.want.Version {
			t.Errorf("Get(%s) = %+v, %v; want %+v, %v", g.name, got, err, g.want, g.wantErr)
		}
		if err == nil {
			if verr := got.Validate(); verr != nil {
				t.Errorf("Get(%s) is not a valid stream: %v", g.name, verr)
			}
		}
	}
	pages := []struct {
		cursor string
		limit  int
		names  []string
		next   string
	}{
		{"", 0, []string{"cam1", "cam2", "open"}, ""},
		{"", 2, []string{"cam1", "cam2"}, "cam2"},
		{"cam2", 2, []string{"open"}, ""},
		{"open", 2, []string{}, ""},
	}
	for _, p := range pages {
		got, next, err := s.List(ctx, p.cursor, p.limit)
		var names []string
		for _, st := range got {
			names = append(names, st.Name)
		}
		if err != nil || next != p.next || len(names) != len(p.names) || (len(names) > 0 && names[0] != p.names[0]) {
			t.Errorf("List(%q, %d) = %v %q %v, want %v %q", p.cursor, p.limit, names, next, err, p.names, p.next)
		}
	}
	writes := []struct {
		name string
		err  error
	}{
		{"create", func() error { _, err := s.Create(ctx, Stream{Name: "new"}); return err }()},
		{"update", func() error { _, err := s.Update(ctx, Stream{Name: "cam1"}); return err }()},
		{"rotate", func() error { _, err := s.Rotate(ctx, "cam1", "another-passphrase"); return err }()},
		{"delete", s.Delete(ctx, "cam1")},
	}
	for _, w := range writes {
		if !errors.Is(w.err, ErrReadOnly) {
			t.Errorf("%s: %v, want ErrReadOnly", w.name, w.err)
		}
	}
}
