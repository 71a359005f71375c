package catalog_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

// TestCatalogOutage: with the catalog server killed, a stream the node
// knows keeps its publisher and its playlists, and its broadcaster can
// reconnect; a stream it never saw is refused with REJX_DOWN and a log
// line that says why.
func TestCatalogOutage(t *testing.T) {
	tb := newTable(t)
	a := startEdge(t, "a1", tb, nil)
	known := a.create("known-1")
	a.create("never-seen-here") // exists, but this node never looked it up
	pub := publish(t, a.srtURL("known-1", known.Passphrase))
	a.waitFor("known-1 live", 20*time.Second, func() bool { return a.state("known-1") == "live" })
	a.waitFor("known-1 playlist", 20*time.Second, func() bool { return a.playlist("known-1") == 200 })

	tb.server.Stop()
	// Past every TTL and several rechecks: nothing known is ended.
	time.Sleep(policy.Ending)
	if !pub.running() || a.playlist("known-1") != 200 {
		t.Fatalf("the outage ended a known stream (ffmpeg running %v, playlist %d)", pub.running(), a.playlist("known-1"))
	}
	err := a.handshake("never-seen-here", "")
	if !rejected(err, gosrt.REJX_DOWN) {
		t.Fatalf("unknown stream during the outage: %v, want REJX_DOWN (%d)", err, gosrt.REJX_DOWN)
	}
	waitFor(t, "the refusal's log line", 5*time.Second, func() bool {
		for _, l := range strings.Split(a.log(), "\n") {
			if strings.Contains(l, "publisher refused") && strings.Contains(l, "reason=catalog_unavailable") && strings.Contains(l, "never-seen-here") {
				return true
			}
		}
		return false
	})
	// The broadcaster of the known stream reconnects.
	pub.stop()
	a.waitFor("known-1 idle", 10*time.Second, func() bool { return a.metric(`zonecast_stream_live{stream="known-1"}`) == 0 })
	again := publish(t, a.srtURL("known-1", known.Passphrase))
	a.waitFor("known-1 live again", 20*time.Second, func() bool { return a.metric(`zonecast_stream_live{stream="known-1"}`) == 1 })
	time.Sleep(2 * time.Second)
	if !again.running() {
		t.Fatal("the reconnected publisher was cut during the outage")
	}
}

// TestOutageFailover: twin zones with the catalog killed. The standby
// wired the stream when its leader's relay arrived, and a node with no
// role for it answers its viewers from the leader without wiring it; when
// the leader dies the broadcaster reconnects to the standby, which still
// takes it and serves the playlists.
func TestOutageFailover(t *testing.T) {
	testkit.RequireTools(t, "redis-server", "redis-sentinel", "openssl")
	tb := newTable(t)
	redis := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1", "a2")
	a := startEdge(t, "a1", tb, &clusterOpts{zone: "a", sentinels: redis.SentinelAddrs(), certs: certs})
	b := startEdge(t, "b1", tb, &clusterOpts{zone: "b", sentinels: redis.SentinelAddrs(), certs: certs})
	viewerSide := startEdge(t, "a2", tb, &clusterOpts{zone: "a", sentinels: redis.SentinelAddrs(), certs: certs})
	c := a.create("final")
	publish(t, a.srtURL("final", c.Passphrase))
	role := func(e *edge) string {
		var row map[string]any
		e.api("GET", "/api/v1/streams/final", nil, &row)
		r, _ := row["role"].(string)
		return r
	}
	a.waitFor("a1 leads", 30*time.Second, func() bool { return role(a) == "leader" })
	b.waitFor("b1 stands by (wired by the relay)", 30*time.Second, func() bool { return role(b) == "standby" })
	b.waitFor("b1's copy of the playlist", 20*time.Second, func() bool { return b.playlist("final") == 200 })
	viewerSide.waitFor("a2 answers the viewers through the leader", 10*time.Second, func() bool { return viewerSide.playlist("final") == 200 })
	if r := role(viewerSide); r != "" {
		t.Fatalf("a2 has a role (%q) for a stream it only proxies: it was wired", r)
	}

	tb.server.Stop()
	a.kill()
	pub := publish(t, b.srtURL("final", c.Passphrase))
	b.waitFor("b1 takes the broadcaster", 30*time.Second, func() bool { return b.metric(`zonecast_stream_live{stream="final"}`) == 1 })
	b.waitFor("b1 leads", 30*time.Second, func() bool { return b.metric(`zonecast_cluster_role{role="leader",stream="final"}`) == 1 })
	time.Sleep(2 * time.Second)
	if !pub.running() || b.playlist("final") != http.StatusOK {
		t.Fatalf("after the failover: ffmpeg running %v, playlist %d", pub.running(), b.playlist("final"))
	}
}

