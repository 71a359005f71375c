package core

// The node's part in its twin zones: Redis-coordinated leases, the QUIC
// hot-standby relay, the serving gate, the streams API rows, drain.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/internal/awsfence"
	"github.com/zonecast/zonecast/dataplane/internal/cluster"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/relay"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	"github.com/zonecast/zonecast/dataplane/internal/viewerproxy"
	"github.com/zonecast/zonecast/policies/failover"
)

// clustering is the node's part in its twin zones: the coordinator
// (leases, relay, standby), its Redis client, and the viewer proxy that
// answers for streams this node has no role for.
type clustering struct {
	n       *Node
	coord   *cluster.Coordinator
	rdb     *redis.Client
	timings failover.Timings
	// proxy answers for a stream this node neither leads nor stands by
	// for; nil without cluster.viewers.proxy (404).
	proxy *viewerproxy.Proxy
}

// newClustering joins the cluster; streams take part as they are wired
// (attach).
func newClustering(n *Node) (*clustering, error) {
	cc := n.Config.Cluster
	// The node's own packaging cadence bounds how fast a takeover shows.
	t := failover.DefaultTimings.ForCadence(n.Config.HLS.SegmentDuration, n.Config.HLS.PartDuration)
	tl, err := relay.LoadTLS(cc.TLS.CA, cc.TLS.Cert, cc.TLS.Key, cc.TLS.PeerName)
	if err != nil {
		return nil, err
	}
	rdb, err := cluster.NewRedis(cluster.RedisEndpoint{
		Sentinels: cc.Redis.Sentinels, Master: cc.Redis.Master,
		Address: cc.Redis.Address, Password: cc.Redis.Password, TLS: cc.Redis.TLS,
	}, t)
	if err != nil {
		return nil, err
	}
	toward := append(append([]string(nil), cc.Redis.Sentinels...), nonEmpty(cc.Redis.Address)...)
	httpAddr, err := cluster.AdvertiseAddr(n.Config.HTTP.Listen, cc.Viewers.Advertise, toward)
	if err != nil {
		if cc.Viewers.Proxy {
			rdb.Close()
			return nil, fmt.Errorf("cluster.viewers: %w", err)
		}
		httpAddr = n.Config.HTTP.Listen // informational only without the proxy
	}
	// The node publishes what a survivor needs to fence it, whether or not
	// it fences others itself.
	self := cluster.NodeInfo{ID: n.Config.Node.ID, Region: n.Config.Node.Region, Zone: n.Config.Node.Zone,
		Capacity: cc.Capacity, HTTP: httpAddr, QUIC: cc.QUIC.Listen,
		TargetGroups: n.Config.Fencing.TargetGroups, Endpoint: n.Config.Fencing.Endpoint}
	fencing := failover.DefaultFencing
	fencing.Enabled = n.Config.Fencing.Enabled
	if err := fencing.Validate(t); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("fencing policy: %w", err)
	}
	ledger := cluster.NewLedger(rdb, t).WithFencing(fencing)
	fencer, err := newFencer(n, ledger, self)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	coord, err := cluster.NewCoordinator(cluster.CoordinatorConfig{
		Self:   self,
		Ledger: ledger,
		Fencer: fencer,
		TLS:    tl,
		Media: func(name string) cluster.Media {
			if w := n.wiring(name); w != nil {
				return packagerMedia{n: n, w: w}
			}
			return nil
		},
		Wire:            n.wireForRelay,
		Log:             n.Log,
		Announcer:       leaderEvents{&n.events},
		Advertise:       cc.QUIC.Advertise,
		AdvertiseToward: toward,
	})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	c := &clustering{n: n, coord: coord, rdb: rdb, timings: t}
	n.Metrics.Registry.MustRegister(coord)
	if fencer != nil {
		n.Metrics.Registry.MustRegister(fencer)
	}
	if cc.Viewers.Proxy {
		if c.proxy, err = newViewerProxy(n, coord, t); err != nil {
			c.Close()
			return nil, err
		}
		proxied := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_viewer_proxy_requests_total",
			Help: "Requests for a stream this node has no role for, answered from its leader or standby, by outcome."}, []string{"result"})
		n.Metrics.Registry.MustRegister(proxied)
		c.proxy.Observe = func(result string) { proxied.WithLabelValues(result).Inc() }
	}
	return c, nil
}

