package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// TestTakeoverFences: the whole path with real coordinators. The leader
// dies without a word (its registry entry left to expire); its standby
// takes the lease over when the broadcaster reconnects to it and
// deregisters the dead leader's targets, once. A leader that drains is
// never fenced: it hands over and leaves the registry.
func TestTakeoverFences(t *testing.T) {
	t.Parallel()
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1")
	tm, pol := fenceTimings()
	tm.NodeHeartbeat = 200 * time.Millisecond
	tm.NodeTTL = 600 * time.Millisecond
	pol.QuietAfter = 5 * tm.NodeHeartbeat
	cases := []struct {
		name      string
		drain     bool
		wantFence bool
	}{
		{"leader crashes", false, true},
		{"leader drains", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stream := newStream(t)
			type node struct {
				*gridNode
				lb *fakeLB
			}
			mk := func(certID, zone string) node {
				n := node{gridNode: &gridNode{id: certID + "-" + stream, media: newGridMedia(tm.SegmentDuration)}, lb: &fakeLB{}}
				ledger := newTestLedger(t, c, tm).WithFencing(pol)
				self := fenceNode(n.id, zone)
				self.Region, self.QUIC = "fence-"+stream, "127.0.0.1:0"
				f := NewFencer(FencerConfig{Ledger: ledger, Self: self, LoadBalancer: n.lb, Log: discardLog()})
				co, err := NewCoordinator(CoordinatorConfig{Self: self, Streams: []string{stream}, Ledger: ledger,
					TLS: loadTestTLS(t, certs, certID), Media: func(string) Media { return n.media }, Log: discardLog(), Fencer: f})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(co.Close)
				n.co = co
				return n
			}
			a1, b1 := mk("a1", "a"), mk("b1", "b")
			time.Sleep(2 * tm.NodeHeartbeat)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			enc := newGridEncoder()
			stopA1 := enc.publish(ctx, a1.gridNode, stream)
			waitFor(t, "a1 leads and b1 stands by", 6*tm.SegmentDuration+10*time.Second, func() bool {
				return a1.co.job(stream).role() == RoleLeader && b1.co.job(stream).role() == RoleStandby
			})
			time.Sleep(tm.SegmentDuration)
			if tc.drain {
				dctx, dcancel := context.WithTimeout(ctx, tm.DrainDeadline)
				if err := a1.co.Drain(dctx); err != nil {
					t.Fatalf("drain: %v", err)
				}
				dcancel()
			}
			stopA1()
			a1.co.vanish.Store(!tc.drain)
			a1.co.Close()
			enc.publish(ctx, b1.gridNode, stream)
			waitFor(t, "b1 leads", tm.LeaseTTL+tm.RelayTimeout+10*time.Second, func() bool { return b1.co.job(stream).role() == RoleLeader })
			want := 0
			if tc.wantFence {
				want = 2
				waitFor(t, "a1 deregistered", pol.QuietAfter+pol.RecordFor(tm), func() bool { return len(b1.lb.deregistered()) >= want })
			} else {
				time.Sleep(pol.QuietAfter + 2*tm.NodeHeartbeat) // the time a fence would have taken
			}
			if got := b1.lb.deregistered(); len(got) != want || (want > 0 && got[0] != "tg-srt-a/"+a1.id) {
				t.Fatalf("b1 deregistered %v, want %d calls for %s", got, want, a1.id)
			}
			if got := a1.lb.deregistered(); len(got) != 0 {
				t.Fatalf("a1 deregistered %v", got)
			}
		})
	}
}
