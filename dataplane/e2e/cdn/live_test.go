package cdn

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/origin"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/policies/failover"
)

// The secrets the edges accept (a rotation under way) and one retired.
const (
	secretHeader   = "X-Origin-Secret"
	currentSecret  = "current-origin-secret"
	previousSecret = "previous-origin-secret"
	retiredSecret  = "retired-origin-secret"
)

// Fault modes of an edge.
const (
	healthy int32 = iota
	failing       // answers 503, as a draining or restarting edge
	frozen        // accepts and never answers, as a SIGSTOPped node
)

// edge is one origin: the real origin server and packager, fed live, that
// counts every request it gets by path and query, and can fail.
type edge struct {
	name   string
	server *origin.Server
	stream *packager.Muxer
	mode   atomic.Int32

	mu      sync.Mutex
	fetches map[string]int // "source/seg3.m4s", "source/index.m3u8?_HLS_msn=3&_HLS_part=1"
	refused map[string]int // 403s by kind
}

func (e *edge) ObserveRequest(kind string, code int) {
	if code == http.StatusForbidden {
		e.mu.Lock()
		e.refused[kind]++
		e.mu.Unlock()
	}
}

func (e *edge) count(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fetches[key]
}

func (e *edge) refusals(kind string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refused[kind]
}

func (e *edge) addr() string { return e.server.Addr().String() }

func newEdge(t *testing.T, name string) *edge {
	t.Helper()
	e := &edge{name: name, fetches: map[string]int{}, refused: map[string]int{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t2 := failover.DefaultTimings
	e.stream = packager.NewMuxer("cam1", packager.Config{SegmentDuration: t2.SegmentDuration, PartDuration: t2.PartDuration}, log)
	t.Cleanup(e.stream.Close)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/")
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		e.mu.Lock()
		e.fetches[key]++
		e.mu.Unlock()
		switch e.mode.Load() {
		case failing:
			packager.ServeError(w, "draining", http.StatusServiceUnavailable)
		case frozen:
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			e.stream.ServeHTTP(w, r)
		}
	})
	srv, err := origin.Listen(origin.Options{
		Listen:     "127.0.0.1:0",
		CORSOrigin: "*",
		Packagers: func(stream string) http.Handler {
			if stream != "cam1" {
				return nil
			}
			return counted
		},
		SecretHeader: secretHeader,
		Secrets:      []string{currentSecret, previousSecret},
		Requests:     e,
		Log:          log,
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(srv.Close)
	e.server = srv
	return e
}

// broadcast runs a live encoder (ffmpeg in real time, 2 s GOP as the
// shipped timings want) and feeds its TS to every edge, as the leader's
// and the standby's packagers are fed the same stream.
func broadcast(t *testing.T, edges ...*edge) {
	t.Helper()
	testkit.RequireTools(t, "ffmpeg")
	ctx, cancel := context.WithCancel(context.Background())
	gop := strconv.Itoa(int(failover.DefaultTimings.SegmentDuration.Seconds() * 30))
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-bf", "0", "-pix_fmt", "yuv420p",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReaderSize(out, 64*1024)
		buf := make([]byte, 7*188)
		for {
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			for _, e := range edges {
				e.stream.Rendition("source").WriteTS(buf)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; _ = cmd.Wait() })
}

// state is a media playlist as an edge's packager has it now (asked
// directly, so that no origin counts the question).
type state struct {
	m          *playlist.Media
	open       int    // MSN of the segment being cut
	last       int    // MSN of the newest complete segment
	hint       string // EXT-X-PRELOAD-HINT's part
	hintMSN    int
	hintPart   int
	openParts  int
	newestPart string // the newest part published
}

func edgeState(t *testing.T, e *edge) state {
	t.Helper()
	rec := httptest.NewRecorder()
	e.stream.ServeHTTP(rec, httptest.NewRequest("GET", "/source/index.m3u8", nil))
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("%s: playlist %d: %s", e.name, rec.Code, body)
	}
	pl, err := playlist.Unmarshal([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	m := pl.(*playlist.Media)
	s := state{m: m, open: m.MediaSequence + len(m.Segments), last: m.MediaSequence + len(m.Segments) - 1}
	if m.PreloadHint == nil || len(m.Segments) == 0 || m.Map == nil {
		t.Fatalf("%s: not a live LL-HLS playlist:\n%s", e.name, body)
	}
	s.hint = m.PreloadHint.URI
	if _, err := fmt.Sscanf(s.hint, "part%d.%d.m4s", &s.hintMSN, &s.hintPart); err != nil {
		t.Fatalf("hint %q: %v", s.hint, err)
	}
	s.openParts = len(m.Parts)
	// The newest part: of the open segment, or (just after a cut, when
	// the hint already names the open segment's first part) of the last.
	if parts := m.Segments[len(m.Segments)-1].Parts; len(m.Parts) > 0 {
		s.newestPart = m.Parts[len(m.Parts)-1].URI
	} else if len(parts) > 0 {
		s.newestPart = parts[len(parts)-1].URI
	} else {
		t.Fatalf("%s: no part listed:\n%s", e.name, body)
	}
	return s
}

func get(t *testing.T, url string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// together sends n identical GETs released at one instant and returns their
// statuses and bodies.
func together(t *testing.T, n int, url string) ([]int, []string) {
	t.Helper()
	codes, bodies := make([]int, n), make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			codes[i], bodies[i] = res.StatusCode, string(b)
		}()
	}
	close(start)
	wg.Wait()
	return codes, bodies
}

// waitLive waits until every edge has complete segments to spare.
func waitLive(t *testing.T, segments uint64, edges ...*edge) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, e := range edges {
		for e.stream.Stats().SegmentsWritten < segments {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d segments after a minute of live input", e.name, e.stream.Stats().SegmentsWritten)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
