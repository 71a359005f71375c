package cluster

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/policies/failover"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// The takeover logic must hold at every set of timings Validate accepts,
// not only at the ones the chaos suite runs: TestTakeoverGrid runs the
// leader's death over a grid of timing sets at Validate's bounds (segments
// of 1, 2 and 4 s; the relay timeout at two parts and just under a
// segment; the lease TTL just above a missed renewal plus a Redis failover,
// and longer), with real Redis and real QUIC relays and a model of the
// packager that cuts segments on a media clock. A viewer asks the nodes in
// the order of a CDN's origin group and checks the invariants: no media
// sequence number goes back, names two segments or is skipped; never two
// leaders; no stall beyond the broadcaster's reconnection.

// gridTimings is the grid: each set is one Validate accepts.
func gridTimings(t *testing.T) []failover.Timings {
	var out []failover.Timings
	for _, seg := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		base := failover.DefaultTimings.ForCadence(seg, failover.DefaultTimings.PartDuration)
		part := base.PartDuration
		for _, relayTimeout := range []time.Duration{2 * part, seg - part} {
			minLease := base.LeaseRenew + base.RedisFailover + 100*time.Millisecond
			for _, lease := range []time.Duration{minLease, 8 * time.Second} {
				tm := base
				tm.RelayTimeout, tm.LeaseTTL = relayTimeout, lease
				if err := tm.Validate(); err != nil {
					t.Fatalf("grid set (segment %v, relay %v, lease %v) is not valid: %v", seg, relayTimeout, lease, err)
				}
				out = append(out, tm)
			}
		}
	}
	return out
}

// TestTakeoverGridBounds: just past the bounds of the grid, Validate
// refuses with the rule the takeover logic depends on.
func TestTakeoverGridBounds(t *testing.T) {
	cases := []struct {
		name   string
		change func(*failover.Timings)
	}{
		{"relay timeout of a segment: the standby would notice a dead relay after the next cut", func(tm *failover.Timings) { tm.RelayTimeout = tm.SegmentDuration }},
		{"relay timeout under two parts: one late part would end the relay", func(tm *failover.Timings) { tm.RelayTimeout = 2*tm.PartDuration - time.Millisecond }},
		{"lease TTL within a missed renewal plus a Redis failover: a healthy leader would be deposed", func(tm *failover.Timings) { tm.LeaseTTL = tm.LeaseRenew + tm.RedisFailover }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := failover.DefaultTimings
			c.change(&tm)
			if err := tm.Validate(); err == nil {
				t.Fatal("Validate accepts it")
			}
		})
	}
}

// Its runs wait far more than they compute: run it with a high -parallel
// (mk/cluster.mk gives 64), or it takes minutes.
func TestTakeoverGrid(t *testing.T) {
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1", "a2")
	var seq atomic.Int64
	for _, tm := range gridTimings(t) {
		for _, sc := range []gridScenario{
			{name: "reconnect-to-standby-before-relay-timeout", delay: tm.RelayTimeout / 2, to: "b1"},
			{name: "reconnect-to-standby-after-relay-timeout", delay: tm.RelayTimeout + tm.PartDuration, to: "b1"},
			{name: "reconnect-elsewhere", delay: tm.RelayTimeout / 2, to: "a2"},
		} {
			name := fmt.Sprintf("segment=%v/relay=%v/lease=%v/%s", tm.SegmentDuration, tm.RelayTimeout, tm.LeaseTTL, sc.name)
			stream := fmt.Sprintf("grid%d", seq.Add(1))
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				runGrid(t, c, certs, tm, stream, sc)
			})
		}
	}
}

type gridScenario struct {
	name  string
	delay time.Duration // from the leader's death to the broadcaster's reconnection
	to    string        // the node it reconnects to
}

type gridNode struct {
	id    string
	co    *Coordinator
	media *gridMedia
	dead  atomic.Bool
}

