package core

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// TestPeerTLS: the viewer proxy fetches from a peer that presents this
// node's own edge certificate, and refuses one that presents another
// (self-signed, so no system root vouches for it either).
func TestPeerTLS(t *testing.T) {
	ownCert, ownKey := testkit.SelfSignedPEM(t)
	otherCert, otherKey := testkit.SelfSignedPEM(t)
	cases := []struct {
		name              string
		peerCert, peerKey string
		wantErr           string
	}{
		{"same edge certificate", ownCert, ownKey, ""},
		{"a stranger's certificate", otherCert, otherKey, "neither this node's nor valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pair, err := tls.LoadX509KeyPair(tc.peerCert, tc.peerKey)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
			srv.StartTLS()
			defer srv.Close()
			tc2, err := peerTLS(ownCert, ownKey)
			if err != nil {
				t.Fatal(err)
			}
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = tc2
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("fetched from a peer with a stranger's certificate")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}
