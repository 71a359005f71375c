package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/cdn"
	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/provision/global"
)

// Harness is a local twin-zone set-up: Redis primary, replica and three
// sentinels; nodes in zones a and b; a broadcaster; a reader; a monitor.
type Harness struct {
	T     testing.TB
	Dir   string
	Redis *redistest.Cluster
	Nodes []*Node
	Bcast *Broadcaster
	// Caller replaces Bcast after UseCaller: srt-live-transmit calling one
	// address (the load balancer stand-in).
	Caller    *Caller
	callerURI string
	Dual      *DualFeed // input redundancy instead of Bcast
	Reader    *Reader
	Mon       *Monitor
	Netns     *Netns // set when one node runs in a network namespace
	// CDN and CDNReader: with NewHarnessCDN, the stand-in in front of the
	// nodes and a player behind it (Reader then reads the nodes directly,
	// with the origin secret).
	CDN       *cdn.StandIn
	CDNReader *Reader
	secret    string // the origin secret the nodes require; empty: none
	dual      bool
	// Rendition is the media playlist the reader follows (empty: source).
	Rendition string
	// Profile is the timings the nodes and the broadcaster run at.
	Profile Profile

	mu      sync.Mutex
	cancel  context.CancelFunc
	faultAt time.Time
	wg      sync.WaitGroup
}

// NewHarness starts Redis and the nodes (ids like "a1", "b1": the letter
// is the zone). The broadcaster and reader start with Start.
func NewHarness(t testing.TB, bin string, p Profile, ids ...string) *Harness {
	t.Helper()
	return newHarness(t, bin, p, "", "", ids...)
}

// cdnSecret is the origin secret of a set-up behind the CDN stand-in.
const cdnSecret = "chaos-origin-secret"

// NewHarnessCDN is NewHarness with the viewers behind the CDN stand-in
// (Varnish, its VCL rendered from the distribution the global stack
// declares): the nodes require the origin secret, which the stand-in sends
// as CloudFront does; its origin group's primary is the first node, its
// secondary the first node of another zone. Start starts the stand-in and
// CDNReader beside Reader.
func NewHarnessCDN(t testing.TB, bin string, p Profile, ids ...string) *Harness {
	t.Helper()
	return newHarness(t, bin, p, "", cdnSecret, ids...)
}

// NewHarnessNetns is NewHarness with node nsNode in a network namespace of
// its own, so that it can be partitioned; everything else binds the host
// side of the veth pair.
func NewHarnessNetns(t testing.TB, bin string, p Profile, nsNode string, ids ...string) *Harness {
	t.Helper()
	return newHarness(t, bin, p, nsNode, "", ids...)
}

// NewHarnessEnv is NewHarness with settings of each node's own (env(id):
// ZONECAST_* variables, e.g. a spool directory per node) from its first
// start on.
func NewHarnessEnv(t testing.TB, bin string, p Profile, env func(id string) []string, ids ...string) *Harness {
	t.Helper()
	return newHarnessEnv(t, bin, p, "", "", env, ids...)
}

func newHarness(t testing.TB, bin string, p Profile, nsNode, secret string, ids ...string) *Harness {
	t.Helper()
	return newHarnessEnv(t, bin, p, nsNode, secret, nil, ids...)
}

