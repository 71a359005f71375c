// Package redistest starts real redis-server and redis-sentinel processes on
// free loopback ports for tests and for the local twin-zone set-up: a primary,
// a replica and three sentinels, with Sentinel's down-after taken from
// policies/failover.
package redistest

import (
	"context"
	"fmt"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Server is one redis-server or redis-sentinel process that can be killed,
// frozen and restarted on the same port and directory.
type Server struct {
	Name   string
	Host   string
	Port   int
	Dir    string
	binary string
	conf   string // path of the config file

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  testkit.Output
}

// Addr is the server's loopback address.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Start launches the process and waits until its port accepts connections.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return fmt.Errorf("%s already running", s.Name)
	}
	cmd := exec.Command(s.binary, s.conf)
	cmd.Dir = s.Dir
	cmd.Stdout = &s.out
	cmd.Stderr = cmd.Stdout
	// Own process group: a test's SIGINT does not reach it, Close does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start %s: %w", s.Name, err)
	}
	s.cmd = cmd
	done := make(chan struct{})
	s.done = done
	s.mu.Unlock()
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited at start; output:\n%s", s.Name, s.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s on %s did not come up; output:\n%s", s.Name, s.Addr(), s.Output())
}

// Kill sends SIGKILL and waits for the port to close.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a frozen process must die too
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// Freeze sends SIGSTOP; Thaw sends SIGCONT.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen process.
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Running reports whether the process was started and not killed.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Output is what the process printed (its log).
func (s *Server) Output() string {
	return s.out.String()
}

func writeConf(dir, name, body string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(body), 0o600)
}

// waitFor polls cond until it returns nil or the context ends.
func waitFor(ctx context.Context, what string, cond func(context.Context) error) error {
	var last error
	for {
		if last = cond(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
