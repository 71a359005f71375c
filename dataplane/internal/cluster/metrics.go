package cluster

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descRole = prometheus.NewDesc("zonecast_cluster_role",
		"This node's role for the stream: 1 on the row of the current role (leader, standby or none).", []string{"stream", "role"}, nil)
	descToken = prometheus.NewDesc("zonecast_cluster_token",
		"Highest fencing token this node has seen for the stream.", []string{"stream"}, nil)
	descRelayOut = prometheus.NewDesc("zonecast_cluster_relay_out_up",
		"1 while this node relays its ingest of the stream (to its standby, or forwarded) over a live QUIC relay.", []string{"stream"}, nil)
	descRelayIn = prometheus.NewDesc("zonecast_cluster_relay_in_fresh",
		"1 while a relay into this node delivered TS of the stream within the relay timeout.", []string{"stream"}, nil)
	descTerms = prometheus.NewDesc("zonecast_cluster_terms_total",
		"Leadership terms of the stream this node began.", []string{"stream"}, nil)
	descTermsEnded = prometheus.NewDesc("zonecast_cluster_terms_ended_total",
		"Leadership terms of the stream this node ended, by reason (handover, released, stale, deadline, ...).", []string{"stream", "reason"}, nil)
	descForwards = prometheus.NewDesc("zonecast_cluster_forwards_total",
		"Ingests forwarded by a node that does not lead: sent (from this node) or adopted (as this node's feed).", []string{"stream", "side"}, nil)
	descRedis = prometheus.NewDesc("zonecast_cluster_redis_reachable",
		"1 when the last registry heartbeat reached Redis.", nil, nil)
	descDraining = prometheus.NewDesc("zonecast_cluster_draining",
		"1 once a drain has begun.", nil, nil)
	descNoStandby = prometheus.NewDesc("zonecast_cluster_standby_missing",
		"1 while this node leads and ingests the stream with no hot standby: its death would stop the stream (alarm on it).", []string{"stream"}, nil)
	descSameZone = prometheus.NewDesc("zonecast_cluster_standby_same_zone",
		"1 while the stream's hot standby is in the leader's own zone because the twin zone has no node that accepts (a zone loss would stop it).", []string{"stream"}, nil)
)

// jobCounters are one stream's cluster events on this node.
type jobCounters struct {
	mu          sync.Mutex
	terms       uint64
	ended       map[string]uint64
	forwardSent uint64
	adopted     uint64
}

func (c *jobCounters) add(f func(*jobCounters)) {
	c.mu.Lock()
	if c.ended == nil {
		c.ended = map[string]uint64{}
	}
	f(c)
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *Coordinator) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRole, descToken, descRelayOut, descRelayIn, descTerms, descTermsEnded, descForwards, descRedis, descDraining, descNoStandby, descSameZone} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: read at scrape time from the
// jobs' own state, so nothing is kept twice.
func (c *Coordinator) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	boolean := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge(descRedis, boolean(c.redisOK.Load()))
	gauge(descDraining, boolean(c.draining.Load()))
	for _, name := range c.names() {
		j := c.job(name)
		if j == nil {
			continue // removed meanwhile
		}
		role := j.role()
		for _, r := range []Role{RoleLeader, RoleStandby, RoleNone} {
			gauge(descRole, boolean(r == role), name, r.String())
		}
		_, _, token := j.lastKnown()
		gauge(descToken, float64(token), name)
		p := j.protectionNow()
		gauge(descNoStandby, boolean(p == ProtectionNone), name)
		gauge(descSameZone, boolean(p == ProtectionSameZone), name)
		j.mu.Lock()
		out := j.ingest.out
		in := j.standby.relay != nil && time.Since(j.standby.lastRelay) < c.t.RelayTimeout
		j.mu.Unlock()
		gauge(descRelayOut, boolean(out != nil && out.Err() == nil), name)
		gauge(descRelayIn, boolean(in), name)
		j.counters.mu.Lock()
		counter(descTerms, j.counters.terms, name)
		for reason, n := range j.counters.ended {
			counter(descTermsEnded, n, name, reason)
		}
		counter(descForwards, j.counters.forwardSent, name, "sent")
		counter(descForwards, j.counters.adopted, name, "adopted")
		j.counters.mu.Unlock()
	}
}
