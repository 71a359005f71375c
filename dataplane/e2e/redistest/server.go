// Package redistest starts real redis-server and redis-sentinel processes on
// free loopback ports for tests and for the local twin-zone set-up: a primary,
// a replica and three sentinels, with Sentinel's down-after taken from
// policies/failover.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
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

	proc testkit.Proc
}

// Addr is the server's loopback address.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Start launches the process and waits until its port accepts connections.
func (s *Server) Start() error {
	cmd := exec.Command(s.binary, s.conf)
	cmd.Dir = s.Dir
	if err := s.proc.Start(cmd); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	done := s.proc.Exited()
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

// Kill sends SIGKILL (to a frozen process too) and waits for it to end.
func (s *Server) Kill() { s.proc.Stop(syscall.SIGKILL, 5*time.Second) }

// Freeze sends SIGSTOP.
func (s *Server) Freeze() { s.proc.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen process.
func (s *Server) Thaw() { s.proc.Signal(syscall.SIGCONT) }

// Running reports whether the process was started and not killed.
func (s *Server) Running() bool { return s.proc.Running() }

// Output is what the process printed (its log).
func (s *Server) Output() string { return s.proc.Out.String() }

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
