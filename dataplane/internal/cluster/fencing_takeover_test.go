package cluster

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

// TestTakeoverFences: the whole path with real coordinators. The leader
// dies without a word (its registry entry left to expire); its standby
// takes the lease over when the broadcaster reconnects to it and
// deregisters the dead leader's targets, once. A leader that drains is
// never fenced: it hands over and leaves the registry. A leader that dies
// while its broadcaster stays away (no takeover: nobody has the media) is
// fenced early, on its standby's word that its relay fell silent.
func TestTakeoverFences(t *testing.T) {
	t.Parallel()
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1")
	tm, pol := fenceTimings()
	tm.NodeHeartbeat = 200 * time.Millisecond
	tm.NodeTTL = 600 * time.Millisecond
	pol.QuietAfter = 5 * tm.NodeHeartbeat
	tm.RelayTimeout = 2 * tm.PartDuration // LeaderSilentAfter under the lease TTL, as shipped
	cases := []struct {
		name      string
		drain     bool
		wantFence bool
		noReturn  bool // the broadcaster does not come back
		cutRedis  bool // the leader loses Redis alone and keeps relaying
	}{
		{"leader crashes", false, true, false, false},
		{"leader drains", true, false, false, false},
		{"leader crashes, broadcaster gone: fenced before any takeover", false, true, true, false},
		{"leader cut off from Redis alone: its standby leads, nobody fenced", false, false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stream := newStream(t)
			var cutA1 *redisCut
			if tc.cutRedis {
				cutA1 = newRedisCut(t, c)
			}
			type node struct {
				*gridNode
				lb *fakeLB
			}
			mk := func(certID, zone string) node {
				n := node{gridNode: &gridNode{id: certID + "-" + stream, media: newGridMedia(tm.SegmentDuration)}, lb: &fakeLB{}}
				ledger := newTestLedger(t, c, tm).WithFencing(pol)
				if tc.cutRedis && certID == "a1" {
					ledger = NewLedger(cutA1.client(t, tm), tm).WithFencing(pol)
				}
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
			if tc.cutRedis {
				cutA1.cut()
				waitFor(t, "b1 leads", tm.LeaseTTL+tm.RelayTimeout+10*time.Second, func() bool { return b1.co.job(stream).role() == RoleLeader })
				time.Sleep(pol.QuietAfter + tm.LeaseTTL) // a fence would have come by now
				if got := b1.lb.deregistered(); len(got) != 0 {
					t.Fatalf("b1 fenced the leader that still relayed: %v", got)
				}
				return
			}
			stopA1()
			a1.co.vanish.Store(!tc.drain)
			a1.co.Close()
			if tc.noReturn {
				waitFor(t, "a1 deregistered", pol.QuietAfter+tm.LeaseTTL+5*time.Second, func() bool { return len(b1.lb.deregistered()) >= 2 })
				if b1.co.job(stream).role() == RoleLeader {
					t.Fatal("b1 leads without media")
				}
			} else {
				enc.publish(ctx, b1.gridNode, stream)
				waitFor(t, "b1 leads", tm.LeaseTTL+tm.RelayTimeout+10*time.Second, func() bool { return b1.co.job(stream).role() == RoleLeader })
			}
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

// redisCut is a TCP proxy to the Redis primary that can be cut: the node
// behind it loses Redis while everything else keeps it.
type redisCut struct {
	ln      net.Listener
	primary string
	mu      sync.Mutex
	conns   []net.Conn
	isCut   bool
}

func newRedisCut(t *testing.T, c *redistest.Cluster) *redisCut {
	t.Helper()
	primary, err := c.CurrentMaster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisCut{ln: ln, primary: primary}
	t.Cleanup(p.cut)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", primary)
			p.mu.Lock()
			if err != nil || p.isCut {
				p.mu.Unlock()
				in.Close()
				if out != nil {
					out.Close()
				}
				continue
			}
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

// client is a Redis client through the proxy (no Sentinel: the primary).
func (p *redisCut) client(t *testing.T, tm failover.Timings) *redis.Client {
	t.Helper()
	rdb, err := NewRedis(RedisEndpoint{Address: p.ln.Addr().String()}, tm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// cut closes the proxy and every connection through it.
func (p *redisCut) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isCut {
		return
	}
	p.isCut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
