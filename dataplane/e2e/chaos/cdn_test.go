package chaos

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
)

// cdnFaults are the faults a viewer sees, run again with the viewers behind
// the CDN stand-in. With one node per zone, the leader's SIGKILL is its
// whole zone lost (the primary origin refuses connections); with its
// encoder, the zone lost with the broadcaster's site.
var cdnFaults = []string{"sigkill-leader", "sigkill-leader-and-encoder", "sigstop-leader", "sigterm-drain"}

// TestCDNFaults runs the viewer-visible faults at the shipped timings with
// three viewers watching at once: the LL-HLS reader straight at the nodes
// (as TestFaults has it), an LL-HLS reader and hls.js in Chromium through
// the stand-in. It writes one line per fault with both readers' figures and
// the player's longest freeze (CHAOS_ONLY selects faults by name).
func TestCDNFaults(t *testing.T) {
	only := os.Getenv("CHAOS_ONLY")
	for _, f := range faults(Shipped) {
		if !slices.Contains(cdnFaults, f.name) || (only != "" && !matchesAny(f.name, strings.Split(only, ","))) {
			continue
		}
		t.Run(f.name, func(t *testing.T) { runCDNFault(t, Shipped, f) })
	}
}

// hlsjsRetryBackoff is what hls.js adds to an outage that outlasts its
// first playlist retries: its default playlistLoadPolicy.errorRetry waits
// 1 s, then 2 s, before asking again, so it may resume that much after
// the media is back.
const hlsjsRetryBackoff = 3 * time.Second

