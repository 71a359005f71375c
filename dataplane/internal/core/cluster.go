package core

// The cluster area's wiring (issue 4): Redis-coordinated leases, the QUIC
// hot-standby relay, the serving gate, the streams API rows, drain.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/internal/cluster"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/relay"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	"github.com/zonecast/zonecast/policies/failover"
)

func init() { RegisterPlugin("cluster", setupCluster) }

func setupCluster(n *Node) error {
	cc := n.Config.Cluster
	if !cc.Enabled() {
		return nil
	}
	// The node's own packaging cadence bounds how fast a takeover shows.
	t := failover.DefaultTimings.ForCadence(n.Config.HLS.SegmentDuration, n.Config.HLS.PartDuration)
	tl, err := relay.LoadTLS(cc.TLS.CA, cc.TLS.Cert, cc.TLS.Key, cc.TLS.PeerName)
	if err != nil {
		return err
	}
	rdb, err := cluster.NewRedis(cluster.RedisEndpoint{
		Sentinels: cc.Redis.Sentinels, Master: cc.Redis.Master,
		Address: cc.Redis.Address, Password: cc.Redis.Password, TLS: cc.Redis.TLS,
	}, t)
	if err != nil {
		return err
	}
	toward := append(append([]string(nil), cc.Redis.Sentinels...), nonEmpty(cc.Redis.Address)...)
	httpAddr, err := cluster.AdvertiseAddr(n.Config.HTTP.Listen, cc.Viewers.Advertise, toward)
	if err != nil {
		if cc.Viewers.Proxy {
			return fmt.Errorf("cluster.viewers: %w", err)
		}
		httpAddr = n.Config.HTTP.Listen // informational only without the proxy
	}
	names := make([]string, 0, len(n.Config.Streams))
	for _, s := range n.Config.Streams {
		names = append(names, s.Name)
	}
	coord, err := cluster.NewCoordinator(cluster.CoordinatorConfig{
		Self: cluster.NodeInfo{ID: n.Config.Node.ID, Region: n.Config.Node.Region, Zone: n.Config.Node.Zone,
			Capacity: cc.Capacity, HTTP: httpAddr, QUIC: cc.QUIC.Listen},
		Streams: names,
		Store:   cluster.NewStore(rdb, t),
		TLS:     tl,
		Media: func(name string) cluster.Media {
			if n.Packager(name) != nil {
				return packagerMedia{n, name}
			}
			return nil
		},
		Log:             n.Log,
		Advertise:       cc.QUIC.Advertise,
		AdvertiseToward: toward,
	})
	if err != nil {
		rdb.Close()
		return err
	}
	n.OnClose(func() { coord.Close(); rdb.Close() })
	n.Metrics.Registry.MustRegister(coord)

	for _, name := range names {
		st := n.Streams.Get(name)
		st.Observe(ingestObserver{coord})
		unsubscribe := st.Subscribe("relay", relayFeed{coord, name})
		n.OnClose(unsubscribe)
	}
	prevAdmit := n.Admit
	n.Admit = func(name string, remote net.Addr) error {
		if prevAdmit != nil {
			if err := prevAdmit(name, remote); err != nil {
				return err
			}
		}
		return coord.Admit(name)
	}
	n.ServeGate = coord.Serving
	n.HoldInputCut = coord.HoldInputCut
	if cc.Viewers.Proxy {
		p, err := newViewerProxy(n, coord, t)
		if err != nil {
			return err
		}
		proxied := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_viewer_proxy_requests_total",
			Help: "Requests for a stream this node has no role for, answered from its leader or standby, by outcome."}, []string{"result"})
		n.Metrics.Registry.MustRegister(proxied)
		p.Observe = func(result string) { proxied.WithLabelValues(result).Inc() }
		n.ServeElsewhere = p.Handler
	}
	n.PipelineFailed = func(stream, reason string) { coord.PipelineFailed(stream, reason) }
	n.StreamsAPI = func() any { return clusterStreams(n, coord) }
	n.AddReadyCheck("cluster", func() error {
		if coord.Draining() {
			return errors.New("draining")
		}
		return nil
	})
	n.BeforeShutdown = func() {
		ctx, cancel := context.WithTimeout(context.Background(), t.DrainDeadline)
		defer cancel()
		_ = coord.Drain(ctx)
	}
	if cc.AdminToken != "" {
		n.Routes["POST /api/v1/drain"] = drainHandler(coord, cc.AdminToken, t.DrainDeadline)
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// packagerMedia adapts a stream's packager (whichever is current) to
// cluster.Media.
type packagerMedia struct {
	n    *Node
	name string
}

func (m packagerMedia) ps() *packager.Stream { return m.n.Packager(m.name) }

// Feed writes relayed TS into the source rendition and, with transcoding,
// into the stream's ladder: a standby's ladder is warm, cut at the same
// timestamps as the leader's (ingest → stream → transcode → package, with
// the relay in the ingest's place). A node whose own publisher is live
// takes nothing from the relay: one input per pipeline.
func (m packagerMedia) Feed(b []byte) error {
	if m.localIngest() {
		return nil
	}
	err := m.ps().Rendition(SourceRendition).WriteTS(b)
	if l := m.ladder(); l != nil {
		_ = l.WriteTS(b) // never fails: counted drops inside
	}
	return err
}

// Cut: the relayed input was cut. The source rendition is cut even under a
// local publisher (input redundancy: the leader's feed stopped and its
// segment closed short; the backup's copy closes alike, so one number never
// names two segments). The ladder is cut only when the relay feeds it: a
// cut restarts ffmpeg, and a local feed's ladder has no reason to.
func (m packagerMedia) Cut() {
	m.ps().Rendition(SourceRendition).Discontinuity()
	if l := m.ladder(); l != nil && !m.localIngest() {
		l.Discontinuity()
	}
}

func (m packagerMedia) Reset() { m.n.ResetPackager(m.name) }

func (m packagerMedia) Listed() int { return m.ps().Rendition(SourceRendition).Listed() }

// LadderProducing: this node's ladder of the stream produces every
// rendition (a standby reports it to its leader; cluster/pipeline.go).
func (m packagerMedia) LadderProducing() bool {
	l := m.ladder()
	return l != nil && l.Producing()
}

func (m packagerMedia) ladder() LadderFeed { return m.n.ladder(m.name) }

func (m packagerMedia) localIngest() bool {
	st := m.n.Streams.Get(m.name)
	return st != nil && st.Live()
}

func (m packagerMedia) State() ([]byte, map[string]uint64, error) {
	st := m.ps().State()
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
	m.ps().Resume(st)
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

func clusterStreams(n *Node, c *cluster.Coordinator) any {
	local := map[string]stream.Status{}
	for _, s := range n.Streams.Statuses() {
		local[s.Name] = s
	}
	infos := c.Streams(func(name string) bool { return local[name].State == stream.StateLive })
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

// drainHandler: POST /api/v1/drain with "Authorization: Bearer <token>"
// drains, answers with the outcome, then stops the process like SIGTERM.
func drainHandler(c *cluster.Coordinator, token string, deadline time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="zonecast"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), deadline)
		defer cancel()
		err := c.Drain(ctx)
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
