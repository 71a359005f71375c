package origin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// With origin secrets, media goes only to requests carrying one of them in
// the secret header (either value during a rotation); everything else about
// a request, such as a forged X-Forwarded-For, counts for nothing. Health
// and the player page stay open: they are not media.
func TestOriginSecret(t *testing.T) {
	s, _, reqs := newTestServer(t, nil, func(o *Options) {
		o.SecretHeader = "X-Origin-Secret"
		o.Secrets = []string{"current-secret-value", "previous-secret-value"}
	})
	h := s.guard(s.routes())
	cases := []struct {
		name    string
		path    string
		headers map[string]string
		code    int
	}{
		{"current secret", "/live/cam1/source/seg3.m4s", map[string]string{"X-Origin-Secret": "current-secret-value"}, 200},
		{"previous secret during a rotation", "/live/cam1/source/index.m3u8", map[string]string{"X-Origin-Secret": "previous-secret-value"}, 200},
		{"header name in another case", "/live/cam1/index.m3u8", map[string]string{"x-origin-secret": "current-secret-value"}, 200},
		{"no secret", "/live/cam1/source/seg3.m4s", nil, 403},
		{"rotated-out secret", "/live/cam1/source/seg3.m4s", map[string]string{"X-Origin-Secret": "retired-secret-value"}, 403},
		{"a prefix of a secret", "/live/cam1/source/seg3.m4s", map[string]string{"X-Origin-Secret": "current-secret"}, 403},
		{"secret in another header", "/live/cam1/source/seg3.m4s", map[string]string{"X-Other": "current-secret-value"}, 403},
		{"forged X-Forwarded-For", "/live/cam1/source/seg3.m4s", map[string]string{"X-Forwarded-For": "127.0.0.1, 10.0.0.1"}, 403},
		{"unknown stream without secret", "/live/nope/index.m3u8", nil, 403},
		{"recorded media without secret", "/vod/cam1/index.m3u8", nil, 403},
		{"health stays open", "/healthz", nil, 200},
		{"readiness stays open", "/readyz", nil, 200},
		{"player page stays open", "/", nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.code == 403 && rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("a refusal a CDN could cache: Cache-Control %q", rec.Header().Get("Cache-Control"))
			}
		})
	}
	if reqs["segment Forbidden"] != 5 {
		t.Errorf("refusals counted %v, want 5 segment refusals", reqs)
	}
}

// Without secrets (the default) media is open, as the contract config wants.
func TestOriginSecretOff(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	rec := httptest.NewRecorder()
	s.guard(s.routes()).ServeHTTP(rec, httptest.NewRequest("GET", "/live/cam1/source/seg3.m4s", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d without secrets configured", rec.Code)
	}
}

// With an admin listener, the operator's endpoints move there and the
// public listener answers them 404; health is on both. Without one they
// stay on the public listener (TestOperationalEndpoints).
func TestAdminListener(t *testing.T) {
	drain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	s, _, _ := newTestServer(t, nil, func(o *Options) {
		o.AdminListen = "127.0.0.1:0"
		o.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metric 1\n") })
		o.Routes = map[string]http.Handler{"POST /api/v1/drain": drain}
		o.Secrets = []string{"current-secret-value"}
		o.SecretHeader = "X-Origin-Secret"
	})
	go s.Serve()
	public, admin := "http://"+s.Addr().String(), "http://"+s.AdminAddr().String()
	cases := []struct {
		method, base, path string
		code               int
	}{
		{"GET", public, "/metrics", 404},
		{"GET", public, "/api/v1/streams", 404},
		{"POST", public, "/api/v1/drain", 404},
		{"GET", public, "/healthz", 200},
		{"GET", public, "/readyz", 200},
		{"GET", public, "/live/cam1/index.m3u8", 403},
		{"GET", admin, "/metrics", 200},
		{"GET", admin, "/api/v1/streams", 200},
		{"POST", admin, "/api/v1/drain", 202},
		{"GET", admin, "/healthz", 200},
		{"GET", admin, "/readyz", 200},
		{"GET", admin, "/live/cam1/index.m3u8", 404}, // media is the public listener's
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, tc.base+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.code {
			which := "public"
			if tc.base == admin {
				which = "admin"
			}
			t.Errorf("%s %s on the %s listener: %d, want %d", tc.method, tc.path, which, res.StatusCode, tc.code)
		}
	}
}