func runCDNFault(t *testing.T, p Profile, f fault) {
	segment := p.Segment()
	nodes := f.nodes
	if nodes == nil {
		nodes = []string{"a1", "b1"}
	}
	h := NewHarnessCDN(t, edgeBin, p, nodes...)
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)

	b := browser.Start(t)
	b.Navigate(t, h.CDN.URL()+"/?stream="+StreamName)
	b.WaitPlaying(t, 1, 30*time.Second)
	time.Sleep(3 * segment) // the standby has aligned, the readers and the player follow
	// Until the standby's window is full, its playlist starts one segment
	// later than the leader's (it joined after the first segment began):
	// a stand-in that asks it while the primary is slow shows the viewer a
	// media sequence one lower on the primary's next answer. That happens
	// before any fault, with or without one; it is logged, and only what
	// goes back from the fault on fails the test.
	backBefore := map[*Reader]int{}
	for _, r := range []*Reader{h.Reader, h.CDNReader} {
		before := r.Report()
		if before.MaxStall > segment {
			t.Logf("note: stall of %v before the fault (machine busy)", before.MaxStall)
		}
		if len(before.MSNBack) > 0 {
			t.Logf("note: media sequence went back before the fault (the standby's window not yet full): %v", before.MSNBack)
		}
		backBefore[r] = len(before.MSNBack)
		r.ResetStall()
	}

	// The player is sampled through the fault and the observation.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type sampled struct {
		states []browser.PlayerState
		err    error
	}
	player := make(chan sampled, 1)
	injected := time.Now()
	go func() {
		states, err := b.Sample(ctx, time.Until(injected.Add(f.observe))+5*time.Second, 200*time.Millisecond)
		player <- sampled{states, err}
	}()
	f.inject(t, h)
	time.Sleep(f.observe)
	ps := <-player
	if ps.err != nil || len(ps.states) == 0 {
		t.Fatalf("sampling the player: %v (%d samples)", ps.err, len(ps.states))
	}
	if at := h.FaultAt(); !at.IsZero() {
		injected = at
	}
	reconnect := reconnectSince(h, injected)
	direct, via := h.Reader.Report(), h.CDNReader.Report()
	direct.MSNBack, via.MSNBack = direct.MSNBack[backBefore[h.Reader]:], via.MSNBack[backBefore[h.CDNReader]:]
	freeze, back := longestFreeze(ps.states)
	last := ps.states[len(ps.states)-1]

	line := fmt.Sprintf("CHAOS timings=%s fault=%s via=cdn stall_s=%.2f media_lost_s=%.2f pdt_gap_s=%.2f unfetchable=%d player_freeze_s=%.2f player_errors=%d direct_stall_s=%.2f direct_media_lost_s=%.2f broadcaster_reconnect_s=%.2f",
		p.Name, f.name, via.MaxStall.Seconds(), via.MediaLost.Seconds(), via.MaxPDTGap.Seconds(), len(via.Unfetchable),
		freeze.Seconds(), len(last.Errors), direct.MaxStall.Seconds(), direct.MediaLost.Seconds(), reconnect.Seconds())
	t.Log(line)
	t.Logf("hls.js non-fatal errors: %v", last.Errors)
	if len(direct.Long)+len(via.Long) > 0 {
		t.Logf("over-long segments: straight at the nodes %v, through the CDN %v", direct.Long, via.Long)
	}
	if len(via.Refusals) > 0 {
		t.Logf("playlist answers through the CDN that were not 200: %v", via.Refusals)
	}
	appendFigure(line)

	if overlaps := h.Mon.Overlaps(); len(overlaps) > 0 {
		t.Errorf("two nodes led at once: %v", overlaps)
	}
	for _, r := range []struct {
		name string
		rep  Report
	}{{"straight at the nodes", direct}, {"through the CDN", via}} {
		if len(r.rep.MSNBack) > 0 {
			t.Errorf("%s: media sequence went back: %v", r.name, r.rep.MSNBack)
		}
		if len(r.rep.Mismatches) > 0 {
			t.Errorf("%s: same media sequence number, different segment: %v", r.name, r.rep.Mismatches)
		}
		if len(r.rep.Skipped) > 0 {
			t.Errorf("%s: media sequence numbers never served: %v", r.name, r.rep.Skipped)
		}
	}
	if len(via.Unfetchable) > 0 {
		t.Errorf("media named by the CDN's playlists that it did not serve: %v", via.Unfetchable)
	}
	// The CDN must cost the viewer nothing the direct path does not: its
	// stall stays within the fault's bound, and it loses no media that the
	// reader straight at the nodes saw.
	maxStall := f.maxStall
	if f.plusReconnect {
		maxStall += reconnect
	}
	if via.MaxStall > maxStall {
		t.Errorf("through the CDN, longest stall %v exceeds %v (at %s, fault at %s, broadcaster reconnected after %v)", via.MaxStall, maxStall,
			via.StallAt.Format("15:04:05.000"), injected.Format("15:04:05.000"), reconnect)
	}
	if via.MediaLost > direct.MediaLost+100*time.Millisecond {
		t.Errorf("through the CDN %v of media lost, straight at the nodes %v", via.MediaLost, direct.MediaLost)
	}
	if last.Fatal != nil {
		t.Errorf("hls.js fatal error after the fault: %s (errors %v)", *last.Fatal, last.Errors)
	}
	if back {
		t.Errorf("hls.js: currentTime went back: %s", browser.Summarize(ps.states))
	}
	if limit := maxStall + hlsjsRetryBackoff; freeze > limit {
		t.Errorf("hls.js: the picture froze for %v, want at most %v (the readers' bound and its retry back-off): %s", freeze, limit, browser.Summarize(ps.states))
	}
	if f.leader != "" && h.Mon.Role(f.leader) != "leader" {
		t.Errorf("%s is %q at the end, want leader", f.leader, h.Mon.Role(f.leader))
	}
	if t.Failed() || os.Getenv("CHAOS_LOGS") != "" {
		for _, n := range h.Nodes {
			t.Logf("--- %s\n%s", n.ID, tail(n.Log(), 60))
		}
		t.Logf("--- varnishd\n%s", tail(h.CDN.Output(), 40))
	}
}
