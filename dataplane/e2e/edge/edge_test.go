package edge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// edgeProc is a running edge daemon.
type edgeProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	log     *lockedBuffer
	srtAddr string
	httpURL string
	done    chan struct{}
}

type streamDef struct{ name, passphrase string }

var contractStreams = []streamDef{{"cam1", "correct-horse-battery"}, {"cam2", "second-camera-pass"}}

// freeUDPPort and freeTCPPort find ports on loopback for one test's edge.
func freeUDPPort(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

func freeTCPPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// readinessClient and readinessScheme reach /readyz (TLS tests swap them).
var (
	readinessClient = http.DefaultClient
	readinessScheme = "http://"
)

// startEdge runs the daemon with the contract file's layout on free ports;
// extra YAML is appended, flags are added to the command line.
func startEdge(t *testing.T, streams []streamDef, extra string, flags ...string) *edgeProc {
	t.Helper()
	srtAddr, httpAddr := freeUDPPort(t), freeTCPPort(t)
	var y strings.Builder
	fmt.Fprintf(&y, "node: {id: e2e, region: local, zone: a}\nsrt: {listen: %q}\nhttp: {listen: %q, web_dir: %q}\nstreams:\n", srtAddr, httpAddr, webDir)
	for _, s := range streams {
		fmt.Fprintf(&y, "  - {name: %s, passphrase: %q}\n", s.name, s.passphrase)
	}
	y.WriteString(extra)
	cfgFile := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(cfgFile, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &edgeProc{t: t, log: &lockedBuffer{}, srtAddr: srtAddr, httpURL: readinessScheme + httpAddr, done: make(chan struct{})}
	e.cmd = exec.Command(edgeBin, append([]string{"-config", cfgFile}, flags...)...)
	e.cmd.Stdout = e.log
	e.cmd.Stderr = e.log
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(5 * time.Second):
			e.cmd.Process.Kill()
			<-e.done
		}
		if t.Failed() {
			t.Logf("edge log:\n%s", e.log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := readinessClient.Get(e.httpURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return e
			}
		}
		select {
		case <-e.done:
			t.Fatalf("edge exited at start:\n%s", e.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("edge not ready:\n%s", e.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive fails the test if the daemon died.
func (e *edgeProc) alive() {
	e.t.Helper()
	select {
	case <-e.done:
		e.t.Fatalf("edge died:\n%s", e.log.String())
	default:
	}
}

// srtURL is a libsrt caller URL for stream with passphrase (may be "").
func (e *edgeProc) srtURL(streamID, passphrase string, keylen int) string {
	u := "srt://" + e.srtAddr + "?streamid=" + streamID
	if passphrase != "" {
		u += fmt.Sprintf("&passphrase=%s&pbkeylen=%d", passphrase, keylen)
	}
	return u
}

// logMark is the current end of the log, for waitLogAfter.
func (e *edgeProc) logMark() int { return len(e.log.String()) }

// waitLogAfter waits for a line written after mark containing every part.
func (e *edgeProc) waitLogAfter(mark int, timeout time.Duration, parts ...string) string {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range strings.Split(e.log.String()[mark:], "\n") {
			ok := true
			for _, p := range parts {
				if !strings.Contains(line, p) {
					ok = false
					break
				}
			}
			if ok {
				return line
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no log line with %q in:\n%s", parts, e.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type apiStream struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	Publisher string `json:"publisher"`
	Bitrate   int64  `json:"bitrate"`
}

func (e *edgeProc) streams() map[string]apiStream {
	e.t.Helper()
	resp, err := http.Get(e.httpURL + "/api/v1/streams")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []apiStream
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]apiStream{}
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

func (e *edgeProc) waitState(name, state string, timeout time.Duration) apiStream {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if s := e.streams()[name]; s.State == state {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("stream %s never became %s: %+v\n%s", name, state, e.streams(), e.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *edgeProc) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.httpURL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// proc is a helper process (publisher, reader) killed at cleanup.
type proc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

func startProc(t *testing.T, ctx context.Context, name string, args ...string) *proc {
	t.Helper()
	p := &proc{out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process group at once (a publisher "vanishing").
func (p *proc) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// publishFile loops the fixture into the edge with -c copy, in real time.
func publishFile(t *testing.T, ctx context.Context, url string) *proc {
	return startProc(t, ctx, "ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostdin", "-re", "-stream_loop", "-1", "-i", fixture,
		"-c", "copy", "-f", "mpegts", url)
}

// publishLive encodes a live test pattern with libx264 (what `make run` does, smaller).
func publishLive(t *testing.T, ctx context.Context, url string) *proc {
	return startProc(t, ctx, "ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "800k", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "mpegts", url)
}
