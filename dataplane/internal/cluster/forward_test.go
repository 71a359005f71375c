package cluster

import (
	"context"
	"testing"
	"time"
)

// TestForwardToStandby: the ingesting leader a1 dies (its lease left to
// expire); the broadcaster reconnects to a2, which is not the standby. a2
// forwards its ingest to b1, the standby recorded in the lease; b1 goes on
// from it, takes the lease when it lapses (a2 stays out of the way), and a2
// keeps feeding it.
func TestForwardToStandby(t *testing.T) {
	a1, b1, a2, _, mb, mc := threeNodes(t)

	ctx1, stop1 := context.WithCancel(context.Background())
	publish(ctx1, a1)
	waitFor(t, "a1 leads, b1 stands by", 10*time.Second, func() bool {
		return row(a1).Role == "leader" && row(b1).Role == "standby"
	})

	mb.mu.Lock()
	resets := mb.resets // the first relay started b1 afresh
	mb.mu.Unlock()
	stop1()
	a1.Close() // no handover: the lease stays a1's until it expires
	if r := row(b1); r.Leader != "a1" {
		t.Fatalf("lease moved at once: %+v", r)
	}
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	publish(ctx2, a2)

	fedAt := func() int { mb.mu.Lock(); defer mb.mu.Unlock(); return mb.fed }
	before := fedAt()
	waitFor(t, "b1 fed by a2's forward", 5*time.Second, func() bool { return fedAt() > before+20*1316 })
	waitFor(t, "b1 leads", 10*time.Second, func() bool { return row(b1).Role == "leader" })
	// a2 aligns with the state b1 writes and serves as its standby.
	waitFor(t, "a2 stands by for b1", 5*time.Second, func() bool { r := row(a2); return r.Role == "standby" && r.Leader == "b1" })
	// a2 does not take the lease while its forward is healthy, and keeps
	// feeding b1.
	led := fedAt()
	time.Sleep(2 * fastTimings().LeaseTTL)
	if r := row(b1); r.Role != "leader" || r.Leader != "b1" {
		t.Fatalf("b1 lost the lease: %+v", r)
	}
	if fedAt() <= led {
		t.Fatal("b1 no longer fed by a2 after it took the lease")
	}
	// What /metrics shows of it.
	cam1 := map[string]string{"stream": "cam1"}
	wantMetric(t, b1, "b1", "zonecast_cluster_role", map[string]string{"stream": "cam1", "role": "leader"}, 1)
	wantMetric(t, a2, "a2", "zonecast_cluster_role", map[string]string{"stream": "cam1", "role": "standby"}, 1)
	wantMetric(t, b1, "b1", "zonecast_cluster_forwards_total", map[string]string{"stream": "cam1", "side": "adopted"}, 1)
	wantMetric(t, a2, "a2", "zonecast_cluster_forwards_total", map[string]string{"stream": "cam1", "side": "sent"}, 1)
	wantMetric(t, a2, "a2", "zonecast_cluster_relay_out_up", cam1, 1)
	wantMetric(t, b1, "b1", "zonecast_cluster_relay_in_fresh", cam1, 1)
	wantMetric(t, b1, "b1", "zonecast_cluster_terms_total", cam1, 1)
	wantMetric(t, b1, "b1", "zonecast_cluster_token", cam1, 2)
	wantMetric(t, b1, "b1", "zonecast_cluster_redis_reachable", nil, 1)

	mb.mu.Lock()
	if mb.resets != resets || mb.cold {
		t.Fatalf("b1 dropped or renumbered its segments (resets %d → %d, cold %v)", resets, mb.resets, mb.cold)
	}
	mb.mu.Unlock()

	// b1 dies too: a2, aligned with it and still ingesting, leads warm.
	b1.Close()
	waitFor(t, "a2 leads", 10*time.Second, func() bool { return row(a2).Role == "leader" })
	if r := row(a2); r.Token != 3 {
		t.Fatalf("a2 leads with %+v, want token 3", r)
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if mc.cold || mc.resumes == 0 {
		t.Fatalf("a2 took over cold (%v) or never aligned (%d resumes)", mc.cold, mc.resumes)
	}
}
