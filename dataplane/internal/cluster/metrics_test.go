package cluster

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue gathers c through a pedantic registry (which also checks the
// collector's descriptions) and returns the value of the series name with
// exactly labels; ok is false when there is no such series.
func metricValue(t *testing.T, c prometheus.Collector, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// wantMetric fails unless the series exists with value want.
func wantMetric(t *testing.T, c prometheus.Collector, node, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := metricValue(t, c, name, labels)
	if !ok || got != want {
		t.Errorf("%s: %s%v = %v (present %v), want %v", node, name, labels, got, ok, want)
	}
}
