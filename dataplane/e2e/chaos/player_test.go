package chaos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
)

// TestFaultsPlayer (CHAOS_ONLY=player runs it alone): the failure that
// once broke the stream at the shipped timings, watched by hls.js in
// Chromium through an origin group in front of both nodes: a1 leads with
// b1 standing by; a1 and its encoder die together and a new encoder
// reconnects to b1 1.5 s later, after b1's relay has timed out. The player
// must play through: no fatal error, currentTime never going back, and no
// freeze longer than a segment beyond the reconnection.
func TestFaultsPlayer(t *testing.T) {
	const name = "player-sigkill-leader-and-encoder"
	if only := os.Getenv("CHAOS_ONLY"); only != "" && !matchesAny(name, strings.Split(only, ",")) {
		t.Skipf("CHAOS_ONLY=%s does not select %s", only, name)
	}
	p := Shipped
	h := NewHarness(t, edgeBin, p, "a1", "b1")
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)
	time.Sleep(3 * p.Segment())
	cdn := httptest.NewServer(originGroup(h, p.Timings.OriginResponseTimeout))
	t.Cleanup(cdn.Close)

	b := browser.Start(t)
	b.Navigate(t, cdn.URL+"/?stream="+StreamName)
	b.WaitPlaying(t, 1, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := b.Sample(ctx, 2*p.Segment(), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	injected := time.Now()
	h.Node("a1").Kill()
	if err := h.Bcast.Restart(encoderRestart); err != nil {
		t.Fatal(err)
	}
	states, err := b.Sample(ctx, p.Timings.LeaseTTL+4*p.Segment(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	reconnect := reconnectSince(h, injected)
	freeze, back := longestFreeze(states)
	if back {
		t.Errorf("currentTime went back: %s", browser.Summarize(states))
	}
	last := states[len(states)-1]
	line := fmt.Sprintf("CHAOS timings=%s fault=%s stall_s=%.2f media_lost_s=0.00 pdt_gap_s=0.00 longest_segment_s=0.00 broadcaster_reconnect_s=%.2f player_errors=%d",
		p.Name, name, freeze.Seconds(), reconnect.Seconds(), len(last.Errors))
	t.Log(line)
	t.Logf("hls.js non-fatal errors: %v", last.Errors)
	appendFigure(line)
	if last.Fatal != nil {
		t.Fatalf("hls.js fatal error after the fault: %s (errors %v)", *last.Fatal, last.Errors)
	}
	if limit := p.Segment() + reconnect; freeze > limit {
		t.Errorf("the picture froze for %v, want at most a segment plus the reconnection (%v): %s", freeze, limit, browser.Summarize(states))
	}
	if advanced := last.CurrentTime - states[0].CurrentTime; advanced < 0.6*last.At.Sub(states[0].At).Seconds() {
		t.Errorf("currentTime advanced %.2f s in %v: %s (errors %v)", advanced, last.At.Sub(states[0].At), browser.Summarize(states), last.Errors)
	}
}

// longestFreeze is the longest time the player's currentTime stood still
// over the samples, and whether it ever went back (the longest freeze
// before that).
func longestFreeze(states []browser.PlayerState) (freeze time.Duration, back bool) {
	var frozenSince time.Time
	for i := 1; i < len(states); i++ {
		prev, cur := states[i-1], states[i]
		if cur.CurrentTime < prev.CurrentTime-0.01 {
			return freeze, true
		}
		if cur.CurrentTime > prev.CurrentTime {
			frozenSince = time.Time{}
			continue
		}
		if frozenSince.IsZero() {
			frozenSince = prev.At
		}
		freeze = max(freeze, cur.At.Sub(frozenSince))
	}
	return freeze, false
}

// originGroup stands for the CDN's origin group in front of the nodes
// (first node primary): a request goes to the next node on a connection
// failure, a 5xx, a 404 or no answer within the origin response timeout,
// as CloudFront's origin failover does. It caches nothing.
func originGroup(h *Harness, timeout time.Duration) http.Handler {
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: timeout}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nodes := h.Nodes
		for i, n := range nodes {
			req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+n.HTTP+r.URL.RequestURI(), nil)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				if i == len(nodes)-1 {
					http.Error(w, err.Error(), http.StatusBadGateway)
				}
				continue
			}
			if (resp.StatusCode >= 500 || resp.StatusCode == http.StatusNotFound) && i < len(nodes)-1 {
				resp.Body.Close()
				continue
			}
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
			resp.Body.Close()
			return
		}
	})
}