func runGrid(t *testing.T, c *redistest.Cluster, certs string, tm failover.Timings, stream string, sc gridScenario) {
	// b1's relay listener sits behind a proxy that the leader's death cuts,
	// so that its relay times out as after a SIGKILL (a closed coordinator
	// would end it at once).
	proxy := newUDPProxy(t)
	// Node ids are unique per run: the runs share Redis and its registry.
	mk := func(id, zone, advertise string) *gridNode {
		n := &gridNode{id: id, media: newGridMedia(tm.SegmentDuration)}
		n.co = newGridCoordinator(t, c, certs, id, id+"-"+stream, zone, stream, tm, n.media, advertise)
		return n
	}
	a1 := mk("a1", "a", "")
	b1 := mk("b1", "b", proxy.addr())
	proxy.target(b1.co.RelayAddr())
	a2 := mk("a2", "a", "")
	nodes := []*gridNode{a1, b1, a2} // the CDN's order of origins
	time.Sleep(2 * tm.NodeHeartbeat)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	enc := newGridEncoder()
	stopA1 := enc.publish(ctx, a1, stream)
	view := &gridViewer{}
	go view.run(ctx, nodes, stream, tm.PartDuration/2)

	waitFor(t, "a1 leads and b1 stands by", 6*tm.SegmentDuration+10*time.Second, func() bool {
		return a1.co.job(stream).role() == RoleLeader && b1.co.job(stream).role() == RoleStandby
	})
	time.Sleep(tm.SegmentDuration)

	// The leader dies with its publisher; the broadcaster reconnects.
	stopA1()
	proxy.cut()
	a1.dead.Store(true)
	a1.co.Close()
	killed := time.Now()
	time.Sleep(sc.delay)
	to := b1
	if sc.to == "a2" {
		to = a2
	}
	enc.publish(ctx, to, stream)

	waitFor(t, "b1 leads", tm.LeaseTTL+tm.RelayTimeout+5*time.Second, func() bool { return b1.co.job(stream).role() == RoleLeader })
	time.Sleep(3 * tm.SegmentDuration)
	cancel()
	view.wait()

	r := view.report()
	if len(r.problems) > 0 {
		t.Errorf("invariants broken: %v", r.problems)
	}
	if r.segments < 3 {
		t.Fatalf("the viewer saw only %d segments", r.segments)
	}
	// Between two new segments a viewer waits a segment, plus after the
	// death the time the broadcaster took to reconnect.
	if limit := tm.SegmentDuration + sc.delay + 500*time.Millisecond; r.maxGapAfter(killed) > limit {
		t.Errorf("longest wait for a new segment after the death %v, want at most %v", r.maxGapAfter(killed), limit)
	}
	t.Logf("%d segments shown, longest wait for a new one after the death %v (reconnection after %v)", r.segments, r.maxGapAfter(killed).Round(time.Millisecond), sc.delay)
	if b1.media.coldResumes() > 0 {
		t.Error("b1 resumed cold: its aligned copy was not continued")
	}
}

func newGridCoordinator(t *testing.T, c *redistest.Cluster, certs, certID, id, zone, stream string, tm failover.Timings, m Media, advertise string) *Coordinator {
	t.Helper()
	co, err := NewCoordinator(CoordinatorConfig{
		Self:      NodeInfo{ID: id, Region: "grid-" + stream, Zone: zone, Capacity: 4, QUIC: "127.0.0.1:0"},
		Streams:   []string{stream},
		Ledger:    newTestLedger(t, c, tm),
		TLS:       loadTestTLS(t, certs, certID),
		Media:     func(string) Media { return m },
		Log:       discardLog(),
		Advertise: advertise,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(co.Close)
	return co
}

// gridEncoder is a live encoder: its media clock runs on whether or not a
// connection carries it, as a real encoder's does.
type gridEncoder struct{ start time.Time }

func newGridEncoder() *gridEncoder { return &gridEncoder{start: time.Now()} }

// publish connects to n as its local publisher (as the node's stream does:
// into its media, and to the coordinator) until the returned stop or ctx.
func (e *gridEncoder) publish(ctx context.Context, n *gridNode, stream string) (stop func()) {
	pctx, cancel := context.WithCancel(ctx)
	n.media.setLocal(true)
	n.co.IngestStarted(stream)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			b := binary.BigEndian.AppendUint64(nil, uint64(time.Since(e.start).Milliseconds()))
			n.media.write(b)
			n.co.IngestTS(stream, b)
		}
	}()
	return func() { cancel(); <-done }
}

// gridMedia models a packager: chunks carry the encoder's media clock (ms),
// every segment boundary of it is a keyframe, and a segment is known by the
// boundary it starts at (the packager's raw DTS). Resume follows the
// packager's rules: the newest local segment the leader also has fixes the
// numbering, which never moves back once aligned nor below zero; with no
// common segment the local ones continue after the leader's.
type gridMedia struct {
	seg int64 // ms

	mu       sync.Mutex
	local    bool
	nextMSN  uint64
	open     *gridSeg
	segs     []gridSeg
	lastK    int64
	waitEdge bool // after a cut or a reset: the next segment starts at a boundary
	aligned  bool // a resume matched once: numbers never move back after that
	cold     int
}

