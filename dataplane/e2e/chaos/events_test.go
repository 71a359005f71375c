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
// leader's announcement is still pending when it dies), frozen, drained,
// or its encoder's primary feed stops: the stream is announced live once,
// the takeover is a failover naming the old and new leader and why (or an
// input switch), never a second live, and the end of the input is one
// idle.
func TestEvents(t *testing.T) {
	for _, tc := range []eventsCase{
		{name: "sigkill-leader", inject: func(h *Harness) { h.Node("a1").Kill() }, reason: "leader_lost"},
		{name: "sigterm-drain", inject: func(h *Harness) { h.Node("a1").Term() }, reason: "handover"},
		// The frozen leader wakes deposed: whatever it still tries to
		// announce under its old token is refused.
		{name: "sigstop-leader", inject: func(h *Harness) { h.Node("a1").Freeze(); h.T.Cleanup(h.Node("a1").Thaw) },
			after: func(h *Harness) { h.Node("a1").Thaw() }, reason: "leader_lost"},
		// Input redundancy: the primary encoder's feed to a1 stops, b1 has
		// the backup's; the switch is announced instead of a failover.
		{name: "input-primary-feed-stops", dual: true, inject: func(h *Harness) { h.Dual.StopPrimary() }},
	} {
		t.Run(tc.name, func(t *testing.T) { runEvents(t, tc) })
	}
}

type eventsCase struct {
	name   string
	dual   bool
	inject func(h *Harness)
	after  func(h *Harness) // once b1 leads
	reason string           // of the failover; "" for an input switch
}

func runEvents(t *testing.T, tc eventsCase) {
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
	if tc.dual {
		h.UseDualFeed()
	}
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
	tc.inject(h)
	h.WaitRoles("b1", "", 30*time.Second)
	if tc.after != nil {
		tc.after(h)
	}
	rcv.Refuse(false)

	has := func(typ events.Type) func([]events.Envelope) bool {
		return func(es []events.Envelope) bool {
			return slices.ContainsFunc(es, func(e events.Envelope) bool { return e.Type == typ && e.Stream == StreamName })
		}
	}
	change := events.StreamFailover
	if tc.dual {
		change = events.StreamInputSwitched
	}
	if !rcv.Wait(30*time.Second, has(change)) {
		t.Fatalf("no %s event; received %v\n%s", change, eventstest.Types(rcv.Events()), dump())
	}
	if tc.dual {
		h.Dual.Stop()
	} else {
		h.Bcast.Stop()
	}
	if !rcv.Wait(30*time.Second, has(events.StreamIdle)) {
		t.Fatalf("no idle event after the input stopped; received %v\n%s", eventstest.Types(rcv.Events()), dump())
	}
	time.Sleep(p.Timings.LeaseTTL) // a late duplicate or second announcement would show now

	got := rcv.Of(StreamName)
	want := []events.Type{events.StreamLive, change, events.StreamIdle}
	if !slices.Equal(eventstest.Types(got), want) {
		t.Fatalf("stream %s: events %v, want %v\n%s", StreamName, eventstest.Types(got), want, dump())
	}
	if p := rcv.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
	live, moved, idle := got[0], got[1], got[2]
	if live.Node != "a1" || live.Data["leader"] != "a1" {
		t.Errorf("live from %s: %v", live.Node, live.Data)
	}
	switch {
	case tc.dual && (moved.Node != "a1" || moved.Data["from"] != "a1" || moved.Data["to"] != "b1"):
		t.Errorf("input switch from %s: %v, want a1 → b1", moved.Node, moved.Data)
	case !tc.dual && (moved.Node != "b1" || moved.Data["previous_leader"] != "a1" || moved.Data["leader"] != "b1" || moved.Data["reason"] != tc.reason):
		t.Errorf("failover from %s: %v, want a1 → b1 for %s", moved.Node, moved.Data, tc.reason)
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