// newFencer is fast fencing's part, when fencing.enabled: the fencer with
// the ELB API (this node's region) and, with fencing.endpoint_group, the
// Global Accelerator API. Nil when fencing is off.
func newFencer(n *Node, ledger *cluster.Ledger, self cluster.NodeInfo) (*cluster.Fencer, error) {
	fc := n.Config.Fencing
	if !fc.Enabled {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lb, err := awsfence.NewLoadBalancer(ctx, n.Config.Node.Region, fc.ELBURL)
	if err != nil {
		return nil, fmt.Errorf("fencing: %w", err)
	}
	var acc cluster.Accelerator // nil, not a nil pointer, when zones are not weighted
	if fc.EndpointGroup != "" {
		a, err := awsfence.NewAccelerator(ctx, fc.AcceleratorURL)
		if err != nil {
			return nil, fmt.Errorf("fencing: %w", err)
		}
		acc = a
	}
	return cluster.NewFencer(cluster.FencerConfig{Ledger: ledger, Self: self, EndpointGroup: fc.EndpointGroup,
		LoadBalancer: lb, Accelerator: acc, Log: n.Log}), nil
}

// attach makes a wired stream take part in the cluster: its publishers
// take leases, its TS goes to the relay.
func (c *clustering) attach(name string, st *stream.Stream, w *wiring) {
	c.coord.AddStream(name)
	st.Observe(ingestObserver{c.coord})
	w.onClose(st.Subscribe("relay", relayFeed{c.coord, name}))
}

// Close leaves the cluster.
func (c *clustering) Close() {
	c.coord.Close()
	c.rdb.Close()
}

// Drain hands every stream this node leads to its standby, within the
// policy's drain deadline.
func (c *clustering) Drain() {
	ctx, cancel := context.WithTimeout(context.Background(), c.timings.DrainDeadline)
	defer cancel()
	_ = c.coord.Drain(ctx)
}

// elsewhere answers for a stream this node does not serve now: from its
// leader or standby through the viewer proxy, else nil (404).
func (c *clustering) elsewhere(name string) http.Handler {
	if c.proxy == nil {
		return nil
	}
	return c.proxy.Handler(name)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// packagerMedia is a stream's packaged media as the cluster uses it: the
// relay's input on a standby, and the state a successor resumes from.
//
// The relayed TS takes its own road into the packager and the ladder
// rather than being published into the stream like a publisher's, for
// three reasons: it must not reach the stream's "relay" subscription (it
// would be sent back to the leader it came from), it is not a publisher
// (no lease is taken for it, the stream stays idle here), and its cuts
// follow a different rule (Cut below).
type packagerMedia struct {
	n *Node
	w *wiring
}

// WriteTS writes relayed TS into the source rendition and, with transcoding,
// into the stream's ladder: a standby's ladder is warm, cut at the same
// timestamps as the leader's (ingest → stream → transcode → package, with
// the relay in the ingest's place). A node whose own publisher is live
// takes nothing from the relay: one input per stream.
func (m packagerMedia) WriteTS(b []byte) error {
	if m.w.stream.Live() {
		return nil
	}
	err := m.w.rendition(SourceRendition).WriteTS(b)
	if l := m.w.ladder.Load(); l != nil {
		_ = l.WriteTS(b) // never fails: counted drops inside
	}
	return err
}

// Discontinuity: the relayed input was cut. The source rendition is cut even under a
// local publisher (input redundancy: the leader's feed stopped and its
// segment closed short; the backup's copy closes alike, so one number never
// names two segments). The ladder is cut only when the relay feeds it: a
// cut restarts ffmpeg, and a local feed's ladder has no reason to.
func (m packagerMedia) Discontinuity() {
	m.w.rendition(SourceRendition).Discontinuity()
	if l := m.w.ladder.Load(); l != nil && !m.w.stream.Live() {
		l.Discontinuity()
	}
}

// Reset drops segments of another lineage (a node that starts standing
// by for a new leader).
func (m packagerMedia) Reset() { m.w.packager.Reset() }

func (m packagerMedia) Listed() int { return m.w.packager.Rendition(SourceRendition).Listed() }

// LadderProducing: this node's ladder of the stream produces every
// rendition (a standby reports it to its leader).
func (m packagerMedia) LadderProducing() bool {
	l := m.w.ladder.Load()
	return l != nil && l.Producing()
}

func (m packagerMedia) State() ([]byte, map[string]uint64, error) {
	st := m.w.packager.State()
	msn := make(map[string]uint64, len(st.Renditions))
	for r, rs := range st.Renditions {
		msn[r] = rs.NextMSN
	}
	b, err := json.Marshal(st)
	return b, msn, err
}

func (m packagerMedia) Resume(blob []byte, cold bool) error {
	var st packager.State
	if err := json.Unmarshal(blob, &st); err != nil {
		return err
	}
	if cold {
		for name, rs := range st.Renditions {
			rs.NextMSN++
			st.Renditions[name] = rs
		}
	}
	m.w.packager.Resume(st)
	return nil
}

// ingestObserver tells the coordinator about local publishers.
type ingestObserver struct{ c *cluster.Coordinator }

func (o ingestObserver) PublisherStarted(s *stream.Stream, _ stream.PublisherInfo) {
	o.c.IngestStarted(s.Name())
}
func (o ingestObserver) PublisherStopped(s *stream.Stream, _ stream.PublisherInfo) {
	o.c.IngestStopped(s.Name())
}

// relayFeed hands the local ingest's TS to the relay.
type relayFeed struct {
	c    *cluster.Coordinator
	name string
}

func (r relayFeed) WriteTS(p []byte) error { r.c.IngestTS(r.name, p); return nil }
func (r relayFeed) Discontinuity()         { r.c.IngestCut(r.name) }

// clusterStreamRow is one row of GET /api/v1/streams in a cluster: the
// edge's fields plus leader, standby, token and this node's role.
type clusterStreamRow struct {
	Name         string     `json:"name"`
	Leader       string     `json:"leader"`
	Standby      string     `json:"standby"`
	Token        uint64     `json:"token"`
	State        string     `json:"state"`
	Role         string     `json:"role"`
	Coordination string     `json:"coordination"`
	Publisher    string     `json:"publisher,omitempty"`
	Protocol     string     `json:"protocol,omitempty"`
	Bitrate      int64      `json:"bitrate,omitempty"`
	Since        *time.Time `json:"since,omitempty"`
	LeadingToken uint64     `json:"leading_token,omitempty"`
	LeadingSince *time.Time `json:"leading_since,omitempty"`
	Protection   string     `json:"protection,omitempty"`
}

func (c *clustering) streams(statuses []stream.Status) any {
	local := map[string]stream.Status{}
	for _, s := range statuses {
		local[s.Name] = s
	}
	infos := c.coord.Streams(func(name string) bool { return local[name].State == stream.StateLive })
	rows := make([]clusterStreamRow, 0, len(infos))
	for _, in := range infos {
		l := local[in.Name]
		rows = append(rows, clusterStreamRow{Name: in.Name, Leader: in.Leader, Standby: in.Standby, Token: in.Token,
			State: in.State, Role: in.Role, Coordination: in.Coordination,
			Publisher: l.Publisher, Protocol: l.Protocol, Bitrate: l.Bitrate, Since: l.Since,
			LeadingToken: in.LeadingToken, LeadingSince: in.LeadingSince, Protection: string(in.Protection)})
	}
	return rows
}

// DrainRoute drains the node (with the admin token).
const DrainRoute = "POST /api/v1/drain"

// drainHandler: POST /api/v1/drain with "Authorization: Bearer <token>"
// drains, answers with the outcome, then stops the process like SIGTERM.
func (c *clustering) drainHandler(token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="zonecast"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), c.timings.DrainDeadline)
		defer cancel()
		err := c.coord.Drain(ctx)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		body := map[string]any{"drained": err == nil}
		if err != nil {
			body["error"] = err.Error()
			w.WriteHeader(http.StatusGatewayTimeout)
		}
		_ = json.NewEncoder(w).Encode(body)
		// Exit as after SIGTERM (the drain is already done).
		go func() {
			time.Sleep(100 * time.Millisecond)
			_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}()
	})
}
