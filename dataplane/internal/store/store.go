// Package store keeps a stream's media objects (init segments, segments,
// parts) in memory, bounded by what the packager keeps in its window, with an
// optional copy in a directory.
package store

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Object is one immutable stored object. How it is served (its content type,
// its caching) is the packager's decision, not the store's.
type Object struct {
	Name    string
	Data    []byte
	ModTime time.Time
	// ETag is a strong validator from the content (length and CRC-32C,
	// hardware-accelerated: a cryptographic hash would cost more than the
	// packaging itself). Names can be reused after a restart or by another
	// node, so the name alone would not do.
	ETag string
}

// Store holds the objects of one stream. It is safe for concurrent use.
type Store struct {
	dir string // "" when memory only; else <Dir>/<stream>

	mu      sync.RWMutex
	objects map[string]*Object
	bytes   int
}

// New creates a store. dir may be empty (memory only); otherwise objects are
// also written under dir/stream.
func New(dir, stream string) (*Store, error) {
	s := &Store{objects: make(map[string]*Object)}
	if dir != "" {
		if stream == "" || strings.ContainsAny(stream, `/\`) || stream == "." || stream == ".." {
			return nil, fmt.Errorf("store: bad stream name %q", stream)
		}
		s.dir = filepath.Join(dir, stream)
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return s, nil
}

// Put stores data under name (it must not be modified afterwards). A failed
// disk write is returned but the object is kept in memory regardless.
func (s *Store) Put(name string, data []byte) error {
	o := &Object{
		Name:    name,
		Data:    data,
		ModTime: time.Now(),
		ETag:    fmt.Sprintf(`"%x-%08x"`, len(data), crc32.Checksum(data, castagnoli)),
	}
	s.mu.Lock()
	if old := s.objects[name]; old != nil {
		s.bytes -= len(old.Data)
	}
	s.objects[name] = o
	s.bytes += len(data)
	s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	return s.writeFile(name, data)
}

func (s *Store) writeFile(name string, data []byte) error {
	p := filepath.Join(s.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Get returns the named object.
func (s *Store) Get(name string) (*Object, bool) {
	s.mu.RLock()
	o, ok := s.objects[name]
	s.mu.RUnlock()
	return o, ok
}

// Delete removes objects (memory and disk).
func (s *Store) Delete(names ...string) {
	s.mu.Lock()
	for _, n := range names {
		if o := s.objects[n]; o != nil {
			s.bytes -= len(o.Data)
			delete(s.objects, n)
		}
	}
	s.mu.Unlock()
	if s.dir != "" {
		for _, n := range names {
			_ = os.Remove(filepath.Join(s.dir, filepath.FromSlash(n)))
		}
	}
}

// Len is the number of objects held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.objects)
}

// Bytes is the memory the objects' data takes.
func (s *Store) Bytes() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bytes
}
