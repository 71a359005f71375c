package stream

import (
	"fmt"
	"log/slog"
	"sync"
)

// Registry holds the streams a node knows, in the order they were added.
type Registry struct {
	log *slog.Logger

	mu      sync.RWMutex
	streams map[string]*Stream
	order   []*Stream
}

// NewRegistry returns an empty registry.
func NewRegistry(log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{log: log, streams: make(map[string]*Stream)}
}

// Add creates the stream called name.
func (r *Registry) Add(name string) (*Stream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.streams[name]; ok {
		return nil, fmt.Errorf("stream %q exists", name)
	}
	s := newStream(name, r.log)
	r.streams[name] = s
	r.order = append(r.order, s)
	return s, nil
}

// Remove forgets the stream called name and returns it (nil when unknown).
// Its publisher, if any, is the caller's to end (Stream.End).
func (r *Registry) Remove(name string) *Stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.streams[name]
	if s == nil {
		return nil
	}
	delete(r.streams, name)
	for i, x := range r.order {
		if x == s {
			r.order = append(r.order[:i:i], r.order[i+1:]...)
			break
		}
	}
	return s
}

// Get returns the stream called name, or nil.
func (r *Registry) Get(name string) *Stream {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.streams[name]
}

// List returns every stream in the order they were added.
func (r *Registry) List() []*Stream {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]*Stream(nil), r.order...)
}

// Statuses reports every stream's status (the /api/v1/streams body).
func (r *Registry) Statuses() []Status {
	list := r.List()
	out := make([]Status, len(list))
	for i, s := range list {
		out[i] = s.Status()
	}
	return out
}
