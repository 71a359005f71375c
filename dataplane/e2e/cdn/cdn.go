// Package cdn runs the local CDN stand-in: varnishd (Debian's varnish) with
// the VCL that provision/global renders from the distribution the global
// stack gives CloudFront, in front of two origins (the origin group's
// primary and secondary). No root is needed: the instance lives in its own
// directory, listens on loopback and runs without Varnish's privilege
// jail. scripts/deps.sh installs varnish.
package cdn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/global"
)

// Options configure a stand-in.
type Options struct {
	// Primary and Secondary are the origins' host:port (plain HTTP).
	Primary, Secondary string
	// Secret is the origin secret the stand-in sends, as CloudFront sends
	// its custom origin header; empty: none.
	Secret string
	// Timings are the policy's (zero: failover.DefaultTimings); the
	// distribution is built from them as the global stack builds it.
	Timings failover.Timings
	// Listen is the viewers' address; default: a free loopback port.
	Listen string
	// Dir holds the instance (VCL, Varnish's working directory); default:
	// a new temporary directory, removed by Stop.
	Dir string
}

// StandIn is one varnishd.
type StandIn struct {
	Addr string // host:port viewers ask
	VCL  string // path of the rendered VCL

	opts    Options
	params  []string
	tempDir bool

	proc testkit.Proc
}

// Varnishd finds varnishd (Debian installs it in /usr/sbin, which a
// non-root PATH may lack), or says how to install it.
func Varnishd() (string, error) {
	if p, err := exec.LookPath("varnishd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/varnishd"); err == nil {
		return "/usr/sbin/varnishd", nil
	}
	return "", errors.New("varnishd not found (Debian package varnish): run `bash scripts/deps.sh`")
}

// Render is the stand-in's VCL and varnishd parameters for opts.
func Render(opts Options) (vcl string, params []string, err error) {
	t := opts.Timings
	if t == (failover.Timings{}) {
		t = failover.DefaultTimings
	}
	// The distribution as the global stack deploys it, shield included.
	d := global.NewDistribution(t).Shielded(global.DefaultOriginShieldRegion)
	vcl, err = d.VCL(global.StandIn{Primary: opts.Primary, Secondary: opts.Secondary, Secret: opts.Secret})
	return vcl, d.VarnishParams(), err
}

// Start renders the VCL and starts varnishd; it returns once the stand-in
// answers.
func Start(opts Options) (*StandIn, error) {
	vcl, params, err := Render(opts)
	if err != nil {
		return nil, err
	}
	s := &StandIn{opts: opts, params: params}
	if opts.Dir == "" {
		if s.opts.Dir, err = os.MkdirTemp("", "zonecast-cdn-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	} else if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	s.VCL = filepath.Join(s.opts.Dir, "zonecast.vcl")
	if err := os.WriteFile(s.VCL, []byte(vcl), 0o600); err != nil { // it holds the secret
		return nil, err
	}
	s.Addr = opts.Listen
	if s.Addr == "" {
		if s.Addr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	if err := s.start(); err != nil {
		s.removeDir()
		return nil, err
	}
	return s, nil
}

// StartT starts a stand-in for the test and stops it when the test ends; a
// missing varnishd fails the test, saying how to install it.
func StartT(t testing.TB, opts Options) *StandIn {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("cdn stand-in: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the stand-in's base URL.
func (s *StandIn) URL() string { return "http://" + s.Addr }

func (s *StandIn) start() error {
	bin, err := Varnishd()
	if err != nil {
		return err
	}
	args := []string{
		"-F",         // in the foreground: this process is its manager
		"-j", "none", // no privilege jail: runs as whoever starts it
		"-n", filepath.Join(s.opts.Dir, "varnish"),
		"-a", s.Addr,
		"-f", s.VCL,
		"-s", "malloc,256m",
		"-p", "vsl_space=16M", // the shared-memory log, small: nobody reads it
		"-p", "thread_pool_min=10",
	}
	for _, p := range s.params {
		args = append(args, "-p", p)
	}
	cmd := exec.Command(bin, args...)
	if err := s.proc.Start(cmd); err != nil {
		return fmt.Errorf("varnishd: %w", err)
	}
	done := s.proc.Exited()

	// Ready when the VCL answers by itself: a method no behaviour allows is
	// refused without asking an origin (so no origin counts a probe).
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second) // VCL compiles with cc
	for time.Now().Before(deadline) {
		if res, err := client.Post(s.URL()+"/", "text/plain", nil); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusForbidden {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("varnishd exited at start; output:\n%s", s.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return fmt.Errorf("varnishd on %s did not come up; output:\n%s", s.Addr, s.Output())
}

// Stop ends varnishd (its cache goes with it) and removes a temporary
// directory.
func (s *StandIn) Stop() {
	s.stop()
	s.removeDir()
}

func (s *StandIn) stop() { s.proc.Stop(syscall.SIGTERM, 10*time.Second) }

func (s *StandIn) removeDir() {
	if s.tempDir {
		os.RemoveAll(s.opts.Dir)
	}
}

// Restart stops varnishd and starts it again on the same address with the
// same VCL: an empty cache, as after a CDN edge's restart.
func (s *StandIn) Restart() error {
	s.stop()
	return s.start()
}

// Pid is varnishd's manager process, whose group holds its worker.
func (s *StandIn) Pid() int { return s.proc.Pid() }

// Output is what varnishd printed.
func (s *StandIn) Output() string { return s.proc.Out.String() }

func freeAddr() (string, error) {
	port, err := testkit.FreePort("127.0.0.1")
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), err
}
