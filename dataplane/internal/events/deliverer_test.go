package events_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/e2e/eventstest"
	"github.com/zonecast/zonecast/dataplane/internal/events"
	policy "github.com/zonecast/zonecast/policies/events"
)

func fast() policy.Delivery {
	p := policy.DefaultDelivery
	p.FirstRetry = 20 * time.Millisecond
	p.MaxBackoff = 160 * time.Millisecond
	p.Timeout = 2 * time.Second
	return p
}

// TestRetries: a receiver that refuses gets the events again, with growing
// waits, until it takes them, each stream's in order, every one signed.
func TestRetries(t *testing.T) {
	rcv, err := eventstest.Start("a-webhook-secret", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	rcv.Refuse(true)
	em, err := events.New(events.Options{URL: rcv.URL(), Secret: "a-webhook-secret", Node: "edge", Region: "local", Zone: "a", Policy: fast()})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(em.Metrics())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go em.Run(ctx)
	for i := range 5 {
		for _, s := range []string{"s1", "s2"} {
			em.Emit(ctx, events.Event{Type: events.StreamUpdated, Stream: s, Data: map[string]any{"n": i}})
		}
	}
	// Refused for a while: several attempts, nothing taken.
	deadline := time.Now().Add(30 * time.Second)
	for rcv.Attempts() < 8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rcv.Attempts() < 8 || len(rcv.Events()) != 0 {
		t.Fatalf("attempts %d, received %d while refusing", rcv.Attempts(), len(rcv.Events()))
	}
	if got := scrape(t, reg, "zonecast_events_pending"); got != 10 {
		t.Fatalf("pending = %v, want 10", got)
	}
	if got := scrape(t, reg, "zonecast_events_oldest_pending_seconds"); got <= 0 {
		t.Fatalf("oldest pending age = %v, want > 0", got)
	}
	rcv.Refuse(false)
	if !rcv.Wait(30*time.Second, func(es []events.Envelope) bool { return len(es) == 10 }) {
		t.Fatalf("received %d of 10 after the receiver came back", len(rcv.Events()))
	}
	if p := rcv.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
	for _, s := range []string{"s1", "s2"} {
		var ns []float64
		for _, e := range rcv.Of(s) {
			ns = append(ns, e.Data["n"].(float64))
		}
		if !slices.Equal(ns, []float64{0, 1, 2, 3, 4}) {
			t.Fatalf("stream %s arrived as %v", s, ns)
		}
	}
	// The receiver records an event before its answer reaches the deliverer.
	for end := time.Now().Add(5 * time.Second); scrape(t, reg, "zonecast_events_delivered_total") < 10 && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := scrape(t, reg, "zonecast_events_delivered_total"); got != 10 {
		t.Fatalf("delivered = %v", got)
	}
	if got := scrape(t, reg, "zonecast_events_pending"); got != 0 {
		t.Fatalf("pending after delivery = %v", got)
	}
}

func scrape(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	found := false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			found = true
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	if !found {
		t.Fatalf("metric %s not exposed", name)
	}
	return sum
}

func TestSecretNeverLogged(t *testing.T) {
	var logs strings.Builder
	rcv, err := eventstest.Start("s3cr3t-value", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	rcv.Refuse(true)
	em, err := events.New(events.Options{URL: rcv.URL(), Secret: "s3cr3t-value", Node: "n", Region: "r", Zone: "z", Policy: fast(), Log: newLog(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	em.Emit(ctx, events.Event{Type: events.StreamCreated, Stream: "s"})
	em.Run(ctx)
	if logs.Len() == 0 || strings.Contains(logs.String(), "s3cr3t-value") {
		t.Fatalf("logs (%d bytes) must tell of the failures and never hold the secret:\n%s", logs.Len(), logs.String())
	}
}
