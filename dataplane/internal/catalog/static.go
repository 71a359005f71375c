package catalog

import (
	"context"
	"fmt"
	"sort"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Static is the catalog of a node with none configured: the streams: list
// of its configuration, read-only.
type Static struct {
	streams map[string]Stream
	names   []string // sorted, for List's cursor
}

// NewStatic builds the catalog from the configuration's list (already
// validated by config.Load). Every stream is at version 1, with the
// defaults of a created stream: the node's ladder, low latency.
func NewStatic(list config.Streams) *Static {
	s := &Static{streams: make(map[string]Stream, len(list))}
	for _, c := range list {
		st := Stream{Name: c.Name, Passphrase: c.Passphrase, Record: c.Record, Version: 1}
		st.normalize()
		s.streams[c.Name] = st
		s.names = append(s.names, c.Name)
	}
	sort.Strings(s.names)
	return s
}

// Get returns the configured stream called name.
func (s *Static) Get(_ context.Context, name string) (Stream, error) {
	st, ok := s.streams[name]
	if !ok {
		return Stream{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return st, nil
}

// List returns up to limit streams after the cursor, by name.
func (s *Static) List(_ context.Context, cursor string, limit int) ([]Stream, string, error) {
	i := sort.SearchStrings(s.names, cursor)
	if i < len(s.names) && s.names[i] == cursor {
		i++
	}
	end := len(s.names)
	if limit > 0 && i+limit < end {
		end = i + limit
	}
	out := make([]Stream, 0, end-i)
	for _, n := range s.names[i:end] {
		out = append(out, s.streams[n])
	}
	next := ""
	if end < len(s.names) {
		next = s.names[end-1]
	}
	return out, next, nil
}

// Create is refused: the list changes with the configuration.
func (s *Static) Create(context.Context, Stream) (Stream, error) { return Stream{}, ErrReadOnly }

// Update is refused: the list changes with the configuration.
func (s *Static) Update(context.Context, Stream) (Stream, error) { return Stream{}, ErrReadOnly }

// Rotate is refused: the list changes with the configuration.
func (s *Static) Rotate(context.Context, string, string) (Stream, error) {
	return Stream{}, ErrReadOnly
}

// Delete is refused: the list changes with the configuration.
func (s *Static) Delete(context.Context, string) error { return ErrReadOnly }