type gridSeg struct {
	MSN uint64 `json:"msn"`
	K   int64  `json:"k"`
}

type gridState struct {
	Next uint64    `json:"next"`
	Segs []gridSeg `json:"segs"`
	Open *gridSeg  `json:"open,omitempty"`
}

func newGridMedia(seg time.Duration) *gridMedia {
	return &gridMedia{seg: seg.Milliseconds(), lastK: -1}
}

func (m *gridMedia) setLocal(v bool) { m.mu.Lock(); m.local = v; m.mu.Unlock() }

func (m *gridMedia) coldResumes() int { m.mu.Lock(); defer m.mu.Unlock(); return m.cold }

func (m *gridMedia) write(b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ; len(b) >= 8; b = b[8:] {
		k := int64(binary.BigEndian.Uint64(b)) / m.seg
		edge := k != m.lastK
		if m.waitEdge && m.lastK < 0 {
			edge = false // joined mid-segment: wait for the next keyframe
		}
		m.lastK = k
		if !edge {
			continue
		}
		if m.open != nil {
			m.segs = append(m.segs, *m.open)
			if len(m.segs) > 6 {
				m.segs = m.segs[1:]
			}
		}
		m.open = &gridSeg{MSN: m.nextMSN, K: k}
		m.nextMSN++
		m.waitEdge = false
	}
}

func (m *gridMedia) WriteTS(b []byte) error {
	m.mu.Lock()
	local := m.local
	m.mu.Unlock()
	if !local { // one input per stream: the local publisher wins
		m.write(b)
	}
	return nil
}

func (m *gridMedia) Discontinuity() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open != nil {
		m.segs = append(m.segs, *m.open)
		m.open = nil
	}
	m.waitEdge, m.lastK = true, -1
}

func (m *gridMedia) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.open, m.segs, m.nextMSN, m.waitEdge, m.lastK, m.aligned = nil, nil, 0, true, -1, false
}

func (m *gridMedia) Listed() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.segs) }

func (m *gridMedia) State() ([]byte, map[string]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := gridState{Next: m.nextMSN, Segs: append([]gridSeg(nil), m.segs...)}
	if m.open != nil {
		o := *m.open
		st.Open, st.Next = &o, o.MSN
	}
	b, err := json.Marshal(st)
	return b, map[string]uint64{"source": st.Next}, err
}

func (m *gridMedia) Resume(blob []byte, cold bool) error {
	var st gridState
	if err := json.Unmarshal(blob, &st); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cold {
		m.cold++
		st.Next++
	}
	refs := st.Segs
	if st.Open != nil {
		refs = append(refs, *st.Open)
	}
	local := append([]gridSeg(nil), m.segs...)
	if m.open != nil {
		local = append(local, *m.open)
	}
match:
	for i := len(local) - 1; i >= 0; i-- {
		for _, ref := range refs {
			if ref.K != local[i].K {
				continue
			}
			delta := int64(ref.MSN) - int64(local[i].MSN)
			if delta < 0 && (m.aligned || int64(local[0].MSN)+delta < 0) {
				break match // never back once aligned, never below zero
			}
			m.renumber(delta)
			m.aligned = true
			known := map[int64]bool{}
			for _, r := range refs {
				known[r.K] = true
			}
			for len(m.segs) > 0 && !known[m.segs[0].K] {
				m.segs = m.segs[1:]
			}
			return nil
		}
	}
	if len(local) > 0 && local[0].MSN < st.Next {
		m.renumber(int64(st.Next - local[0].MSN))
	} else if len(local) == 0 && m.nextMSN < st.Next {
		m.nextMSN = st.Next
	}
	return nil
}

func (m *gridMedia) renumber(delta int64) {
	for i := range m.segs {
		m.segs[i].MSN = uint64(int64(m.segs[i].MSN) + delta)
	}
	if m.open != nil {
		m.open.MSN = uint64(int64(m.open.MSN) + delta)
	}
	m.nextMSN = uint64(int64(m.nextMSN) + delta)
}

// playlist is what the node serves: the complete segments.
func (m *gridMedia) playlist() []gridSeg {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]gridSeg(nil), m.segs...)
}

// gridViewer asks the nodes in the CDN's order (the first that serves)
// and checks what it is shown.
type gridViewer struct {
	mu       sync.Mutex
	byMSN    map[uint64]int64
	firstMSN uint64
	newAt    []time.Time // when each new segment was first shown
	problems []string
	done     chan struct{}
}

type gridReport struct {
	segments int
	problems []string
	newAt    []time.Time
}

