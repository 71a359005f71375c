package chaos

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/loadbalancer"
	"github.com/zonecast/zonecast/policies/failover"
)

// routingFault is a fault with production's routing in front of the
// nodes: the broadcaster (srt-live-transmit with libsrt's defaults) sends
// to the load balancer stand-in's accelerator from an address that lands
// in zone a, whose NLB hashes it to a1 or a2; b1 in zone b stands by.
type routingFault struct {
	name  string
	fault failover.Fault // the simulator's row it is compared with
	// outage is the length of a timed fault (the simulator's outage).
	outage time.Duration
	// inject breaks the leader (or its zone: zone lists its nodes).
	inject  func(t *testing.T, h *Harness, leader *Node, zone []*Node)
	observe time.Duration
	// peerIdle, when set, is the caller's peer-idle timeout instead of
	// libsrt's default (the encoder guidance's setting).
	peerIdle time.Duration
}

func routingFaults(tm failover.Timings) []routingFault {
	freeze := tm.LeaseTTL + 4*time.Second
	settle := tm.NLBDetection() + tm.LeaseTTL + 4*tm.SegmentDuration
	return []routingFault{
		{
			name: "sigkill-leader", fault: failover.NodeLoss,
			inject:  func(t *testing.T, h *Harness, leader *Node, _ []*Node) { leader.Kill() },
			observe: settle + 2*tm.SRTConnectTimeout,
		},
		{
			name: "sigkill-leader-peeridle-1s", fault: failover.NodeLoss, peerIdle: time.Second,
			inject:  func(t *testing.T, h *Harness, leader *Node, _ []*Node) { leader.Kill() },
			observe: settle + 2*tm.SRTConnectTimeout,
		},
		{
			name: "sigstop-leader", fault: failover.LeaderFreeze, outage: freeze,
			inject: func(t *testing.T, h *Harness, leader *Node, _ []*Node) {
				leader.Freeze()
				time.Sleep(freeze)
				leader.Thaw() // it wakes up deposed
			},
			observe: settle,
		},
		{
			name: "zone-loss", fault: failover.ZoneLoss,
			inject: func(t *testing.T, h *Harness, _ *Node, zone []*Node) {
				for _, n := range zone {
					n.Kill()
				}
			},
			observe: settle + tm.GATrafficShift + 2*tm.SRTConnectTimeout,
		},
	}
}

// TestRoutingFaults runs the production-routing rows at the shipped
// timings: each fault without fast fencing (only the stand-in's health
// checks and traffic shift take the dead node or zone out) and with it
// (the nodes call the stand-in's ELB and accelerator APIs), and prints
// stall and media lost next to the simulator's worst case for the same
// timings and routing (failover.WorstCaseVia with StandInRouting, fenced
// or not).
// CHAOS_ONLY selects faults by name, CHAOS_FENCING=no|yes the variants.
func TestRoutingFaults(t *testing.T) {
	only := os.Getenv("CHAOS_ONLY")
	variants := []bool{false, true}
	switch os.Getenv("CHAOS_FENCING") {
	case "":
	case "no":
		variants = []bool{false}
	case "yes":
		variants = []bool{true}
	default:
		t.Fatalf("CHAOS_FENCING=%q: want no or yes", os.Getenv("CHAOS_FENCING"))
	}
	p := Shipped
	for _, fencing := range variants {
		name := "no-fencing"
		if fencing {
			name = "fencing"
		}
		t.Run(name, func(t *testing.T) {
			for _, f := range routingFaults(p.Timings) {
				if only != "" && !matchesAny(f.name, strings.Split(only, ",")) {
					continue
				}
				t.Run(f.name, func(t *testing.T) { runRoutingFault(t, p, f, fencing) })
			}
		})
	}
}

