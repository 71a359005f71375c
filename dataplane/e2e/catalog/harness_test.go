// Package catalog_test runs the edge daemon against the local DynamoDB-API
// server (dynalite) and real publishers (ffmpeg over libsrt): streams
// created, deleted and rotated through the control API, and the catalog
// going away.
package catalog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

var edgeBin string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "zonecast-catalog-e2e-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(tmp)
		if edgeBin, err = testkit.EdgeBinary(tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

const adminToken = "an-admin-token"

var tables atomic.Int64

// table is a fresh catalog table on server, shared by the nodes given it.
type table struct {
	server *dynalite.Server
	name   string
}

func newTable(t *testing.T) table {
	return table{server: dynalite.StartT(t), name: fmt.Sprintf("zonecast-streams-%d", tables.Add(1))}
}

// edge is one running edge daemon.
type edge struct {
	t        *testing.T
	id       string
	srtAddr  string
	httpURL  string
	adminURL string
	proc     testkit.Proc
}

// clusterOpts makes the node a member of a twin-zone cluster.
type clusterOpts struct {
	zone      string
	sentinels []string
	certs     string
}

func freeAddr(t *testing.T, udp bool) string {
	t.Helper()
	var port int
	var err error
	if udp {
		port, err = testkit.FreeDualPort("127.0.0.1")
	} else {
		port, err = testkit.FreePort("127.0.0.1")
	}
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// startEdge runs a node reading its streams from tb, with the contract's
// admin and catalog sections.
func startEdge(t *testing.T, id string, tb table, cl *clusterOpts) *edge {
	t.Helper()
	return startEdgeWith(t, id, tb, cl, "")
}

// startEdgeWith is startEdge with more configuration sections (YAML).
func startEdgeWith(t *testing.T, id string, tb table, cl *clusterOpts, extra string) *edge {
	t.Helper()
	testkit.RequireTools(t, "ffmpeg")
	e := &edge{t: t, id: id, srtAddr: freeAddr(t, true)}
	httpAddr, adminAddr := freeAddr(t, false), freeAddr(t, false)
	e.httpURL, e.adminURL = "http://"+httpAddr, "http://"+adminAddr
	zone := "a"
	if cl != nil {
		zone = cl.zone
	}
	var y strings.Builder
	fmt.Fprintf(&y, `node: {id: %s, region: local, zone: %s}
srt: {listen: %q}
http: {listen: %q, web_dir: %q}
hls: {segment_duration: 1s, part_duration: 200ms}
admin: {listen: %q, token: %q}
catalog:
  dynamodb: {table: %s, region: local, endpoint: %q, create_table: true}
log: {level: info}
`, id, zone, e.srtAddr, httpAddr, filepath.Join(testkit.RepoRoot(), "web"), adminAddr, adminToken, tb.name, tb.server.Endpoint())
	y.WriteString(extra)
	if cl != nil {
		fmt.Fprintf(&y, `cluster:
  quic: {listen: %q}
  tls: {ca: %s/ca.pem, cert: %s/%s.pem, key: %s/%s-key.pem}
  redis: {sentinels: ["%s"], master: zonecast}
  viewers: {proxy: true}
`, freeAddr(t, true), cl.certs, cl.certs, id, cl.certs, id, strings.Join(cl.sentinels, `", "`))
	}
	cfg := filepath.Join(t.TempDir(), id+".yaml")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(edgeBin, "-config", cfg)
	if err := e.proc.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("edge %s log:\n%s", id, e.proc.Out.String())
		}
	})
	e.waitFor("/readyz on "+id, 20*time.Second, func() bool {
		resp, err := http.Get(e.httpURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return e
}

func (e *edge) stop() { e.proc.Stop(syscall.SIGTERM, 5*time.Second) }

// kill is a node's sudden death.
func (e *edge) kill() { e.proc.Stop(syscall.SIGKILL, 5*time.Second) }

func (e *edge) log() string { return e.proc.Out.String() }

func (e *edge) waitFor(what string, timeout time.Duration, ok func() bool) {
	e.t.Helper()
	waitFor(e.t, what, timeout, ok)
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api calls the control API with the admin token; the answer is decoded
// into out when given.
func (e *edge) api(method, path string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.adminURL+path, r)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// created is the answer to a creation or a rotation.
type created struct {
	Name       string            `json:"name"`
	Passphrase string            `json:"passphrase"`
	URLs       map[string]string `json:"urls"`
}

func (e *edge) create(name string) created {
	e.t.Helper()
	var c created
	if code := e.api("POST", "/api/v1/streams", map[string]any{"name": name}, &c); code != http.StatusCreated {
		e.t.Fatalf("create %s: %d", name, code)
	}
	if len(c.Passphrase) != 32 || !strings.Contains(c.URLs["publish"], "passphrase="+c.Passphrase) {
		e.t.Fatalf("create %s answered %+v", name, c)
	}
	return c
}

// state is the stream's live state on this node ("" when not listed).
func (e *edge) state(name string) string {
	var row map[string]any
	if code := e.api("GET", "/api/v1/streams/"+name, nil, &row); code != 200 {
		return ""
	}
	s, _ := row["state"].(string)
	return s
}

// playlist is the HTTP status of the stream's LL-HLS playlist here.
func (e *edge) playlist(name string) int {
	resp, err := http.Get(e.httpURL + "/live/" + name + "/source/index.m3u8")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric reads one value of the node's /metrics (on the admin listener).
func (e *edge) metric(line string) float64 {
	e.t.Helper()
	resp, err := http.Get(e.adminURL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, line+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// srtURL is the libsrt caller URL of this node for name with key.
func (e *edge) srtURL(name, key string) string {
	u := "srt://" + e.srtAddr + "?streamid=publish:" + name
	if key != "" {
		u += "&passphrase=" + key + "&pbkeylen=16"
	}
	return u
}

// handshake connects as a publisher (Go's SRT caller, to time the answer
// exactly) and leaves at once: nil when accepted, else the rejection.
func (e *edge) handshake(name, key string) error {
	cfg := gosrt.DefaultConfig()
	cfg.StreamId = "publish:" + name
	cfg.Passphrase = key
	cfg.ConnectionTimeout = time.Second
	c, err := gosrt.Dial("srt", e.srtAddr, cfg)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// rejected reports whether err is an SRT rejection with reason.
func rejected(err error, reason gosrt.RejectionReason) bool {
	// gosrt writes the reason in base 32.
	return err != nil && strings.Contains(err.Error(), "REJECT ("+strconv.FormatUint(uint64(reason), 32)+")")
}

// publisher is a real ffmpeg (libsrt) broadcaster.
type publisher struct {
	cmd  *exec.Cmd
	out  testkit.Output
	done chan struct{}
}

// publish starts a live test pattern to url; it ends with the test.
func publish(t *testing.T, url string) *publisher {
	t.Helper()
	p := &publisher{done: make(chan struct{})}
	p.cmd = exec.Command("ffmpeg", "-hide_banner", "-loglevel", "warning", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-b:v", "400k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", url)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("ffmpeg to %s:\n%s", url, p.out.String())
		}
	})
	return p
}

func (p *publisher) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *publisher) stop() {
	if p.running() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}