func newHarnessEnv(t testing.TB, bin string, p Profile, nsNode, secret string, env func(id string) []string, ids ...string) *Harness {
	t.Helper()
	dir := t.TempDir()
	h := &Harness{T: t, Dir: dir, Profile: p, secret: secret}
	hostIP, redisIP := "127.0.0.1", "127.0.0.1"
	if nsNode != "" {
		ns, err := NewNetns()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ns.Close)
		h.Netns, hostIP, redisIP = ns, ns.HostIP, ns.RedisIP
	}
	h.Redis = redistest.StartHostT(t, redisIP)
	certs := testkit.NodeCerts(t, ids...)
	for _, id := range ids {
		ip := hostIP
		if id == nsNode {
			ip = h.Netns.NodeIP
		}
		n, err := newNode(dir, bin, id, id[:1], ip, h.Redis.SentinelAddrs(), certs, p)
		if err != nil {
			t.Fatal(err)
		}
		if id == nsNode {
			n.prefix = []string{"ip", "netns", "exec", h.Netns.Name}
		}
		if env != nil {
			n.Env = env(id)
		}
		if secret != "" {
			// As provision renders a node behind the CDN: the secret, and
			// the viewer proxy (a node with no role for the stream fetches
			// it from the leader or the standby instead of answering 404).
			n.Env = append(n.Env, "ZONECAST_ORIGIN_SECRETS="+secret, "ZONECAST_CLUSTER_VIEWERS_PROXY=true")
		}
		h.Nodes = append(h.Nodes, n)
	}
	t.Cleanup(h.Close) // runs before the namespace is deleted
	for _, n := range h.Nodes {
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// Node by id.
func (h *Harness) Node(id string) *Node {
	for _, n := range h.Nodes {
		if n.ID == id {
			return n
		}
	}
	h.T.Fatalf("no node %s", id)
	return nil
}

func (h *Harness) nodes() []*Node { return h.Nodes }

// Start begins broadcasting (to the nodes in order of preference) and
// following the stream at the profile's cadence.
func (h *Harness) Start() {
	h.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	part, segment := h.Profile.Part(), h.Profile.Segment()
	switch {
	case h.callerURI != "":
		c, err := StartCaller(h.Profile, h.callerURI)
		if err != nil {
			h.T.Fatal(err)
		}
		h.Caller = c
	case h.dual:
		d, err := StartDualFeed(h.Profile, h.Nodes[0], h.Nodes[1])
		if err != nil {
			h.T.Fatal(err)
		}
		h.Dual = d
	default:
		b, err := StartBroadcaster(h.Profile, h.nodes)
		if err != nil {
			h.T.Fatal(err)
		}
		h.Bcast = b
	}
	h.Mon = NewMonitor(h.nodes)
	h.Reader = NewReader(h.origins, part, segment)
	if h.Rendition != "" {
		h.Reader = NewRenditionReader(h.origins, part, segment, h.Rendition)
	}
	if h.secret != "" {
		h.Reader.SetHeader(global.DefaultSecretHeader, h.secret)
		h.startCDN(ctx)
	}
	h.wg.Add(2)
	go func() { defer h.wg.Done(); h.Mon.Run(ctx) }()
	go func() { defer h.wg.Done(); h.Reader.Run(ctx) }()
}

// startCDN starts the stand-in in front of the first node and the first
// node of another zone, and a reader behind it.
func (h *Harness) startCDN(ctx context.Context) {
	h.T.Helper()
	primary := h.Nodes[0]
	var secondary *Node
	for _, n := range h.Nodes[1:] {
		if n.Zone != primary.Zone {
			secondary = n
			break
		}
	}
	if secondary == nil {
		h.T.Fatalf("the CDN's origin group needs nodes in two zones, have %d in zone %s", len(h.Nodes), primary.Zone)
	}
	h.CDN = cdn.StartT(h.T, cdn.Options{Primary: primary.HTTP, Secondary: secondary.HTTP, Secret: h.secret, Timings: h.Profile.Timings})
	h.CDNReader = NewCDNReader(h.CDN.URL(), h.Profile.Part(), h.Profile.Segment())
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.CDNReader.Run(ctx) }()
}

// origins: the CDN's origin group, leader first as a CDN would be set up
// (the first node of the list is the primary origin).
func (h *Harness) origins() []*Node { return h.Nodes }

// WaitRoles waits until node leader leads and standby stands by.
func (h *Harness) WaitRoles(leader, standby string, d time.Duration) {
	h.T.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if h.Mon.Role(leader) == "leader" && (standby == "" || h.Mon.Role(standby) == "standby") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var logs strings.Builder
	for _, n := range h.Nodes {
		fmt.Fprintf(&logs, "--- %s (role %q)\n%s\n", n.ID, h.Mon.Role(n.ID), tail(n.Log(), 40))
	}
	h.T.Fatalf("roles not reached in %v: want leader %s standby %s\n%s", d, leader, standby, logs.String())
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// Close stops everything.
func (h *Harness) Close() {
	if h.cancel != nil {
		h.cancel()
	}
	if h.Bcast != nil {
		h.Bcast.Stop()
	}
	if h.Dual != nil {
		h.Dual.Stop()
	}
	if h.Caller != nil {
		h.Caller.Stop()
	}
	h.wg.Wait()
	for _, n := range h.Nodes {
		n.Kill()
	}
}

// MarkFault records that the fault proper strikes now (an inject that
// first prepares a state, then strikes).
func (h *Harness) MarkFault() {
	h.mu.Lock()
	h.faultAt = time.Now()
	h.mu.Unlock()
}

// FaultAt is when MarkFault was called (zero if never).
func (h *Harness) FaultAt() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.faultAt
}

// UseCaller makes Start run a Caller publishing to uri (CallerURI) instead
// of the Broadcaster.
func (h *Harness) UseCaller(uri string) { h.callerURI = uri }

// UseDualFeed makes Start send a primary feed to the first node and a backup
// feed of the same encoder to the second (input redundancy).
func (h *Harness) UseDualFeed() { h.dual = true }
