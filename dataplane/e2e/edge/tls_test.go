package edge_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// TestHTTPSAndHTTP3: with http.tls_cert/tls_key the daemon serves the same
// playlists over HTTP/2 (TLS) and HTTP/3, announced by Alt-Svc.
func TestHTTPSAndHTTP3(t *testing.T) {
	t.Parallel() // an edge of its own on free ports, light: overlaps the others
	requireTools(t, "ffmpeg")
	cert, key := testkit.SelfSignedPEM(t)
	e := startEdgeTLS(t, cert, key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishFile(t, ctx, e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16))

	tlsConf := &tls.Config{InsecureSkipVerify: true}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}, Timeout: 10 * time.Second}
	h3 := &http.Client{Transport: &http3.Transport{TLSClientConfig: tlsConf}, Timeout: 10 * time.Second}
	url := e.httpURL + "/live/cam1/source/index.m3u8"
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := h2.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), "#EXT-X-PART:") {
				if resp.ProtoMajor != 2 || !strings.Contains(resp.Header.Get("Alt-Svc"), "h3=") {
					t.Fatalf("over TLS: %s, Alt-Svc %q", resp.Proto, resp.Header.Get("Alt-Svc"))
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no LL-HLS playlist over HTTPS: %v\n%s", err, e.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err := h3.Get(url)
	if err != nil {
		t.Fatalf("HTTP/3: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 3 || resp.StatusCode != 200 || !strings.Contains(string(body), "#EXT-X-PART:") {
		t.Fatalf("HTTP/3: %s %d\n%s", resp.Proto, resp.StatusCode, body)
	}
}

// startEdgeTLS is startEdge with TLS: readiness is polled over HTTPS.
func startEdgeTLS(t *testing.T, cert, key string) *edgeProc {
	t.Helper()
	// startEdge polls /readyz with readinessClient: make it speak HTTPS
	// while this edge starts.
	old := readinessClient
	readinessClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 2 * time.Second}
	readinessScheme = "https://"
	defer func() { readinessClient, readinessScheme = old, "http://" }()
	return startEdge(t, contractStreams, "", "-http.tls_cert", cert, "-http.tls_key", key)
}
