// Package dynalite starts the local DynamoDB-API server (dynalite, from npm,
// in memory) on a free loopback port, for the catalog's tests, benchmarks
// and `make run`. scripts/deps.sh installs it under tools/dynalite.
package dynalite

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Server is one dynalite process. Its tables live in its memory: Stop loses
// them.
type Server struct {
	Host string
	Port int

	proc testkit.Proc
}

// Options tune the server; the zero value is what the tests use.
type Options struct {
	Host string // default 127.0.0.1
	// CreateTableDelay is how long a new table stays CREATING (dynalite's
	// default is 500 ms; AWS takes seconds). Zero means 50 ms: short, but
	// still a state a client must wait out.
	CreateTableDelay time.Duration
}

// repoRoot is where tools/dynalite is looked for (a test moves it).
var repoRoot = testkit.RepoRoot

// Script returns dynalite's entry point, or an error saying how to install it.
func Script() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node not found on PATH: run `bash scripts/deps.sh` (Debian package nodejs)")
	}
	script := filepath.Join(repoRoot(), "tools", "dynalite", "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("dynalite not installed (%s missing): run `bash scripts/deps.sh`", script)
	}
	return script, nil
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
	if err := s.proc.Start(cmd); err != nil {
		return fmt.Errorf("dynalite: %w", err)
	}
	done := s.proc.Exited()

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
func (s *Server) Stop() { s.proc.Stop(syscall.SIGKILL, 5*time.Second) }

// Restart starts a stopped server again on the same port, empty.
func (s *Server) Restart() error {
	s.Stop()
	return s.start(Options{Host: s.Host})
}

// Output is what the server printed.
func (s *Server) Output() string {
	return strings.TrimSpace(s.proc.Out.String())
}