// TestUnknownNameFlood: 10,000 handshakes a second for random names reach
// the catalog at most at the miss budget's rate, while a known stream's
// real encoder (ffmpeg, whose libsrt repeats a handshake that got no
// answer, as every encoder does) keeps being let in.
func TestUnknownNameFlood(t *testing.T) {
	tb := newTable(t)
	a := startEdge(t, "a1", tb, nil)
	known := a.create("known-1")
	if err := a.handshake("known-1", known.Passphrase); err != nil {
		t.Fatal(err)
	}
	readsBefore := a.metric(`zonecast_catalog_lookups_total{result="read"}`)
	const seconds, rate = 6, 10_000
	ctx, cancel := context.WithTimeout(context.Background(), seconds*time.Second)
	defer cancel()
	start := time.Now()
	fl, err := floodRaw(ctx, a.srtAddr, rate)
	if err != nil {
		t.Fatal(err)
	}
	var knownOK, knownTotal int
	var slowest time.Duration
	var failures []string
	for ctx.Err() == nil {
		t0 := time.Now()
		out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
			"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "0.5", "-c:v", "libx264", "-preset", "ultrafast",
			"-f", "mpegts", a.srtURL("known-1", known.Passphrase)).CombinedOutput()
		knownTotal++
		if err == nil {
			knownOK++
			slowest = max(slowest, time.Since(t0))
		} else {
			failures = append(failures, fmt.Sprintf("%v: %s", err, out))
		}
	}
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond) // the last answers and counts
	reads := a.metric(`zonecast_catalog_lookups_total{result="read"}`) - readsBefore
	throttled := a.metric(`zonecast_catalog_lookups_total{result="throttled"}`)
	p := policy.DefaultCache
	// The budget, plus the known stream's own refreshes (one per TTL) and
	// a tenth for the counters' timing.
	bound := float64(p.MissBurst) + p.MissRate*elapsed.Seconds() + elapsed.Seconds()/p.PositiveTTL.Seconds() + 1
	bound *= 1.1
	t.Logf("flood: %d inductions, %d conclusions (random names) in %v (machine shared and loaded), %d rejections received; catalog reads %.0f (bound %.0f), throttled %.0f; known encoder's sessions %d/%d let in, slowest (start to end of a 0.5 s session) %v",
		fl.inductions.Load(), fl.conclusions.Load(), elapsed.Round(time.Millisecond), fl.rejections.Load(), reads, bound, throttled, knownOK, knownTotal, slowest.Round(time.Millisecond))
	if reads > bound {
		t.Fatalf("the flood reached the catalog %.0f times, beyond the miss budget's %.0f", reads, bound)
	}
	if float64(fl.conclusions.Load()) < 2*bound {
		t.Fatalf("the flood made only %d conclusions, too few to test the budget (%.0f)", fl.conclusions.Load(), bound)
	}
	if throttled == 0 {
		t.Fatalf("%d handshakes for unknown names and none throttled (unavailable %.0f, known: %v)", fl.conclusions.Load(), a.metric(`zonecast_catalog_lookups_total{result="unavailable"}`), failures)
	}
	if knownOK != knownTotal {
		t.Fatalf("known stream refused during the flood: %d of %d accepted: %v", knownOK, knownTotal, failures)
	}
}
