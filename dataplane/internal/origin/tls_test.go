package origin

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

func TestTLSHTTP2AndHTTP3(t *testing.T) {
	cert, key := testkit.SelfSignedPEM(t)
	s, err := Listen(Options{
		Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key, CORSOrigin: "*",
		Packagers: func(string) http.Handler { return &fakePackager{} },
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	url := "https://" + s.Addr().String() + "/live/cam1/source/seg3.m4s"
	tlsConf := &tls.Config{InsecureSkipVerify: true}

	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}}
	var resp *http.Response
	for i := 0; i < 50; i++ { // the HTTP/3 listener comes up beside the TCP one
		resp, err = h2.Get(url)
		if err == nil && resp.Header.Get("Alt-Svc") != "" {
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("TLS over TCP spoke %s, want HTTP/2", resp.Proto)
	}
	if alt := resp.Header.Get("Alt-Svc"); !strings.Contains(alt, "h3=") {
		t.Fatalf("Alt-Svc %q does not announce h3", alt)
	}

	h3 := &http.Client{Transport: &http3.Transport{TLSClientConfig: tlsConf}}
	resp, err = h3.Get(url)
	if err != nil {
		t.Fatalf("HTTP/3: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 3 || string(body) != "body" || resp.Header.Get("Cache-Control") != fakeCache {
		t.Fatalf("HTTP/3: %s %q %v", resp.Proto, body, resp.Header)
	}
}
