package chaos

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/eventstest"
	"github.com/zonecast/zonecast/dataplane/internal/events"
)

// TestEvents: a webhook receiver checks every event's signature and each
// stream's order while the leader is SIGKILLed (its receiver down, so the
// leader's announcement is still pending when it dies), frozen or drained: the
// stream is announced live once, the takeover is a failover naming the old
// and new leader and why, never a second live, and the end of the input
// is one idle.
func TestEvents(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(h *Harness)
		after  func(h *Harness) // once b1 leads
		reason string
	}{
		{"sigkill-leader", func(h *Harness) { h.Node("a1").Kill() }, nil, "leader_lost"},
		{"sigterm-drain", func(h *Harness) { h.Node("a1").Term() }, nil, "handover"},
		// The frozen leader wakes deposed: whatever it still tries to
		// announce under its old token is refused.
		{"sigstop-leader", func(h *Harness) { h.Node("a1").Freeze(); h.T.Cleanup(h.Node("a1").Thaw) },
			func(h *Harness) { h.Node("a1").Thaw() }, "leader_lost"},
	} {
		t.Run(tc.name, func(t *testing.T) { runEvents(t, tc.inject, tc.after, tc.reason) })
	}
}

func runEvents(t *testing.T, inject, after func(*Harness), reason string) {
	const secret = "a-webhook-secret"
	rcv, err := eventstest.Start(secret, "")
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	// The nodes inherit the test's environment.
	t.Setenv("ZONECAST_EVENTS_WEBHOOK_URL", rcv.URL())
	t.Setenv("ZONECAST_EVENTS_WEBHOOK_SECRET", secret)
	rcv.Refuse(true)

	p := Local
	h := NewHarness(t, edgeBin, p, "a1", "b1")
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)
	dump := func() string {
		var b strings.Builder
		for _, n := range h.Nodes {
			fmt.Fprintf(&b, "--- %s\n%s\n", n.ID, tail(n.Log(), 40))
		}
		return b.String()
	}
	// The live announcement is queued and tried: the receiver refuses.
	deadline := time.Now().Add(20 * time.Second)
	for rcv.Attempts() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if rcv.Attempts() == 0 {
		t.Fatalf("no event was tried while a1 leads\n%s", dump())
	}
	inject(h)
	h.WaitRoles("b1", "", 30*time.Second)
	if after != nil {
		after(h)
	}
	rcv.Refuse(false)

	has := func(typ events.Type) func([]events.Envelope) bool {
		return func(es []events.Envelope) bool {
			return slices.ContainsFunc(es, func(e events.Envelope) bool { return e.Type == typ && e.Stream == StreamName })
		}
	}
	if !rcv.Wait(30*time.Second, has(events.StreamFailover)) {
		t.Fatalf("no failover event; received %v\n%s", eventstest.Types(rcv.Events()), dump())
	}
	h.Bcast.Stop()
	if !rcv.Wait(30*time.Second, has(events.StreamIdle)) {
		t.Fatalf("no idle event after the input stopped; received %v\n%s", eventstest.Types(rcv.Events()), dump())
	}
	time.Sleep(p.Timings.LeaseTTL) // a late duplicate or second announcement would show now

	got := rcv.Of(StreamName)
	want := []events.Type{events.StreamLive, events.StreamFailover, events.StreamIdle}
	if !slices.Equal(eventstest.Types(got), want) {
		t.Fatalf("stream %s: events %v, want %v\n%s", StreamName, eventstest.Types(got), want, dump())
	}
	if p := rcv.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
	live, failover, idle := got[0], got[1], got[2]
	if live.Node != "a1" || live.Data["leader"] != "a1" {
		t.Errorf("live from %s: %v", live.Node, live.Data)
	}
	if failover.Node != "b1" || failover.Data["previous_leader"] != "a1" || failover.Data["leader"] != "b1" || failover.Data["reason"] != reason {
		t.Errorf("failover from %s: %v, want a1 → b1 for %s", failover.Node, failover.Data, reason)
	}
	if idle.Node != "b1" {
		t.Errorf("idle from %s, want the leader b1", idle.Node)
	}
	for _, e := range got {
		if e.Region != "local" || e.Zone != e.Node[:1] {
			t.Errorf("%s: region %q zone %q", e.Type, e.Region, e.Zone)
		}
	}
	t.Logf("events %v, %d attempts, %d duplicates dropped", eventstest.Types(got), rcv.Attempts(), rcv.Duplicates())
}
