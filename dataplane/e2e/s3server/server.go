// Package s3server runs a real S3-API server on loopback for tests and
// benchmarks: Versity's versitygw (built by `make versitygw` from the Go
// module proxy) over a temporary directory, with a bucket created. It can be
// stopped and restarted on the same port, so that a test can take S3 away
// for a while and give it back.
package s3server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Credentials and region of the local server: fixed, since it only ever
// listens on loopback.
const (
	AccessKey = "zonecast-local"
	SecretKey = "zonecast-local-secret"
	Region    = "local"
)

// Server is one versitygw process over a directory.
type Server struct {
	Bucket   string
	Endpoint string // http://127.0.0.1:PORT
	Dir      string // the gateway's root: one sub-directory per bucket

	bin    string
	addr   string
	log    string
	region string

	mu   sync.Mutex
	proc testkit.Proc
	logf *os.File
}

// Binary finds the versitygw executable: $VERSITYGW_BIN, else bin/versitygw
// at the repository root (found from the working directory up to go.mod).
// The error says how to build it.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("VERSITYGW_BIN=%s: %v: build it with `make versitygw`", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not found: build it with `make versitygw` (the S3-API server the recording tests use)", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("versitygw not found (no go.mod above the working directory): build it with `make versitygw` or set VERSITYGW_BIN")
		}
		dir = parent
	}
}

// StartT starts a server with one bucket in t.TempDir() and stops it when the
// test ends. A missing binary fails the test loudly, naming the make target.
func StartT(t testing.TB, bucket string) *Server {
	t.Helper()
	s, err := Start(t.TempDir(), bucket)
	if err != nil {
		t.Fatalf("s3server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Options place the server; the zero value is loopback and Region.
type Options struct {
	// Host is the address to listen on: another than loopback for clients
	// in other network namespaces (the rehearsal's nodes).
	Host string
	// Region is the region the server's signatures are checked against:
	// a client configured for a real region signs with that one.
	Region string
}

// Start launches versitygw on a free loopback port over dir and creates the
// bucket through the S3 API.
func Start(dir, bucket string) (*Server, error) { return StartWith(dir, bucket, Options{}) }

// StartWith is Start at opts' address and region.
func StartWith(dir, bucket string, opts Options) (*Server, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Region == "" {
		opts.Region = Region
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := testkit.FreePort(opts.Host)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(port))
	s := &Server{
		Bucket:   bucket,
		Endpoint: "http://" + addr,
		Dir:      filepath.Join(dir, "root"),
		bin:      bin,
		addr:     addr,
		log:      filepath.Join(dir, "versitygw.log"),
		region:   opts.Region,
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		s.Stop()
		return nil, fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return s, nil
}

// Restart starts the process again (after Stop) on the same port and
// directory, and waits until it answers. Starting a running server is a
// no-op.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc.Running() {
		return nil
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin,
		"--access", AccessKey, "--secret", SecretKey, "--region", s.region,
		"--port", s.addr, "--quiet",
		"posix", s.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := s.proc.Start(cmd); err != nil {
		logf.Close()
		return fmt.Errorf("versitygw: %w", err)
	}
	s.logf = logf
	done := s.proc.Exited()
	// Ready when it answers HTTP (403 to an unsigned request is an answer).
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.stopLocked()
			b, _ := os.ReadFile(s.log)
			return fmt.Errorf("versitygw exited at start: %s", b)
		default:
		}
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw did not answer on %s within 15s (log: %s)", s.addr, s.log)
}

// Stop ends the process (SIGKILL: an outage, not a shutdown) and waits for
// it. The data stays in Dir for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	s.proc.Stop(syscall.SIGKILL, 5*time.Second)
	if s.logf != nil {
		s.logf.Close()
		s.logf = nil
	}
}

// Running reports whether the process is up.
func (s *Server) Running() bool { return s.proc.Running() }

// Client is an S3 client for this server (path-style addressing, static
// credentials).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Env is the environment the AWS SDK's default chain reads these credentials
// from (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), as a node would in
// production from its instance role or environment.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     AccessKey,
		"AWS_SECRET_ACCESS_KEY": SecretKey,
	}
}
