package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/internal/relay"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

func TestHandoverRefusal(t *testing.T) {
	const relayTimeout, lease = time.Second, 6 * time.Second
	ladder := relay.Status{Ladder: true}
	tests := []struct {
		name      string
		leading   bool
		relayUp   bool
		st        relay.Status
		statusAge time.Duration
		ledFor    time.Duration
		want      string
	}{
		{"hand over", true, true, ladder, 200 * time.Millisecond, time.Minute, ""},
		{"not leading", false, true, ladder, 200 * time.Millisecond, time.Minute, "not leading"},
		{"no relay to a standby", true, false, ladder, -1, time.Minute, "no standby"},
		{"standby never answered", true, true, ladder, -1, time.Minute, "standby status not fresh"},
		{"standby's status too old", true, true, ladder, 1500 * time.Millisecond, time.Minute, "standby status not fresh"},
		{"standby without a ladder", true, true, relay.Status{}, 200 * time.Millisecond, time.Minute, "standby's ladder not producing"},
		{"term younger than a lease (no ping-pong)", true, true, ladder, 200 * time.Millisecond, 5 * time.Second, "leading for less than a lease"},
		{"term exactly a lease old", true, true, ladder, 200 * time.Millisecond, lease, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := handoverRefusal(tc.leading, tc.relayUp, tc.st, tc.statusAge, relayTimeout, tc.ledFor, lease); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// ladderFake is a fakeMedia whose ladder may be producing.
type ladderFake struct {
	*fakeMedia
	producing atomic.Bool
}

func (m *ladderFake) LadderProducing() bool { return m.producing.Load() }

// TestLadderFailedHandsOverToWarmLadder: the leader's transcoder fails;
// while the standby's ladder does not produce, the leader keeps the lease
// (its own restart path); once the standby reports a producing ladder, the
// lease moves to it at once under the next token, and the old leader, which
// still ingests and relays, does not take it back.
func TestLadderFailedHandsOverToWarmLadder(t *testing.T) {
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1")
	ma := &ladderFake{fakeMedia: &fakeMedia{start: time.Now()}}
	mb := &ladderFake{fakeMedia: &fakeMedia{start: time.Now()}}
	a1 := newCoordinator(t, c, certs, "a1", "a", ma)
	b1 := newCoordinator(t, c, certs, "b1", "b", mb)
	time.Sleep(200 * time.Millisecond) // registry heartbeats

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publish(ctx, a1)
	waitFor(t, "a1 leads, b1 stands by", 10*time.Second, func() bool {
		return row(a1).Role == "leader" && row(b1).Role == "standby"
	})
	tm := fastTimings()
	time.Sleep(tm.LeaseTTL) // past the young-term guard

	if a1.LadderFailed("cam1", "transcoder: exit") {
		t.Fatal("handed over to a standby whose ladder does not produce")
	}
	if b1.LadderFailed("cam1", "transcoder: exit") {
		t.Fatal("a standby handed over a lease it does not hold")
	}
	if r := row(a1); r.Role != "leader" || r.Token != 1 {
		t.Fatalf("after a failure with no warm standby a1 is %+v, want leader with token 1", r)
	}

	mb.producing.Store(true)
	time.Sleep(2 * tm.PartDuration) // the standby's status reaches the leader (every 250 ms)
	waitFor(t, "a1 hands over", 2*time.Second, func() bool { return a1.LadderFailed("cam1", "transcoder: exit") })
	waitFor(t, "b1 leads", 2*time.Second, func() bool { return row(b1).Role == "leader" })
	if r := row(b1); r.Leader != "b1" || r.Token != 2 {
		t.Fatalf("b1 sees %+v, want b1 leading under token 2", r)
	}
	if a1.LadderFailed("cam1", "transcoder: exit") {
		t.Fatal("a node that no longer leads handed over again")
	}
	// No flapping: a1 still ingests and relays to b1, and must not take the
	// lease back while b1 holds it.
	deadline := time.Now().Add(3 * tm.LeaseTTL)
	for time.Now().Before(deadline) {
		if r := row(a1); r.Role == "leader" || r.Leader != "b1" || r.Token != 2 {
			t.Fatalf("after the handover a1 sees %+v, want b1 leading under token 2", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ma.mu.Lock()
	mb.mu.Lock()
	fedB := mb.fed
	mb.mu.Unlock()
	ma.mu.Unlock()
	if fedB == 0 {
		t.Fatal("the new leader is not fed by the old leader's relay")
	}
}
