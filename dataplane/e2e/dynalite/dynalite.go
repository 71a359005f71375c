// Package dynalite starts the local DynamoDB-API server (dynalite, from npm,
// in memory) on a free loopback port, for the catalog's tests, benchmarks
// and `make run`. scripts/deps.sh installs it under tools/dynalite.
package dynalite

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one dynalite process. Its tables live in its memory: Stop loses
// them.
type Server struct {
	Host string
	Port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  testkit.Output
}

// Options tune the server; the zero value is what the tests use.
type Options struct {
	Host string // default 127.0.0.1
	// CreateTableDelay is how long a new table stays CREATING (dynalite's
	// default is 500 ms; AWS takes seconds). Zero means 50 ms: short, but
	// still a state a client must wait out.
	CreateTableDelay time.Duration
}

// Script returns dynalite's entry point, or an error saying how to install it.
func Script() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node not found on PATH: run `bash scripts/deps.sh` (Debian package nodejs)")
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "tools", "dynalite", "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("dynalite not installed (%s missing): run `bash scripts/deps.sh`", script)
	}
	return script, nil
}

// repoRoot walks up from the working directory to zonecast's go.mod: tests
// run in their package's directory, commands from the root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/zonecast/zonecast\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dynalite: not inside the zonecast repository (no go.mod found above the working directory)")
		}
		dir = parent
	}
}

// Start launches dynalite and waits until it answers.
func Start(opts Options) (*Server, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	port, err := testkit.FreePort(opts.Host)
	if err != nil {
		return nil, err
	}
	s := &Server{Host: opts.Host, Port: port}
	return s, s.start(opts)
}

// StartT starts a server for the test and stops it when the test ends. A
// missing dynalite fails the test, saying how to install it.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start(Options{})
	if err != nil {
		t.Fatalf("dynalite: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Endpoint is the URL a DynamoDB client is given.
func (s *Server) Endpoint() string {
	return "http://" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

func (s *Server) start(opts Options) error {
	script, err := Script()
	if err != nil {
		return err
	}
	delay := opts.CreateTableDelay
	if delay == 0 {
		delay = 50 * time.Millisecond
	}
	ms := strconv.FormatInt(delay.Milliseconds(), 10)
	cmd := exec.Command("node", script, "--host", s.Host, "--port", strconv.Itoa(s.Port),
		"--createTableMs", ms, "--deleteTableMs", ms, "--updateTableMs", ms)
	cmd.Stdout = &s.out
	cmd.Stderr = cmd.Stdout
	// Own process group, so a test's SIGINT does not reach it, and killed
	// with its parent, so no server outlives a crashed test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s.mu.Lock()
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start dynalite: %w", err)
	}
	done := make(chan struct{})
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	go func() { _ = cmd.Wait(); close(done) }()

	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("dynalite exited at start; output:\n%s", s.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Stop()
	return fmt.Errorf("dynalite on %s did not come up; output:\n%s", addr, s.Output())
}

// Stop kills the server and waits until its port is closed. The tables are
// gone with it.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// Restart starts a stopped server again on the same port, empty.
func (s *Server) Restart() error {
	s.Stop()
	return s.start(Options{Host: s.Host})
}

// Output is what the server printed.
func (s *Server) Output() string {
	return strings.TrimSpace(s.out.String())
}
