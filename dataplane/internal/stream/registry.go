package stream

import (
	"fmt"
	"log/slog"
	"sync"
)

// Registry holds the streams a node knows, in configuration order.
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

// Get returns the stream called name, or nil.
func (r *Registry) Get(name string) *Stream {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.streams[name]
}

// List returns every stream in configuration order.
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
