package packager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// chunkSizes are deliberately odd so that packets and PES straddle writes.
var chunkSizes = []int{1, 7, 188, 1316, 100, 4093, 3, 2000, 65536}

func feed(t testing.TB, r *Rendition, data []byte) {
	t.Helper()
	for i := 0; len(data) > 0; i++ {
		n := min(chunkSizes[i%len(chunkSizes)], len(data))
		if err := r.WriteTS(data[:n]); err != nil {
			t.Fatalf("WriteTS: %v", err)
		}
		data = data[n:]
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestStream(t testing.TB, cfg Config) (*Muxer, *httptest.Server) {
	t.Helper()
	s := NewMuxer("cam1", cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(http.StripPrefix("/live/cam1", s))
	t.Cleanup(func() { srv.Close(); s.Close() })
	return s, srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t testing.TB, srv *httptest.Server, path string) response {
	t.Helper()
	res, err := http.Get(srv.URL + "/live/cam1/" + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func mustGet(t testing.TB, srv *httptest.Server, path string) []byte {
	t.Helper()
	r := get(t, srv, path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, r.status, r.body)
	}
	return r.body
}

// probe runs ffprobe on a file and returns its packets and streams.
type probeResult struct {
	Streams []struct {
		CodecName string `json:"codec_name"`
		CodecType string `json:"codec_type"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		PTSTime   string `json:"pts_time"`
		DTSTime   string `json:"dts_time"`
		Duration  string `json:"duration_time"`
		Flags     string `json:"flags"`
	} `json:"packets"`
}

func probe(t testing.TB, path string) probeResult {
	t.Helper()
	testkit.RequireTools(t, "ffprobe")
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_packets", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errorsAs(err, &ee) {
			t.Fatalf("ffprobe %s: %v: %s", path, err, ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var pr probeResult
	if err := json.Unmarshal(out, &pr); err != nil {
		t.Fatal(err)
	}
	return pr
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// videoSpan returns the first video packet's flags and the video duration
// (last DTS + its duration − first DTS) of a probe.
func videoSpan(t testing.TB, pr probeResult) (firstKey bool, dur float64, frames int) {
	t.Helper()
	var first, last, lastDur float64
	for _, p := range pr.Packets {
		if p.CodecType != "video" {
			continue
		}
		dts, _ := strconv.ParseFloat(p.DTSTime, 64)
		d, _ := strconv.ParseFloat(p.Duration, 64)
		if frames == 0 {
			first = dts
			firstKey = strings.HasPrefix(p.Flags, "K")
		}
		last, lastDur = dts, d
		frames++
	}
	return firstKey, last + lastDur - first, frames
}

func writeTemp(t testing.TB, dir, name string, parts ...[]byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, bytes.Join(parts, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitUntil polls cond (the packager works on its demuxer goroutine).
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustRequest sends a GET (or the method in the X-Method pseudo-header)
// with extra headers.
func mustRequest(t testing.TB, srv *httptest.Server, path string, hdr map[string]string) response {
	t.Helper()
	method := http.MethodGet
	if m, ok := hdr["X-Method"]; ok {
		method = m
		delete(hdr, "X-Method")
	}
	req, err := http.NewRequest(method, srv.URL+"/live/cam1/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// settle waits until the demuxer goroutine has finished the bytes it took
// (WriteTS returns once they are read, not yet packaged).
func settle(t testing.TB, s *Muxer) {
	t.Helper()
	prev := s.Stats()
	for i := 0; i < 1000; i++ {
		time.Sleep(50 * time.Millisecond)
		cur := s.Stats()
		if cur == prev {
			return
		}
		prev = cur
	}
}

func fmtSscan(s string, v *float64) (int, error) { return fmt.Sscan(s, v) }
