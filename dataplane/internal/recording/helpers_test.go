package recording

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/internal/config"
)

const testBucket = "recordings"

// rig is a recorder writing to a real S3-API server through a proxy that
// logs every request.
type rig struct {
	srv   *s3server.Server
	proxy *requestLog
	rec   *Recorder
	cfg   config.Recording
}

// requestLog is a reverse proxy in front of the S3 server that remembers
// the requests it forwarded, in order.
type requestLog struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // "PUT /bucket/key"
}

func (l *requestLog) puts(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		if strings.HasPrefix(r, "PUT ") && strings.Contains(r, substr) {
			out = append(out, strings.TrimPrefix(r, "PUT /"+testBucket+"/"))
		}
	}
	return out
}

// count is the number of requests of one method.
func (l *requestLog) count(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if strings.HasPrefix(r, method+" ") {
			n++
		}
	}
	return n
}

func newRequestLog(t *testing.T, endpoint string) *requestLog {
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	l := &requestLog{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = nil
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
		l.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(l.Close)
	return l
}

func clientFor(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region: s3server.Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider(s3server.AccessKey, s3server.SecretKey, ""),
		RetryMaxAttempts: 1,
	})
}

// newRig starts an S3 server and a recorder; edit adjusts the recorder's
// configuration and options before it starts.
func newRig(t *testing.T, edit func(*config.Recording, *Options)) *rig {
	t.Helper()
	srv := s3server.StartT(t, testBucket)
	return newRigOn(t, srv, t.TempDir(), edit)
}

// newRigOn starts a recorder (a node) on an existing server and spool.
func newRigOn(t *testing.T, srv *s3server.Server, spool string, edit func(*config.Recording, *Options)) *rig {
	t.Helper()
	proxy := newRequestLog(t, srv.Endpoint)
	cfg := config.Recording{
		Bucket: testBucket, Region: s3server.Region, Endpoint: proxy.URL, Prefix: "rec",
		SpoolDir: spool, SpoolMax: 256 << 20, SpoolMaxAge: time.Hour, IdleClose: time.Minute,
	}
	opts := Options{
		Client:   clientFor(proxy.URL),
		Log:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RetryMax: 200 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg, &opts)
	}
	rec, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Close)
	return &rig{srv: srv, proxy: proxy, rec: rec, cfg: cfg}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// t0 is the wall-clock start of the synthetic streams.
var t0 = time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)

const segDur = 2 * time.Second

// seg makes a synthetic segment: its bytes name it, so a test can tell
// which one an object holds.
func seg(rendition string, msn uint64, pdt time.Time) Segment {
	body := bytes.Repeat([]byte(fmt.Sprintf("%s/%d;", rendition, msn)), 2000)
	return Segment{
		Rendition: rendition, MSN: msn, Duration: segDur, ProgramDateTime: pdt,
		Init: "init0.mp4", InitData: []byte("init-of-" + rendition),
		Data: body, Codecs: []string{"avc1.64001f", "mp4a.40.2"}, Resolution: "1280x720", FrameRate: 30,
	}
}

// writeRun writes segments from..to (inclusive) of each rendition, each
// segment's time following from its number.
func (g *rig) writeRun(stream string, token uint64, from, to uint64, renditions ...string) {
	for msn := from; msn <= to; msn++ {
		for _, r := range renditions {
			g.rec.Write(stream, token, seg(r, msn, t0.Add(time.Duration(msn)*segDur)))
		}
	}
}

func (g *rig) drain(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := g.rec.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// object reads a key of the bucket from the server's directory (versitygw
// keeps each object as a file).
func (g *rig) object(t *testing.T, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(g.file(key))
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	return b
}

func (g *rig) file(key string) string {
	return filepath.Join(g.srv.Dir, testBucket, filepath.FromSlash(key))
}

func (g *rig) recordings(t *testing.T, stream string) []Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	es, err := g.rec.Recordings(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// waitFor polls cond until it holds; the bound is a safety net, not a
// speed assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one sample of the recorder's metrics: a counter or gauge
// value, or a histogram's sample count (name_count) or sum (name_sum).
func metric(t testing.TB, rec *Recorder, name string, labels ...string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(rec)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	base, part := name, ""
	for _, sfx := range []string{"_count", "_sum"} {
		if s, ok := strings.CutSuffix(name, sfx); ok && strings.HasSuffix(s, "_seconds") {
			base, part = s, sfx
		}
	}
	for _, mf := range mfs {
		if mf.GetName() != base {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case part == "_count":
				return float64(m.GetHistogram().GetSampleCount())
			case part == "_sum":
				return m.GetHistogram().GetSampleSum()
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			default:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// readAll reads a whole body (for the S3 client's answers).
func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
