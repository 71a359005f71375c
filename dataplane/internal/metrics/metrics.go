// Package metrics exposes the edge's Prometheus metrics: collectors that
// read the live state at scrape time (streams, SRT statistics, packager
// counters) and counters the origin increments (viewers' requests).
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics owns the registry served at /metrics.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
}

// New creates the registry with process and Go runtime metrics.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(collectors.NewGoCollector())
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zonecast_http_requests_total",
			Help: "Viewers' HLS requests by object kind and HTTP status.",
		}, []string{"kind", "code"}),
	}
	reg.MustRegister(m.requests)
	return m
}

// ObserveRequest counts one HLS request (origin.RequestObserver).
func (m *Metrics) ObserveRequest(kind string, code int) {
	m.requests.WithLabelValues(kind, strconv.Itoa(code)).Inc()
}

// Handler serves the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
