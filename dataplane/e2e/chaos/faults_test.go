package chaos

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// fault is one chaos case: the set-up starts with a1 (zone a) leading the
// stream and b1 (zone b) standing by; inject breaks something; the reader
// and the monitor watch throughout.
type fault struct {
	name    string
	inject  func(t *testing.T, h *Harness)
	observe time.Duration
	// Bounds asserted (the figures are what `make chaos` reports).
	// maxStall is the longest stall allowed; with plusReconnect, on top of
	// the broadcaster's reconnection (which zonecast does not control).
	maxStall      time.Duration
	plusReconnect bool
	maxPDTGap     time.Duration
	leader        string   // expected leader at the end ("" = any)
	netns         bool     // a1 runs in a network namespace (partitions)
	dual          bool     // input redundancy: primary feed to a1, backup feed to b1
	nodes         []string // default a1, b1 (the broadcaster and the reader try them in this order)
}

// encoderRestart is how long a crashed encoder takes to come back.
const encoderRestart = 1500 * time.Millisecond

// faults are the cases at profile p's timings.
func faults(p Profile) []fault {
	tm, segment := p.Timings, p.Segment()
	drainA1 := func(t *testing.T, h *Harness) {
		h.Node("a1").Term()
		if !h.Node("a1").Wait(tm.DrainDeadline) {
			t.Fatal("drained node did not exit")
		}
	}
	return []fault{
		{
			name:   "sigkill-standby",
			inject: func(t *testing.T, h *Harness) { h.Node("b1").Kill() },
			// Nothing a viewer sees: the leader keeps publishing.
			observe: 8 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "a1",
		},
		{
			name:   "sigkill-leader",
			inject: func(t *testing.T, h *Harness) { h.Node("a1").Kill() },
			// The broadcaster reconnects to b1, which goes on with the
			// leader's numbering from its aligned copy (whether the relay
			// timed out before the reconnection or not) and leads once the
			// dead leader's lease expires: viewers wait for the
			// reconnection only.
			observe: tm.LeaseTTL + 8*time.Second, maxStall: segment, plusReconnect: true, maxPDTGap: 0, leader: "b1",
		},
		{
			name: "sigkill-leader-and-encoder",
			inject: func(t *testing.T, h *Harness) {
				h.Node("a1").Kill()
				if err := h.Bcast.Restart(encoderRestart); err != nil {
					t.Fatal(err)
				}
			},
			// The encoder dies with the leader (one site lost) and a new
			// one, whose timestamps start again, connects to b1 after the
			// relay has timed out: b1 goes on from its aligned copy with
			// the next number and a discontinuity, never with numbers the
			// new timestamps happen to share with old segments.
			observe: tm.LeaseTTL + 8*time.Second, maxStall: segment, plusReconnect: true,
			maxPDTGap: encoderRestart + tm.BroadcasterRetry + segment, leader: "b1",
		},
		{
			name:   "sigkill-leader-reconnect-elsewhere",
			nodes:  []string{"a1", "a2", "b1"},
			inject: func(t *testing.T, h *Harness) { h.Node("a1").Kill() },
			// The broadcaster lands on a2, which is not the standby: a2
			// forwards its ingest to b1 (the standby recorded in the lease),
			// b1 goes on cutting from it once the dead leader's relay has
			// been quiet for half the relay timeout, and takes the lease
			// when it expires; a2 stays the source of b1's feed.
			observe: tm.LeaseTTL + 8*time.Second, maxStall: segment, plusReconnect: true, maxPDTGap: 0, leader: "b1",
		},
		{
			name:  "sigkill-leader-then-new-leader",
			nodes: []string{"a1", "a2", "b1"},
			inject: func(t *testing.T, h *Harness) {
				h.Node("a1").Kill()
				deadline := time.Now().Add(tm.LeaseTTL + tm.SRTPeerIdleTimeout + 10*time.Second)
				for h.Mon.Role("b1") != "leader" || h.Mon.Role("a2") != "standby" {
					if time.Now().After(deadline) {
						t.Fatalf("after a1's death b1 is %q and a2 %q, want leader and (aligned forwarder) standby", h.Mon.Role("b1"), h.Mon.Role("a2"))
					}
					time.Sleep(100 * time.Millisecond)
				}
				time.Sleep(2 * time.Second)
				h.Node("b1").Kill()
			},
			// As reconnect-elsewhere, then the new leader b1 dies too: a2,
			// which forwards its ingest to b1 and has aligned with the state
			// b1 writes, serves as its standby and goes on with its own
			// ingest; it leads warm when b1's lease lapses.
			observe: tm.LeaseTTL + 6*time.Second, maxStall: segment, maxPDTGap: 0, leader: "a2",
		},
		{
			name:  "sigkill-twin-then-leader",
			nodes: []string{"a1", "a2", "b1"},
			inject: func(t *testing.T, h *Harness) {
				// The twin zone's only node dies: a2, in the leader's own
				// zone, becomes the standby; then the leader dies too.
				h.Node("b1").Kill()
				deadline := time.Now().Add(tm.NodeTTL + tm.LeaseTTL + 10*time.Second)
				for h.Mon.Role("a2") != "standby" {
					if time.Now().After(deadline) {
						t.Fatalf("after b1's death a2 is %q, want standby (same zone)", h.Mon.Role("a2"))
					}
					time.Sleep(100 * time.Millisecond)
				}
				h.MarkFault() // the reconnection is counted from the leader's death
				h.Node("a1").Kill()
			},
			// The broadcaster reconnects to a2, which goes on from its
			// aligned copy.
			observe: tm.LeaseTTL + 8*time.Second, maxStall: segment, plusReconnect: true, maxPDTGap: 0, leader: "a2",
		},
		{
			name: "sigstop-leader",
			inject: func(t *testing.T, h *Harness) {
				h.Node("a1").Freeze()
				time.Sleep(tm.LeaseTTL + 4*time.Second)
				h.Node("a1").Thaw() // it wakes up deposed
			},
			// The broadcaster's sender gives up on the frozen node after
			// its peer-idle timeout and reconnects to b1; what it sent into
			// the frozen node is lost (no node received it).
			observe: 9 * time.Second, maxStall: segment, plusReconnect: true, maxPDTGap: tm.SRTPeerIdleTimeout + segment, leader: "b1",
		},
		{
			name:    "sigterm-drain",
			inject:  drainA1,
			observe: 9 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "b1",
		},
		{
			name:   "sigterm-drain-reconnect-elsewhere",
			nodes:  []string{"a1", "a2", "b1"},
			inject: drainA1,
			// The broadcaster lands on a2 after the drain: a2 forwards its
			// ingest to b1, which leads (the handover left no standby in
			// the lease) and takes the forward as its feed.
			observe: 9 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "b1",
		},
		{
			name: "api-drain",
			inject: func(t *testing.T, h *Harness) {
				url := "http://" + h.Node("a1").HTTP + "/api/v1/drain"
				for _, tc := range []struct {
					auth string
					want int
				}{{"", http.StatusUnauthorized}, {"Bearer wrong", http.StatusUnauthorized}, {"Bearer chaos-admin-token", http.StatusOK}} {
					req, _ := http.NewRequest(http.MethodPost, url, nil)
					if tc.auth != "" {
						req.Header.Set("Authorization", tc.auth)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != tc.want {
						t.Fatalf("drain with %q: %s, want %d", tc.auth, resp.Status, tc.want)
					}
				}
				if !h.Node("a1").Wait(tm.DrainDeadline) {
					t.Fatal("node drained through the API did not exit")
				}
			},
			observe: 9 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "b1",
		},
		{
			name:   "input-primary-feed-stops",
			dual:   true,
			inject: func(t *testing.T, h *Harness) { h.Dual.StopPrimary() },
			// b1 has been serving the same segments from the backup feed;
			// a1 hands the lease over as soon as its feed goes quiet.
			observe: 8 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "b1",
		},
		{
			name: "kill-redis-primary",
			inject: func(t *testing.T, h *Harness) {
				if _, err := h.Redis.KillPrimary(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			observe: 9 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "a1",
		},
		{
			name: "kill-both-redis-10s",
			inject: func(t *testing.T, h *Harness) {
				h.Redis.Primary.Kill()
				h.Redis.Replica.Kill()
				time.Sleep(10 * time.Second)
				if err := h.Redis.Primary.Start(); err != nil {
					t.Fatal(err)
				}
				if err := h.Redis.Replica.Start(); err != nil {
					t.Fatal(err)
				}
			},
			observe: 8 * time.Second, maxStall: segment, maxPDTGap: 0, leader: "a1",
		},
		{
			name:  "partition-leader-from-redis",
			netns: true,
			inject: func(t *testing.T, h *Harness) {
				if err := h.Netns.CutRedis(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(tm.LeaseTTL + 4*time.Second)
				if err := h.Netns.Heal(); err != nil {
					t.Fatal(err)
				}
			},
			// a1 still ingests and relays; b1 confirms Redis is fine, so a1
			// steps down at its deadline and b1, fed by a1's relay, leads.
			observe: 8 * time.Second, maxStall: 2 * segment, maxPDTGap: 0, leader: "b1",
		},
		{
			name:  "partition-leader-full",
			netns: true,
			inject: func(t *testing.T, h *Harness) {
				if err := h.Netns.Cut(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(tm.LeaseTTL + 4*time.Second)
				if err := h.Netns.Heal(); err != nil {
					t.Fatal(err)
				}
			},
			// The broadcaster keeps sending into the partitioned node: what
			// it sent there is lost, the stall lasts until a1 steps down
			// (its lease deadline) and the broadcaster reconnects.
			observe: 8 * time.Second, maxStall: tm.LeaseTTL + 4*segment, maxPDTGap: tm.LeaseTTL + 4*segment, leader: "b1",
		},
	}
}

// basicShipped are the faults `make test` runs at the shipped timings
// (CHAOS_SHIPPED=basic): the leader's death with the broadcaster
// reconnecting to the standby (with its encoder too) or elsewhere, a drain
// and a freeze. `make chaos` runs them all.
var basicShipped = []string{"sigkill-leader", "sigkill-leader-and-encoder", "sigkill-leader-reconnect-elsewhere", "sigterm-drain", "sigstop-leader"}

// TestFaults runs every fault on a fresh set-up, at each profile's timings
// (CHAOS_TIMINGS selects them, CHAOS_ONLY the faults by name,
// CHAOS_SHIPPED=basic the shipped profile's basic faults; with it,
// CHAOS_LOCAL=unshipped leaves those faults out of the local profile).
func TestFaults(t *testing.T) {
	profiles, err := Profiles()
	if err != nil {
		t.Fatal(err)
	}
	only := os.Getenv("CHAOS_ONLY")
	shipped := os.Getenv("CHAOS_SHIPPED")
	if shipped != "" && shipped != "basic" && shipped != "all" {
		t.Fatalf("CHAOS_SHIPPED=%q: want basic or all", shipped)
	}
	for _, p := range profiles {
		t.Run(p.Name, func(t *testing.T) {
			for _, f := range faults(p) {
				if only != "" && !matchesAny(f.name, strings.Split(only, ",")) {
					continue
				}
				if p.Name == Shipped.Name && shipped == "basic" && !slices.Contains(basicShipped, f.name) {
					continue
				}
				// make test runs the basic faults at the timings that ship
				// only; the local timings add the others.
				if p.Name == Local.Name && shipped == "basic" && os.Getenv("CHAOS_LOCAL") == "unshipped" && slices.Contains(basicShipped, f.name) {
					continue
				}
				t.Run(f.name, func(t *testing.T) {
					// Each fault has a set-up of its own and mostly waits (a
					// quarter of a core); go test's -parallel says how many
					// overlap (make test: 2, make chaos: 1, for the cleanest
					// figures).
					t.Parallel()
					runFault(t, p, f)
				})
			}
		})
	}
}

func runFault(t *testing.T, p Profile, f fault) {
	segment := p.Segment()
	nodes := f.nodes
	if nodes == nil {
		nodes = []string{"a1", "b1"}
	}
	var h *Harness
	if f.netns {
		h = NewHarnessNetns(t, edgeBin, p, "a1", nodes...)
	} else {
		h = NewHarness(t, edgeBin, p, nodes...)
	}
	if f.dual {
		h.UseDualFeed()
	}
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)
	time.Sleep(3 * segment) // the standby has aligned and the reader follows
	before := h.Reader.Report()
	if before.MaxStall > segment {
		t.Logf("note: stall of %v before the fault (machine busy)", before.MaxStall)
	}
	h.Reader.ResetStall()
	injected := time.Now()
	f.inject(t, h)
	time.Sleep(f.observe)
	rep := h.Reader.Report()
	overlaps := h.Mon.Overlaps()
	lost := rep.MediaLost
	if at := h.FaultAt(); !at.IsZero() {
		injected = at
	}
	reconnect := reconnectSince(h, injected)
	line := fmt.Sprintf("CHAOS timings=%s fault=%s stall_s=%.2f media_lost_s=%.2f pdt_gap_s=%.2f longest_segment_s=%.2f broadcaster_reconnect_s=%.2f terms=%d served_by=%v",
		p.Name, f.name, rep.MaxStall.Seconds(), lost.Seconds(), rep.MaxPDTGap.Seconds(), rep.LongestSeg.Seconds(), reconnect.Seconds(), h.Mon.Terms(), rep.ServedBy)
	t.Log(line)
	appendFigure(line)
	dump := func() string {
		var b strings.Builder
		for _, n := range h.Nodes {
			fmt.Fprintf(&b, "--- %s\n%s\n", n.ID, tail(n.Log(), 60))
		}
		return b.String()
	}
	for _, n := range h.Nodes {
		if l := n.Log(); strings.Contains(l, "WARNING: DATA RACE") {
			i := strings.Index(l, "WARNING: DATA RACE")
			t.Errorf("%s (built with -race) reported a data race:\n%s", n.ID, l[i:min(len(l), i+3000)])
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("two nodes led at once: %v", overlaps)
	}
	if len(rep.MSNBack) > 0 {
		t.Errorf("media sequence went back: %v", rep.MSNBack)
	}
	if len(rep.Mismatches) > 0 {
		t.Errorf("same media sequence number, different segment: %v", rep.Mismatches)
	}
	if len(rep.Skipped) > 0 {
		t.Errorf("media sequence numbers never served: %v", rep.Skipped)
	}
	maxStall := f.maxStall
	if f.plusReconnect {
		maxStall += reconnect
	}
	if rep.MaxStall > maxStall {
		t.Errorf("longest stall %v exceeds %v (at %s, fault at %s, broadcaster reconnected after %v)", rep.MaxStall, maxStall,
			rep.StallAt.Format("15:04:05.000"), injected.Format("15:04:05.000"), reconnect)
	}
	if rep.MaxPDTGap > f.maxPDTGap+100*time.Millisecond {
		t.Errorf("largest PDT gap %v exceeds %v", rep.MaxPDTGap, f.maxPDTGap)
	}
	if f.leader != "" && h.Mon.Role(f.leader) != "leader" {
		t.Errorf("%s is %q at the end, want leader", f.leader, h.Mon.Role(f.leader))
	}
	if t.Failed() || os.Getenv("CHAOS_LOGS") != "" {
		t.Log(dump())
	}
}

// appendFigure adds a line to CHAOS_OUT (make chaos collects them).
func appendFigure(line string) { testkit.AppendFigure("CHAOS_OUT", line) }

func matchesAny(name string, subs []string) bool {
	for _, s := range subs {
		if s != "" && strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func reconnectSince(h *Harness, t time.Time) time.Duration {
	if h.Caller != nil {
		return h.Caller.ReconnectSince(t)
	}
	if h.Bcast == nil {
		return 0
	}
	return h.Bcast.ReconnectSince(t)
}