func (v *gridViewer) run(ctx context.Context, nodes []*gridNode, stream string, every time.Duration) {
	v.mu.Lock()
	v.byMSN, v.done = map[uint64]int64{}, make(chan struct{})
	v.mu.Unlock()
	defer close(v.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var lastFirst uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		leaders := 0
		var from *gridNode
		for _, n := range nodes {
			if n.dead.Load() {
				continue
			}
			j := n.co.job(stream)
			if j.leading() {
				leaders++
			}
			if from == nil && j.role() != RoleNone {
				from = n
			}
		}
		v.mu.Lock()
		if leaders > 1 {
			v.problems = append(v.problems, fmt.Sprintf("%d leaders at once", leaders))
		}
		if from != nil {
			pl := from.media.playlist()
			if len(pl) > 0 {
				if pl[0].MSN < lastFirst {
					v.problems = append(v.problems, fmt.Sprintf("%s: media sequence %d after %d", from.id, pl[0].MSN, lastFirst))
				}
				lastFirst = pl[0].MSN
			}
			for _, s := range pl {
				if s.MSN > 1<<32 {
					v.problems = append(v.problems, fmt.Sprintf("%s: media sequence %d wrapped", from.id, s.MSN))
				}
				k, seen := v.byMSN[s.MSN]
				switch {
				case !seen:
					if len(v.byMSN) == 0 {
						v.firstMSN = s.MSN
					}
					v.byMSN[s.MSN] = s.K
					v.newAt = append(v.newAt, time.Now())
				case k != s.K:
					v.problems = append(v.problems, fmt.Sprintf("%s: msn %d names segment %d, was %d", from.id, s.MSN, s.K, k))
				}
			}
		}
		if len(v.problems) > 20 {
			v.problems = v.problems[:20]
		}
		v.mu.Unlock()
	}
}

func (v *gridViewer) wait() { <-v.done }

func (v *gridViewer) report() gridReport {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := gridReport{segments: len(v.byMSN), problems: append([]string(nil), v.problems...), newAt: v.newAt}
	var last uint64
	for m := range v.byMSN {
		last = max(last, m)
	}
	for m := v.firstMSN; m <= last && len(v.byMSN) > 0; m++ {
		if _, ok := v.byMSN[m]; !ok {
			r.problems = append(r.problems, fmt.Sprintf("msn %d never shown", m))
		}
	}
	return r
}

// maxGapAfter is the longest wait for a new segment that ended after t.
func (r gridReport) maxGapAfter(t time.Time) time.Duration {
	var worst time.Duration
	for i := 1; i < len(r.newAt); i++ {
		if r.newAt[i].After(t) {
			worst = max(worst, r.newAt[i].Sub(r.newAt[i-1]))
		}
	}
	return worst
}

// udpProxy forwards datagrams to a target; cut drops every flow that
// exists at that moment (a dead peer's), while later flows pass.
type udpProxy struct {
	conn *net.UDPConn
	dst  atomic.Pointer[net.UDPAddr]
	mu   sync.Mutex
	flow map[string]*udpFlow
}

type udpFlow struct {
	up   *net.UDPConn
	dead atomic.Bool
}

func newUDPProxy(t *testing.T) *udpProxy {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &udpProxy{conn: c, flow: map[string]*udpFlow{}}
	t.Cleanup(func() {
		c.Close()
		p.mu.Lock()
		for _, f := range p.flow {
			f.up.Close()
		}
		p.mu.Unlock()
	})
	go p.serve()
	return p
}

func (p *udpProxy) addr() string { return p.conn.LocalAddr().String() }

func (p *udpProxy) target(addr string) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err == nil {
		p.dst.Store(a)
	}
}

func (p *udpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.flow {
		f.dead.Store(true)
	}
}

func (p *udpProxy) serve() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		dst := p.dst.Load()
		if dst == nil {
			continue
		}
		p.mu.Lock()
		f := p.flow[from.String()]
		if f == nil {
			up, err := net.DialUDP("udp", nil, dst)
			if err != nil {
				p.mu.Unlock()
				continue
			}
			f = &udpFlow{up: up}
			p.flow[from.String()] = f
			go func(from *net.UDPAddr) {
				b := make([]byte, 64<<10)
				for {
					n, err := up.Read(b)
					if err != nil {
						return
					}
					if !f.dead.Load() {
						_, _ = p.conn.WriteToUDP(b[:n], from)
					}
				}
			}(from)
		}
		p.mu.Unlock()
		if !f.dead.Load() {
			_, _ = f.up.Write(buf[:n])
		}
	}
}
