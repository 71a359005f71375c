package cdn

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/global"
)

// viewers is how many viewers ask for each object at the same instant.
const viewers = 12

// TestThroughStandIn runs the viewer path as it runs in production: two
// live edges (the origin group's primary and secondary, fed the same
// encoder) behind the CDN stand-in generated from the declared
// distribution, and players asking through it.
func TestThroughStandIn(t *testing.T) {
	if _, err := Varnishd(); err != nil {
		t.Fatal(err)
	}
	primary, secondary := newEdge(t, "primary"), newEdge(t, "secondary")
	broadcast(t, primary, secondary)
	cdn := StartT(t, Options{Primary: primary.addr(), Secondary: secondary.addr(), Secret: currentSecret})
	waitLive(t, 4, primary, secondary)
	fetches := func(key string) int { return primary.count(key) + secondary.count(key) }

	// Every kind of answer, asked for by many viewers at once, costs the
	// origins one request: the waiting list collapses the misses.
	t.Run("collapsing", func(t *testing.T) {
		cases := []struct {
			kind   string
			path   func(st state) string // from the edge's state just before
			status int
		}{
			{"multivariant", func(state) string { return "index.m3u8" }, 200},
			{"media playlist", func(state) string { return "source/index.m3u8" }, 200},
			{"blocking reload (the hinted part)", func(st state) string {
				return fmt.Sprintf("source/index.m3u8?_HLS_msn=%d&_HLS_part=%d", st.hintMSN, st.hintPart)
			}, 200},
			{"part", func(st state) string { return "source/" + st.newestPart }, 200},
			{"hinted part, held until it exists", func(st state) string { return "source/" + st.hint }, 200},
			{"segment", func(st state) string { return fmt.Sprintf("source/seg%d.m4s", st.last) }, 200},
			{"init", func(st state) string { return "source/" + st.m.Map.URI }, 200},
			{"classic playlist", func(state) string { return "source/classic.m3u8" }, 200},
			{"classic segment", func(st state) string { return fmt.Sprintf("source/seg%d.ts", st.last) }, 200},
			{"404 future part", func(st state) string { return fmt.Sprintf("source/part%d.%d.m4s", st.hintMSN, st.hintPart+4) }, 404},
		}
		var future string
		for _, tc := range cases {
			t.Run(tc.kind, func(t *testing.T) {
				st := edgeState(t, primary)
				path := tc.path(st)
				codes, bodies := together(t, viewers, cdn.URL()+"/live/cam1/"+path)
				for i, c := range codes {
					if c != tc.status {
						t.Fatalf("viewer %d: status %d, want %d: %s", i, c, tc.status, bodies[i])
					}
				}
				if n := fetches(path); n != 1 {
					t.Errorf("%d viewers cost the origins %d requests, want 1", viewers, n)
				}
				if strings.Contains(path, "_HLS_part") {
					for i, b := range bodies {
						if !strings.Contains(b, st.hint) {
							t.Errorf("viewer %d's blocking reload lacks the part it asked for (%s):\n%s", i, st.hint, b)
						}
					}
				}
				if tc.status == 404 {
					future = path
				}
			})
		}
		// A 404 is kept a part's duration at most: asked again after
		// that, it goes back to the origin.
		time.Sleep(2 * global.NewDistribution(failover.DefaultTimings).NegativeTTL)
		if _, body := get(t, cdn.URL()+"/live/cam1/"+future, nil); fetches(future) != 2 {
			t.Errorf("the future part's 404 was kept past a part's duration: %d origin requests (%s)", fetches(future), body)
		}
	})

	// A blocking reload is answered from the cache only by an answer that
	// holds the part it asks for: the LL-HLS directives are the cache key,
	// other query strings are not.
	t.Run("blocking reload", func(t *testing.T) {
		st := edgeState(t, primary)
		msn, part := st.hintMSN, st.hintPart
		for step := 0; step < 8; step++ {
			q := fmt.Sprintf("source/index.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, part)
			res, body := get(t, cdn.URL()+"/live/cam1/"+q, nil)
			want := fmt.Sprintf("part%d.%d.m4s", msn, part)
			if res.StatusCode != 200 || !strings.Contains(body, want) {
				t.Fatalf("%s: %d, want an answer listing %s:\n%s", q, res.StatusCode, want, body)
			}
			again, body2 := get(t, cdn.URL()+"/live/cam1/"+q+"&utm_source=x", nil)
			if again.Header.Get("X-Cache") != "Hit from zonecast-cdn" || !strings.Contains(body2, want) {
				t.Errorf("%s asked again (another query string beside): %s, want a cached answer listing %s", q, again.Header.Get("X-Cache"), want)
			}
			if n := fetches(q); n != 1 {
				t.Errorf("%s: %d origin requests, want 1", q, n)
			}
			// The next request a player makes: the part after, or the
			// first of the next segment.
			m := media(t, body)
			next := m.PreloadHint.URI
			if _, err := fmt.Sscanf(next, "part%d.%d.m4s", &msn, &part); err != nil {
				t.Fatal(err)
			}
		}
	})

	// A playlist is never older than its policy's TTL: whatever the origin
	// had published a TTL ago is in what the stand-in serves now.
	t.Run("playlist freshness", func(t *testing.T) {
		ttl := time.Duration(global.PlaylistTTLs(failover.DefaultTimings).Max) * time.Second
		for i := 0; i < 4; i++ {
			before := edgeState(t, primary)
			time.Sleep(ttl + 100*time.Millisecond)
			res, body := get(t, cdn.URL()+"/live/cam1/source/index.m3u8", nil)
			if age, _ := strconv.Atoi(res.Header.Get("Age")); time.Duration(age)*time.Second > ttl {
				t.Errorf("Age %d s beyond the playlists' TTL %v", age, ttl)
			}
			m := media(t, body)
			if !listsPart(m, before.newestPart) && m.MediaSequence+len(m.Segments) <= before.open {
				t.Errorf("the stand-in's playlist lacks %s, which the origin had published %v before:\n%s", before.newestPart, ttl, body)
			}
		}
	})

	// The origin group: the secondary answers when the primary fails with
	// a failover status or does not answer within the origin response
	// timeout. Each case asks for an object not cached yet.
	t.Run("failover", func(t *testing.T) {
		st := edgeState(t, primary)
		timeout := failover.DefaultTimings.OriginResponseTimeout
		cases := []struct {
			name string
			mode int32
			path string
			slow bool
		}{
			{"primary answers 503", failing, fmt.Sprintf("source/seg%d.m4s", st.last-1), false},
			{"primary answers 503 to a playlist", failing, fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", st.last), false},
			{"primary frozen", frozen, fmt.Sprintf("source/seg%d.m4s", st.last-2), true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				primary.mode.Store(tc.mode)
				defer primary.mode.Store(healthy)
				start := time.Now()
				res, body := get(t, cdn.URL()+"/live/cam1/"+tc.path, nil)
				took := time.Since(start)
				if res.StatusCode != 200 {
					t.Fatalf("status %d through the failover: %s", res.StatusCode, body)
				}
				if primary.count(tc.path) != 1 || secondary.count(tc.path) != 1 {
					t.Errorf("primary asked %d times, secondary %d; want once each", primary.count(tc.path), secondary.count(tc.path))
				}
				if tc.slow && took < timeout {
					t.Errorf("answered in %v, before the origin response timeout %v: was the primary asked?", took, timeout)
				}
			})
		}
		t.Run("primary refuses connections", func(t *testing.T) {
			closed := closedAddr(t)
			alt := StartT(t, Options{Primary: closed, Secondary: secondary.addr(), Secret: currentSecret})
			path := fmt.Sprintf("source/seg%d.m4s", st.last-3)
			res, body := get(t, alt.URL()+"/live/cam1/"+path, nil)
			if res.StatusCode != 200 || secondary.count(path) != 1 {
				t.Fatalf("status %d, secondary asked %d times: %s", res.StatusCode, secondary.count(path), body)
			}
		})
	})

	// The origins serve media only to the CDN: straight at an edge, a
	// request without the secret, with a retired one or with a forged
	// X-Forwarded-For is refused; through the stand-in a viewer's own
	// secret header counts for nothing; a stand-in sending a retired
	// secret gets 403, once for all its viewers.
	t.Run("origin secret", func(t *testing.T) {
		st := edgeState(t, primary)
		path := fmt.Sprintf("source/seg%d.m4s", st.last)
		straight := "http://" + primary.addr() + "/live/cam1/" + path
		for _, tc := range []struct {
			name    string
			headers map[string]string
			status  int
		}{
			{"no secret", nil, 403},
			{"retired secret", map[string]string{secretHeader: retiredSecret}, 403},
			{"forged X-Forwarded-For", map[string]string{"X-Forwarded-For": "127.0.0.1", "Forwarded": "for=127.0.0.1"}, 403},
			{"previous secret (rotation)", map[string]string{secretHeader: previousSecret}, 200},
			{"current secret", map[string]string{secretHeader: currentSecret}, 200},
		} {
			if res, body := get(t, straight, tc.headers); res.StatusCode != tc.status {
				t.Errorf("straight at the origin, %s: %d, want %d: %s", tc.name, res.StatusCode, tc.status, body)
			}
		}
		if res, body := get(t, cdn.URL()+"/live/cam1/"+fmt.Sprintf("source/seg%d.m4s", st.last-1), map[string]string{secretHeader: retiredSecret}); res.StatusCode != 200 {
			t.Errorf("through the stand-in with a viewer's wrong secret: %d: %s", res.StatusCode, body)
		}
		stale := StartT(t, Options{Primary: primary.addr(), Secondary: secondary.addr(), Secret: retiredSecret})
		refusals := func() int { return primary.refusals("segment") + secondary.refusals("segment") }
		before := refusals()
		codes, _ := together(t, viewers, stale.URL()+"/live/cam1/"+path)
		for i, c := range codes {
			if c != 403 {
				t.Fatalf("viewer %d through a stand-in with a retired secret: %d, want 403", i, c)
			}
		}
		if refused := refusals() - before; refused != 1 {
			t.Errorf("%d viewers' 403 cost the origins %d requests, want 1", viewers, refused)
		}
	})

	// Methods the distribution does not allow are refused by the CDN.
	t.Run("methods", func(t *testing.T) {
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			req, _ := http.NewRequest(m, cdn.URL()+"/live/cam1/index.m3u8", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 403 {
				t.Errorf("%s: %d, want 403", m, res.StatusCode)
			}
		}
	})

	// A restarted stand-in starts empty and serves again.
	t.Run("restart", func(t *testing.T) {
		st := edgeState(t, primary)
		path := fmt.Sprintf("source/seg%d.m4s", st.last)
		if err := cdn.Restart(); err != nil {
			t.Fatal(err)
		}
		before := fetches(path)
		res, _ := get(t, cdn.URL()+"/live/cam1/"+path, nil)
		if res.StatusCode != 200 || res.Header.Get("X-Cache") != "Miss from zonecast-cdn" || fetches(path) != before+1 {
			t.Fatalf("after a restart: %d %s, %d origin requests (was %d)", res.StatusCode, res.Header.Get("X-Cache"), fetches(path), before)
		}
	})
}

func media(t *testing.T, body string) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal([]byte(body))
	if err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	m, ok := pl.(*playlist.Media)
	if !ok || m.PreloadHint == nil {
		t.Fatalf("not a live media playlist:\n%s", body)
	}
	return m
}

func listsPart(m *playlist.Media, uri string) bool {
	for _, p := range m.Parts {
		if p.URI == uri {
			return true
		}
	}
	for _, s := range m.Segments {
		for _, p := range s.Parts {
			if p.URI == uri {
				return true
			}
		}
	}
	return false
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
