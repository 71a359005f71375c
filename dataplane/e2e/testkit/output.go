package testkit

import (
	"bytes"
	"sync"
)

// Output collects what a child process prints, from any goroutine, keeping
// about the last MiB so that a long run cannot grow without bound.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len() > 1<<20 {
		o.buf.Reset()
	}
	return o.buf.Write(p)
}

// String is what was kept.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
