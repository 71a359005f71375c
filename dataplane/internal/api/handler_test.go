package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
)

const token = "an-admin-token"

var tables atomic.Int64

// liveRows stands for the node's live state: rows shaped like today's
// GET /api/v1/streams.
type liveRows map[string]any

func (l liveRows) Rows() map[string]any { return l }

// lockedBuffer collects the handler's log lines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newLog() *lockedBuffer { return &lockedBuffer{} }
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	url   string
	log   *lockedBuffer
	store *catalog.DynamoDB
	srv   *dynalite.Server
}

func start(t *testing.T, edits ...func(*Options)) fixture {
	t.Helper()
	srv := dynalite.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := catalog.NewDynamoDB(ctx, config.CatalogDynamoDB{
		Table: fmt.Sprintf("streams-%d", tables.Add(1)), Region: "local", Endpoint: srv.Endpoint(), CreateTable: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	log := newLog()
	opts := Options{
		Store: store, Token: token,
		Live:       liveRows{"match-1": map[string]any{"name": "match-1", "state": "live", "publisher": "192.0.2.7:5000", "bitrate": 3000000, "leader": "a1", "standby": "b1"}},
		SRTAddress: "127.0.0.1:9000", PlaybackURL: "http://127.0.0.1:8080/",
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, edit := range edits {
		edit(&opts)
	}
	ts := httptest.NewServer(New(opts))
	t.Cleanup(ts.Close)
	return fixture{url: ts.URL, log: log, store: store, srv: srv}
}

type answer struct {
	status int
	header http.Header
	raw    string
	obj    map[string]any
	list   []map[string]any
}

func call(t *testing.T, f fixture, method, path, auth, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if strings.HasPrefix(strings.TrimSpace(a.raw), "[") {
		_ = json.Unmarshal(b, &a.list)
	} else {
		_ = json.Unmarshal(b, &a.obj)
	}
	return a
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[k]
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// TestStreamsAPI walks the API through one stream's life against the real
// catalog store, checking each answer's status and body.
func TestStreamsAPI(t *testing.T) {
	f := start(t)
	bearer := "Bearer " + token
	var secrets []string // every passphrase handed out: never in a log or a GET
	var firstKey string

	steps := []struct {
		name, method, path, auth, body string
		status                         int
		check                          func(t *testing.T, a answer)
	}{
		{"create without a token", "POST", "/api/v1/streams", "", `{"name":"match-1"}`, 401, func(t *testing.T, a answer) {
			if a.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate")
			}
		}},
		{"create with a wrong token", "POST", "/api/v1/streams", "Bearer nope", `{"name":"match-1"}`, 401, nil},
		{"create with another scheme", "POST", "/api/v1/streams", "Basic " + token, `{"name":"match-1"}`, 401, nil},
		{"create with a generated passphrase", "POST", "/api/v1/streams", bearer, `{"name":"match-1"}`, 201, func(t *testing.T, a answer) {
			p := str(a.obj, "passphrase")
			if len(p) != 32 {
				t.Fatalf("generated passphrase %q: want 32 characters", p)
			}
			firstKey = p
			secrets = append(secrets, p)
			if got, want := str(a.obj, "urls", "publish"), "srt://127.0.0.1:9000?streamid=publish:match-1&passphrase="+p+"&pbkeylen=16"; got != want {
				t.Errorf("publish URL %q, want %q", got, want)
			}
			if got, want := str(a.obj, "urls", "playback"), "http://127.0.0.1:8080/live/match-1/index.m3u8"; got != want {
				t.Errorf("playback URL %q, want %q", got, want)
			}
			if str(a.obj, "version") != "1" || str(a.obj, "latency") != "low" || str(a.obj, "record") != "false" {
				t.Errorf("answer %s", a.raw)
			}
		}},
		{"a taken name", "POST", "/api/v1/streams", bearer, `{"name":"match-1"}`, 409, nil},
		{"an invalid name", "POST", "/api/v1/streams", bearer, `{"name":"bad/name"}`, 400, field("name")},
		{"no name", "POST", "/api/v1/streams", bearer, `{}`, 400, field("name")},
		{"an invalid latency", "POST", "/api/v1/streams", bearer, `{"name":"m2","latency":"ultra"}`, 400, field("latency")},
		{"a short passphrase", "POST", "/api/v1/streams", bearer, `{"name":"m2","passphrase":"short"}`, 400, field("passphrase")},
		{"a wrongly typed field", "POST", "/api/v1/streams", bearer, `{"name":"m2","record":"yes"}`, 400, field("record")},
		{"an unknown field", "POST", "/api/v1/streams", bearer, `{"name":"m2","colour":"red"}`, 400, field("colour")},
		{"not JSON", "POST", "/api/v1/streams", bearer, `name=m2`, 400, nil},
		{"create with every field", "POST", "/api/v1/streams", bearer,
			`{"name":"match-2","passphrase":"correct-horse-battery","backup_passphrase":"second-encoder-key","ladder":"480p:1.5M,720p:3M","record":true,"latency":"standard","labels":{"home":"ARS"}}`,
			201, func(t *testing.T, a answer) {
				secrets = append(secrets, "correct-horse-battery", "second-encoder-key")
				if str(a.obj, "passphrase") != "correct-horse-battery" || str(a.obj, "backup_passphrase") != "second-encoder-key" ||
					str(a.obj, "ladder") != "720p:3000k,480p:1500k" || str(a.obj, "labels", "home") != "ARS" {
					t.Errorf("answer %s", a.raw)
				}
				if got := str(a.obj, "urls", "publish_backup"); !strings.Contains(got, "passphrase=second-encoder-key") {
					t.Errorf("backup publish URL %q", got)
				}
				if got := str(a.obj, "urls", "playback"); !strings.HasSuffix(got, "/live/match-2/classic.m3u8") {
					t.Errorf("standard latency plays classic HLS, got %q", got)
				}
			}},
		{"list needs no token and shows no secret", "GET", "/api/v1/streams", "", "", 200, func(t *testing.T, a answer) {
			if len(a.list) != 2 || str(a.list[0], "name") != "match-1" || str(a.list[1], "name") != "match-2" {
				t.Fatalf("list %s", a.raw)
			}
			// The live state of today's rows, beside the settings.
			if str(a.list[0], "state") != "live" || str(a.list[0], "leader") != "a1" || str(a.list[0], "publisher") != "192.0.2.7:5000" {
				t.Errorf("live state missing: %s", a.raw)
			}
			if str(a.list[1], "encrypted") != "true" || str(a.list[1], "backup") != "true" || str(a.list[1], "record") != "true" {
				t.Errorf("settings: %s", a.raw)
			}
		}},
		{"get one", "GET", "/api/v1/streams/match-2", "", "", 200, func(t *testing.T, a answer) {
			if str(a.obj, "latency") != "standard" || str(a.obj, "urls", "publish") != "" {
				t.Errorf("answer %s", a.raw)
			}
		}},
		{"get a missing stream", "GET", "/api/v1/streams/nope", "", "", 404, nil},
		{"update without a token", "PATCH", "/api/v1/streams/match-1", "", `{"record":true}`, 401, nil},
		{"update", "PATCH", "/api/v1/streams/match-1", bearer, `{"record":true,"ladder":"720p:3M","labels":{"round":"12"}}`, 200, func(t *testing.T, a answer) {
			if str(a.obj, "version") != "2" || str(a.obj, "record") != "true" || str(a.obj, "ladder") != "720p:3000k" || str(a.obj, "labels", "round") != "12" {
				t.Errorf("answer %s", a.raw)
			}
		}},
		{"update at a stale version", "PATCH", "/api/v1/streams/match-1", bearer, `{"version":1,"record":false}`, 409, field("version")},
		{"update at the current version", "PATCH", "/api/v1/streams/match-1", bearer, `{"version":2,"latency":"standard"}`, 200, nil},
		{"update the passphrase", "PATCH", "/api/v1/streams/match-1", bearer, `{"passphrase":"another-long-key"}`, 400, field("passphrase")},
		{"update the name", "PATCH", "/api/v1/streams/match-1", bearer, `{"name":"match-9"}`, 400, field("name")},
		{"an invalid update", "PATCH", "/api/v1/streams/match-1", bearer, `{"ladder":"huge"}`, 400, field("ladder")},
		{"update a missing stream", "PATCH", "/api/v1/streams/nope", bearer, `{"record":true}`, 404, nil},
		{"rotate without a token", "POST", "/api/v1/streams/match-1/rotate", "", "", 401, nil},
		{"rotate", "POST", "/api/v1/streams/match-1/rotate", bearer, "", 200, func(t *testing.T, a answer) {
			p := str(a.obj, "passphrase")
			if len(p) != 32 || p == firstKey || !strings.Contains(str(a.obj, "urls", "publish"), "passphrase="+p) {
				t.Errorf("rotated passphrase %q (was %q): %s", p, firstKey, a.raw)
			}
			secrets = append(secrets, p)
		}},
		{"rotate to a given key", "POST", "/api/v1/streams/match-1/rotate", bearer, `{"passphrase":"a-chosen-new-key"}`, 200, func(t *testing.T, a answer) {
			secrets = append(secrets, "a-chosen-new-key")
			if str(a.obj, "passphrase") != "a-chosen-new-key" {
				t.Errorf("answer %s", a.raw)
			}
		}},
		{"rotate to a bad key", "POST", "/api/v1/streams/match-1/rotate", bearer, `{"passphrase":"short"}`, 400, field("passphrase")},
		{"rotate a missing stream", "POST", "/api/v1/streams/nope/rotate", bearer, "", 404, nil},
		{"delete without a token", "DELETE", "/api/v1/streams/match-1", "", "", 401, nil},
		{"delete", "DELETE", "/api/v1/streams/match-1", bearer, "", 204, nil},
		{"delete again", "DELETE", "/api/v1/streams/match-1", bearer, "", 404, nil},
		{"deleted is gone", "GET", "/api/v1/streams/match-1", "", "", 404, nil},
		{"an unsupported method", "PUT", "/api/v1/streams/match-2", bearer, `{}`, 405, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			a := call(t, f, st.method, st.path, st.auth, st.body)
			if a.status != st.status {
				t.Fatalf("%s %s: %d, want %d: %s", st.method, st.path, a.status, st.status, a.raw)
			}
			if st.method == "GET" {
				for _, s := range secrets {
					if strings.Contains(a.raw, s) {
						t.Fatalf("GET reveals a passphrase: %s", a.raw)
					}
				}
			}
			if st.check != nil {
				st.check(t, a)
			}
		})
	}
	logs := f.log.String()
	if logs == "" {
		t.Fatal("nothing logged")
	}
	for _, s := range append(secrets, token) {
		if strings.Contains(logs, s) {
			t.Fatalf("a secret reached the log:\n%s", logs)
		}
	}
}

// field checks that an error answer names the field at fault.
func field(name string) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		t.Helper()
		if got := str(a.obj, "field"); got != name {
			t.Fatalf("field %q, want %q: %s", got, name, a.raw)
		}
		if str(a.obj, "error") == "" {
			t.Fatalf("no error message: %s", a.raw)
		}
	}
}

