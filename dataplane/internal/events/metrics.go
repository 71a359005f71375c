package events

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the events' counters on /metrics.
type Metrics struct {
	queued    *prometheus.CounterVec
	refused   *prometheus.CounterVec
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	retries   prometheus.Counter
	q         queue
}

var (
	descPending = prometheus.NewDesc("zonecast_events_pending",
		"Events queued and not yet delivered (in a cluster: the region's whole queue).", nil, nil)
	descOldest = prometheus.NewDesc("zonecast_events_oldest_pending_seconds",
		"Age of the oldest event not yet delivered; 0 when none (alarm when it grows).", nil, nil)
)

func newMetrics(q queue) *Metrics {
	return &Metrics{
		queued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_events_queued_total",
			Help: "Events this node queued, by type."}, []string{"type"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_events_refused_total",
			Help: "Events this node could not queue, by reason (stale: not the leader any more; error: the queue failed)."}, []string{"reason"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_events_delivered_total",
			Help: "Events this node delivered (the receiver answered 2xx), by type."}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_events_failed_total",
			Help: "Events this node gave up after the retry horizon, by type."}, []string{"type"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "zonecast_events_attempts_failed_total",
			Help: "Delivery attempts that failed and were retried or given up."}),
		q: q,
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.queued.Describe(ch)
	m.refused.Describe(ch)
	m.delivered.Describe(ch)
	m.failed.Describe(ch)
	m.retries.Describe(ch)
	ch <- descPending
	ch <- descOldest
}

// Collect implements prometheus.Collector; the backlog is read at scrape.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.queued.Collect(ch)
	m.refused.Collect(ch)
	m.delivered.Collect(ch)
	m.failed.Collect(ch)
	m.retries.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, oldest, err := m.q.backlog(ctx)
	if err != nil {
		return // a scrape must not fail for the queue's sake
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
}
