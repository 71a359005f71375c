package core

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load([]string{"-srt.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0",
		"-streams", "cam1:correct-horse-battery,cam2"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A single edge: no cluster, no transcoding. Every stream gets a packager
// fed by its publishers, and the API, health and metrics answer.
func TestNodeWiring(t *testing.T) {
	n, err := New(testConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	if n.cluster != nil || n.transcoding != nil {
		t.Fatalf("a single edge without transcoding wired cluster=%v transcoding=%v", n.cluster != nil, n.transcoding != nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	base := "http://" + n.Origin.Addr().String()

	// A publisher on the stream reaches the source rendition's packager.
	// Null packets: the wiring, not the packaging, is under test here.
	ts := bytes.Repeat(append([]byte{0x47, 0x1f, 0xff, 0x10}, make([]byte, 184)...), 100)
	pub, err := n.Streams.Get("cam2").Publish(stream.PublisherInfo{Addr: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(ts); off += 1316 {
		pub.Write(ts[off:min(off+1316, len(ts))])
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Packager("cam2").Stats().BytesIn < uint64(len(ts)) {
		if time.Now().After(deadline) {
			t.Fatalf("packager got %d of %d bytes", n.Packager("cam2").Stats().BytesIn, len(ts))
		}
		time.Sleep(10 * time.Millisecond)
	}

	resp, err := http.Get(base + "/api/v1/streams")
	if err != nil {
		t.Fatal(err)
	}
	var body []stream.Status
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(body) != 2 || body[1].State != stream.StateLive || body[0].State != stream.StateIdle {
		t.Fatalf("streams API: %+v", body)
	}
	for path, want := range map[string]int{"/readyz": 200, "/live/nope/index.m3u8": 404, "/metrics": 200} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// With admin.listen and origin secrets, core.New puts the operator's
// endpoints on the admin listener only and guards media with the secrets;
// health stays on the public listener for the load balancer.
func TestNodeAdminListenerAndOriginSecret(t *testing.T) {
	cfg, err := config.Load([]string{"-srt.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0", "-admin.listen", "127.0.0.1:0",
		"-origin.secrets", "current-secret-value,previous-secret-value", "-streams", "cam1"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	public, admin := "http://"+n.Origin.Addr().String(), "http://"+n.Origin.AdminAddr().String()
	cases := []struct {
		url, secret string
		want        int
	}{
		{public + "/metrics", "", 404},
		{public + "/api/v1/streams", "", 404},
		{public + "/healthz", "", 200},
		{public + "/readyz", "", 200},
		{public + "/live/cam1/index.m3u8", "", 403},
		{public + "/live/cam1/index.m3u8", "retired-secret-value", 403},
		{public + "/live/cam1/index.m3u8", "previous-secret-value", 404}, // admitted; nothing published yet
		{admin + "/metrics", "", 200},
		{admin + "/api/v1/streams", "", 200},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest("GET", tc.url, nil)
		if tc.secret != "" {
			req.Header.Set("X-Origin-Secret", tc.secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Server"); got != "zonecast-edge/test" {
			t.Errorf("%s: Server %q, want the node's release", tc.url, got)
		}
		if resp.StatusCode != tc.want {
			t.Errorf("%s (secret %q): %d, want %d", tc.url, tc.secret, resp.StatusCode, tc.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
