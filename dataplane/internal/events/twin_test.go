package events_test

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/e2e/eventstest"
	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/internal/events"
	policy "github.com/zonecast/zonecast/policies/events"
)

// fastLock: a dead deliverer's lock expires within a second.
func fastLock() policy.Delivery {
	p := fast()
	p.LockTTL = 900 * time.Millisecond
	p.ClockMargin = 200 * time.Millisecond
	return p
}

func newClient(t *testing.T, c *redistest.Cluster) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: c.Primary.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func metric(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return scrape(t, reg, name)
}

// TestTwinDelivers: the node that queued events and began delivering them
// dies with all of them pending (its receiver was down); the twin takes
// the region's deliverer lock once it expires, claims them and delivers
// every one, each stream's in order.
func TestTwinDelivers(t *testing.T) {
	c := redistest.StartT(t)
	rcv, err := eventstest.Start("a-webhook-secret", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	rcv.Refuse(true)

	emitter := func(node string, rdb *redis.Client) *events.Emitter {
		em, err := events.New(events.Options{URL: rcv.URL(), Secret: "a-webhook-secret", Node: node, Region: "r1", Zone: node[:1],
			Redis: rdb, Policy: fastLock(), Log: newLog(io.Discard)})
		if err != nil {
			t.Fatal(err)
		}
		return em
	}
	// The dying node gets its own connection, so that its death also cuts
	// it from Redis: it cannot even release the lock.
	dying := redis.NewClient(&redis.Options{Addr: c.Primary.Addr()})
	a := emitter("a1", dying)
	actx, kill := context.WithCancel(context.Background())
	dead := make(chan struct{})
	go func() { a.Run(actx); close(dead) }()
	for i := range 5 {
		for _, s := range []string{"s1", "s2"} {
			a.Emit(actx, events.Event{Type: events.StreamUpdated, Stream: s, Data: map[string]any{"n": i}})
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for rcv.Attempts() < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rcv.Attempts() < 4 {
		t.Fatalf("the first node never tried to deliver (%d attempts)", rcv.Attempts())
	}
	pending, err := newClient(t, c).XPending(context.Background(), "zc:events:r1", "deliverers").Result()
	if err != nil || pending.Count != 10 || pending.Consumers["a1"] != 10 {
		t.Fatalf("pending before the death: %+v %v; want all 10 handed to a1", pending, err)
	}
	dying.Close()
	kill()
	<-dead // nothing of it is still on the way to the receiver

	rcv.Refuse(false)
	b := emitter("b1", newClient(t, c))
	bctx, stop := context.WithCancel(context.Background())
	defer stop()
	go b.Run(bctx)
	if !rcv.Wait(30*time.Second, func(es []events.Envelope) bool { return len(es) == 10 }) {
		t.Fatalf("the twin delivered %d of 10", len(rcv.Events()))
	}
	if p := rcv.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
	for _, s := range []string{"s1", "s2"} {
		var ns []float64
		for _, e := range rcv.Of(s) {
			ns = append(ns, e.Data["n"].(float64))
			if e.Node != "a1" {
				t.Fatalf("event from %s, want the dead a1", e.Node)
			}
		}
		if !slices.Equal(ns, []float64{0, 1, 2, 3, 4}) {
			t.Fatalf("stream %s arrived as %v", s, ns)
		}
	}
	// The receiver records an event before its answer reaches the twin.
	deadline = time.Now().Add(5 * time.Second)
	for metric(t, b.Metrics(), "zonecast_events_delivered_total") < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := metric(t, b.Metrics(), "zonecast_events_delivered_total"); got != 10 {
		t.Fatalf("the twin counts %v delivered, want 10", got)
	}
	for metric(t, b.Metrics(), "zonecast_events_pending") != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := metric(t, b.Metrics(), "zonecast_events_pending"); got != 0 {
		t.Fatalf("pending after delivery = %v", got)
	}
}