func runRoutingFault(t *testing.T, p Profile, f routingFault, fencing bool) {
	tm, segment := p.Timings, p.Segment()
	lb := StartLoadBalancers(t, tm, "a", "b")
	// CHAOS_SLATE=yes runs the nodes with the slate as it ships: the
	// stall is then what a viewer sees, but the media lost is not
	// measurable (filler continues the PROGRAM-DATE-TIME), so those rows
	// say slate=yes and their media lost is the filler's, not the
	// broadcast's.
	slate := os.Getenv("CHAOS_SLATE") == "yes"
	env := func(id string) []string {
		var e []string
		if fencing {
			e = append(e, lb.FencingEnv(id[:1])...)
		}
		if slate {
			e = append(e, "ZONECAST_HLS_SLATE=true")
		}
		return e
	}
	h := NewHarnessEnv(t, edgeBin, p, env, "a1", "a2", "b1")
	lb.Register(h.Nodes...)
	if err := lb.WaitHealthy(h.Nodes...); err != nil {
		t.Fatal(err)
	}
	source, err := lb.SourceIn("a")
	if err != nil {
		t.Fatal(err)
	}
	var options url.Values
	if f.peerIdle > 0 {
		options = url.Values{"peeridletimeo": {strconv.Itoa(int(f.peerIdle / time.Millisecond))}}
		tm.SRTPeerIdleTimeout = f.peerIdle // for the prediction
	}
	h.UseCaller(CallerURI(lb.Accelerator.Addr(), source, options))
	h.Start()
	if err := h.Caller.WaitConnected(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	leader := waitZoneLeader(t, h, "a", 30*time.Second)
	var zone []*Node
	for _, n := range h.Nodes {
		if n.Zone == leader.Zone {
			zone = append(zone, n)
		}
	}
	time.Sleep(3 * segment) // the standby has aligned and the reader follows
	h.Reader.ResetStall()
	injected := time.Now()
	f.inject(t, h, leader, zone)
	time.Sleep(f.observe)
	rep := h.Reader.Report()
	noticed, reconnect := h.Caller.NoticedSince(injected), h.Caller.ReconnectSince(injected)

	r := StandInRouting(tm, fencing)
	var want failover.Bound
	for _, b := range failover.WorstCaseVia(tm, f.outage, r) {
		if b.Fault == f.fault {
			want = b
		}
	}
	variant := "no"
	if fencing {
		variant = "yes"
	}
	if slate {
		variant += " slate=yes"
	}
	line := fmt.Sprintf("CHAOS timings=%s routing=%s fencing=%s fault=%s stall_s=%.2f media_lost_s=%.2f pdt_gap_s=%.2f longest_segment_s=%.2f broadcaster_reconnect_s=%.2f caller_noticed_s=%.2f predicted_stall_s=%.2f predicted_media_lost_s=%.2f terms=%d served_by=%v",
		p.Name, r.Name, variant, f.name, rep.MaxStall.Seconds(), rep.MediaLost.Seconds(), rep.MaxPDTGap.Seconds(), rep.LongestSeg.Seconds(),
		reconnect.Seconds(), noticed.Seconds(), want.Stall.Seconds(), want.MediaLost.Seconds(), h.Mon.Terms(), rep.ServedBy)
	t.Log(line)
	appendFigure(line)

	if o := h.Mon.Overlaps(); len(o) > 0 {
		t.Errorf("two nodes led at once: %v", o)
	}
	if len(rep.MSNBack) > 0 {
		t.Errorf("media sequence went back: %v", rep.MSNBack)
	}
	if len(rep.Mismatches) > 0 {
		t.Errorf("same media sequence number, different segment: %v", rep.Mismatches)
	}
	if reconnect == 0 {
		t.Errorf("the broadcaster never reconnected through the stand-in after the fault")
	}
	if !leadsBut(h, leader) {
		t.Errorf("no node but %s leads after the fault", leader.ID)
	}
	if fencing {
		// Fencing acted only if the stand-in's APIs were called: the dead
		// leader is deregistered (a node is fenced only on the word of the
		// standby whose relay from it went silent, so a lost zone's other
		// nodes are left to the health checks), and a lost zone's weight
		// is 0 (or already back), which keeps new flows off all of them.
		for _, n := range []*Node{leader} {
			if s := lb.Groups[n.Zone].State(n.ID); s != loadbalancer.StateUnused && s != loadbalancer.StateHealthy {
				t.Errorf("%s is %s in the stand-in's target group: no fencing node deregistered it (is fencing in this edge?)", n.ID, s)
			}
		}
		if f.fault == failover.ZoneLoss && lb.Accelerator.Weight(nlbARN(leader.Zone)) != 0 {
			t.Errorf("zone %s's endpoint weight is %d after its loss: no fencing node set it to 0", leader.Zone, lb.Accelerator.Weight(nlbARN(leader.Zone)))
		}
	}
	if t.Failed() || os.Getenv("CHAOS_LOGS") != "" {
		var b strings.Builder
		for _, n := range h.Nodes {
			fmt.Fprintf(&b, "--- %s\n%s\n", n.ID, tail(n.Log(), 60))
		}
		fmt.Fprintf(&b, "--- srt-live-transmit\n%s", tail(h.Caller.Log(), 40))
		t.Log(b.String())
	}
}

// waitZoneLeader waits until a node of zone leads the stream and another
// node stands by, and returns the leader.
func waitZoneLeader(t *testing.T, h *Harness, zone string, d time.Duration) *Node {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		var leader *Node
		standby := false
		for _, n := range h.Nodes {
			switch h.Mon.Role(n.ID) {
			case "leader":
				leader = n
			case "standby":
				standby = true
			}
		}
		if leader != nil && standby {
			if leader.Zone != zone {
				t.Fatalf("%s (zone %s) leads: the stand-in sent the broadcaster to the wrong zone", leader.ID, leader.Zone)
			}
			return leader
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no leader in zone %s with a standby after %v\n--- srt-live-transmit\n%s", zone, d, tail(h.Caller.Log(), 30))
	return nil
}

// leadsBut: a live node other than old leads the stream.
func leadsBut(h *Harness, old *Node) bool {
	for _, n := range h.Nodes {
		if n != old && n.Alive() && h.Mon.Role(n.ID) == "leader" {
			return true
		}
	}
	return false
}