func TestListPages(t *testing.T) {
	f := start(t)
	for i := range 5 {
		if _, err := f.store.Create(context.Background(), catalog.Stream{Name: fmt.Sprintf("cam%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		query string
		pages int // requests to see all five
	}{
		{"", 1},
		{"?limit=2", 3},
		{"?limit=5", 1},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			seen, pages, cursor := map[string]bool{}, 0, ""
			for {
				q := tc.query
				if cursor != "" {
					q += "&cursor=" + cursor
				}
				a := call(t, f, "GET", "/api/v1/streams"+q, "", "")
				if a.status != 200 {
					t.Fatalf("%d %s", a.status, a.raw)
				}
				pages++
				for _, s := range a.list {
					seen[str(s, "name")] = true
				}
				if cursor = a.header.Get("Zonecast-Next-Cursor"); cursor == "" {
					break
				}
			}
			// A page filled to its limit may be followed by an empty one.
			if len(seen) != 5 || pages < tc.pages || pages > tc.pages+1 {
				t.Fatalf("%d streams in %d pages, want 5 in %d", len(seen), pages, tc.pages)
			}
		})
	}
	if a := call(t, f, "GET", "/api/v1/streams?limit=0", "", ""); a.status != 400 || str(a.obj, "field") != "limit" {
		t.Fatalf("limit=0: %d %s", a.status, a.raw)
	}
}

// TestStaticCatalog: a node with only the streams: list answers reads as
// before, and refuses writes saying why.
func TestStaticCatalog(t *testing.T) {
	h := New(Options{Store: catalog.NewStatic(config.Streams{{Name: "cam1", Passphrase: "correct-horse-battery"}, {Name: "cam2"}}),
		Token: token, SRTAddress: "127.0.0.1:9000", PlaybackURL: "http://127.0.0.1:8080",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(h)
	defer ts.Close()
	f := fixture{url: ts.URL}
	cases := []struct {
		method, path, auth, body string
		status                   int
	}{
		{"GET", "/api/v1/streams", "", "", 200},
		{"GET", "/api/v1/streams/cam1", "", "", 200},
		{"POST", "/api/v1/streams", "Bearer " + token, `{"name":"cam3"}`, 405},
		{"DELETE", "/api/v1/streams/cam1", "Bearer " + token, "", 405},
		{"POST", "/api/v1/streams/cam1/rotate", "Bearer " + token, "", 405},
		{"DELETE", "/api/v1/streams/cam1", "", "", 401},
	}
	for _, tc := range cases {
		a := call(t, f, tc.method, tc.path, tc.auth, tc.body)
		if a.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, a.status, tc.status, a.raw)
		}
		if a.status == 405 && (a.header.Get("Allow") != "GET" || !strings.Contains(str(a.obj, "error"), "read-only")) {
			t.Errorf("%s %s: 405 without saying why: %v %s", tc.method, tc.path, a.header, a.raw)
		}
		if strings.Contains(a.raw, "correct-horse-battery") {
			t.Errorf("%s %s reveals a passphrase", tc.method, tc.path)
		}
	}
}

// TestNoTokenConfigured: without admin.token, nothing that needs it passes.
func TestNoTokenConfigured(t *testing.T) {
	h := New(Options{Store: catalog.NewStatic(config.Streams{{Name: "cam1"}}), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(h)
	defer ts.Close()
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		if a := call(t, fixture{url: ts.URL}, "POST", "/api/v1/streams", auth, `{"name":"cam2"}`); a.status != 401 {
			t.Errorf("auth %q: %d, want 401", auth, a.status)
		}
	}
}

// TestStoreUnreachable: a catalog that cannot be reached is a 503 that says
// so, not a 404 or a 500.
func TestStoreUnreachable(t *testing.T) {
	f := start(t)
	f.srv.Stop()
	for _, c := range []struct{ method, path, auth, body string }{
		{"GET", "/api/v1/streams", "", ""},
		{"GET", "/api/v1/streams/cam1", "", ""},
		{"POST", "/api/v1/streams", "Bearer " + token, `{"name":"cam1"}`},
	} {
		a := call(t, f, c.method, c.path, c.auth, c.body)
		if a.status != 503 || !strings.Contains(str(a.obj, "error"), "catalog unavailable") {
			t.Errorf("%s %s: %d %s", c.method, c.path, a.status, a.raw)
		}
	}
}

// notes records the events the API emits.
type notes struct {
	mu  sync.Mutex
	got []string
	raw []string
}

func (n *notes) Emit(_ context.Context, typ, stream string, data map[string]any) {
	b, _ := json.Marshal(data)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, typ+" "+stream)
	n.raw = append(n.raw, string(b))
}

// TestNotifier: each change made through the API, and only a change that
// was made, is an event; no event carries a secret.
func TestNotifier(t *testing.T) {
	n := &notes{}
	f := start(t, func(o *Options) { o.Notifier = n })
	bearer := "Bearer " + token
	for _, step := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/streams", `{"name":"ev-1","backup_passphrase":"backup-secret-0123"}`, 201},
		{"POST", "/api/v1/streams", `{"name":"ev-1"}`, 409},
		{"PATCH", "/api/v1/streams/ev-1", `{"record":true}`, 200},
		{"PATCH", "/api/v1/streams/ev-1", `{"latency":"sideways"}`, 400},
		{"POST", "/api/v1/streams/ev-1/rotate", "", 200},
		{"DELETE", "/api/v1/streams/ev-1", "", 204},
		{"DELETE", "/api/v1/streams/ev-1", "", 404},
	} {
		if a := call(t, f, step.method, step.path, bearer, step.body); a.status != step.status {
			t.Fatalf("%s %s: %d, want %d: %s", step.method, step.path, a.status, step.status, a.raw)
		}
	}
	want := []string{"stream.created ev-1", "stream.updated ev-1", "stream.updated ev-1", "stream.deleted ev-1"}
	if fmt.Sprint(n.got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", n.got, want)
	}
	for _, raw := range n.raw {
		if strings.Contains(raw, "backup-secret-0123") || strings.Contains(raw, `"passphrase"`) {
			t.Fatalf("an event carries a secret: %s", raw)
		}
	}
	if !strings.Contains(n.raw[1], `"record":true`) || !strings.Contains(n.raw[2], `"passphrase_rotated":true`) {
		t.Fatalf("event data: %v", n.raw)
	}
}
