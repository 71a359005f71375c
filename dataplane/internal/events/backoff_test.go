package events

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	d := &deliverer{policy: fastPolicy()} // 20ms doubling to 160ms
	for _, tc := range []struct {
		attempt int
		full    time.Duration
	}{{1, 20 * time.Millisecond}, {2, 40 * time.Millisecond}, {3, 80 * time.Millisecond}, {4, 160 * time.Millisecond}, {5, 160 * time.Millisecond}, {40, 160 * time.Millisecond}} {
		for range 50 {
			got := d.backoff(tc.attempt)
			if got > tc.full || got < tc.full*4/5 {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.attempt, got, tc.full*4/5, tc.full)
			}
		}
	}
}

// TestHorizon: an event refused past the horizon is given up (counted,
// acknowledged) rather than holding its stream's later events for ever.
func TestHorizon(t *testing.T) {
	q := NewMemory(10)
	old := Envelope{ID: NewID(), Type: StreamUpdated, Time: time.Now().Add(-25 * time.Hour), Stream: "s", Node: "n", Region: "r", Zone: "z"}
	if _, _, err := q.enqueue(t.Context(), request{op: opPlain, env: old}); err != nil {
		t.Fatal(err)
	}
	m := newMetrics(q)
	d := &deliverer{q: q, url: "http://127.0.0.1:1/refused", secret: []byte("k"), client: httpClient(), policy: fastPolicy(), log: testLog(t), metrics: m}
	es, err := q.fetch(t.Context(), 10)
	if err != nil || len(es) != 1 {
		t.Fatalf("fetch: %v %v", es, err)
	}
	d.send(t.Context(), es[0])
	if n, _, _ := q.backlog(t.Context()); n != 0 {
		t.Fatalf("backlog %d after giving up", n)
	}
	if got := gather(t, m, "zonecast_events_failed_total"); got != 1 {
		t.Fatalf("failed = %v", got)
	}
}
