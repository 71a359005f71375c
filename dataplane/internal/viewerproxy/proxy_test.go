package viewerproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// peer is a node that serves (or fails) and records what it was asked.
func peer(t *testing.T, status int, body string) (*httptest.Server, *http.Request) {
	t.Helper()
	got := &http.Request{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*got = *r.Clone(context.Background())
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Connection", "close") // hop-by-hop: must not be relayed
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s, got
}

func TestProxy(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from now on

	cases := []struct {
		name       string
		peers      []int // statuses of the serving nodes, leader first; 0 = dead
		locateErr  error
		hop        bool
		wantStatus int
		wantBody   string
		wantAsked  int    // index of the peer that answered
		wantResult string // what Observe was told
	}{
		{name: "leader answers", peers: []int{200, 200}, wantStatus: 200, wantBody: "peer0", wantAsked: 0, wantResult: "ok"},
		{name: "leader mid-takeover (404), standby answers", peers: []int{404, 200}, wantStatus: 200, wantBody: "peer1", wantAsked: 1, wantResult: "failover"},
		{name: "leader failing (503), standby answers", peers: []int{503, 200}, wantStatus: 200, wantBody: "peer1", wantAsked: 1, wantResult: "failover"},
		{name: "leader dead, standby answers", peers: []int{0, 200}, wantStatus: 200, wantBody: "peer1", wantAsked: 1, wantResult: "failover"},
		{name: "a client error is the answer", peers: []int{400, 200}, wantStatus: 400, wantBody: "peer0", wantAsked: 0, wantResult: "ok"},
		{name: "every node fails", peers: []int{0, 503}, wantStatus: http.StatusBadGateway, wantResult: "no_answer"},
		{name: "nobody leads", peers: nil, wantStatus: http.StatusNotFound, wantResult: "unknown_stream"},
		{name: "coordination down, nothing known", locateErr: errors.New("redis down"), wantStatus: http.StatusServiceUnavailable, wantResult: "unlocated"},
		{name: "forwarded once already: no second hop", peers: []int{200}, hop: true, wantStatus: http.StatusNotFound, wantResult: "hop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var bases []string
			var asked []*http.Request
			for i, st := range tc.peers {
				if st == 0 {
					bases = append(bases, deadURL)
					asked = append(asked, nil)
					continue
				}
				s, got := peer(t, st, "peer"+string(rune('0'+i)))
				bases = append(bases, s.URL)
				asked = append(asked, got)
			}
			located := 0
			var results []string
			p := &Proxy{Self: "a2", Client: NewClient(nil, time.Second), Observe: func(r string) { results = append(results, r) },
				Locate: func(_ context.Context, stream string) ([]string, error) {
					located++
					if stream != "cam1" {
						t.Errorf("located %q", stream)
					}
					return bases, tc.locateErr
				}}
			req := httptest.NewRequest(http.MethodGet, "/source/lowlatency.m3u8?_HLS_msn=12&_HLS_part=3", nil)
			req.Host = "origin.example.com"
			if tc.hop {
				req.Header.Set(HopHeader, "b2")
			}
			rec := httptest.NewRecorder()
			p.Handler("cam1").ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.hop && located != 0 {
				t.Fatal("a forwarded request was located again")
			}
			if len(results) != 1 || results[0] != tc.wantResult {
				t.Fatalf("observed %v, want [%s]", results, tc.wantResult)
			}
			if tc.wantBody == "" {
				// The proxy's own refusal: an error no cache keeps, as
				// the packager answers its own.
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Fatalf("Cache-Control %q on the proxy's %d", cc, rec.Code)
				}
				return
			}
			if rec.Body.String() != tc.wantBody {
				t.Fatalf("body %q, want %q", rec.Body, tc.wantBody)
			}
			if rec.Header().Get("Connection") != "" || rec.Header().Get("Content-Type") != "application/vnd.apple.mpegurl" {
				t.Fatalf("headers not relayed right: %v", rec.Header())
			}
			got := asked[tc.wantAsked]
			if got.URL.Path != "/live/cam1/source/lowlatency.m3u8" || got.URL.RawQuery != "_HLS_msn=12&_HLS_part=3" {
				t.Fatalf("peer asked for %s?%s", got.URL.Path, got.URL.RawQuery)
			}
			if got.Header.Get(HopHeader) != "a2" || got.Host != "origin.example.com" {
				t.Fatalf("peer saw hop %q host %q", got.Header.Get(HopHeader), got.Host)
			}
		})
	}
}

// TestProxyStreams: a blocking reload held at the peer reaches the viewer
// when the peer answers, and the viewer's going away cancels the fetch.
func TestProxyStreams(t *testing.T) {
	release := make(chan struct{})
	cancelled := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") == "forever" {
			<-r.Context().Done()
			close(cancelled)
			return
		}
		<-release
		io.WriteString(w, "#EXTM3U\n")
	}))
	defer s.Close()
	p := &Proxy{Self: "a2", Client: NewClient(nil, time.Second),
		Locate: func(context.Context, string) ([]string, error) { return []string{s.URL}, nil }}

	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		p.Handler("cam1").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/index.m3u8?_HLS_msn=5", nil))
		done <- rec
	}()
	select {
	case <-done:
		t.Fatal("answered before the peer did")
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if rec := <-done; rec.Code != 200 || rec.Body.String() != "#EXTM3U\n" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go p.Handler("cam1").ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/index.m3u8?hold=forever", nil).WithContext(ctx))
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("the viewer left but the fetch from the peer went on")
	}
}

// TestProxyHeader: a forwarded request carries the configured header (the
// origin secret the peer asks for), whatever the viewer's request had in it.
func TestProxyHeader(t *testing.T) {
	s, got := peer(t, 200, "#EXTM3U\n")
	p := &Proxy{Self: "a2", Client: NewClient(nil, time.Second), Header: http.Header{"X-Origin-Secret": {"current-secret-value"}},
		Locate: func(context.Context, string) ([]string, error) { return []string{s.URL}, nil }}
	req := httptest.NewRequest(http.MethodGet, "/index.m3u8", nil)
	req.Header.Set("X-Origin-Secret", "whatever-the-viewer-sent")
	rec := httptest.NewRecorder()
	p.Handler("cam1").ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if v := got.Header.Values("X-Origin-Secret"); len(v) != 1 || v[0] != "current-secret-value" {
		t.Fatalf("the peer got X-Origin-Secret %q, want the configured secret only", v)
	}
}
