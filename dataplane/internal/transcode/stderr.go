package transcode

import (
	"strings"
	"sync"
)

// stderrTail keeps the last bytes ffmpeg wrote to stderr, to explain a
// failure without letting a chatty ffmpeg grow memory or flood the log.
type stderrTail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newStderrTail(max int) *stderrTail { return &stderrTail{max: max} }

func (s *stderrTail) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if over := len(s.buf) - s.max; over > 0 {
		s.buf = append(s.buf[:0], s.buf[over:]...)
	}
	return len(p), nil
}

// lines returns the last n lines.
func (s *stderrTail) lines(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := strings.Split(strings.TrimSpace(string(s.buf)), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}
