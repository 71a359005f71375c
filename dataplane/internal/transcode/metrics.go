package transcode

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	descEncoderInfo = prometheus.NewDesc("zonecast_encoder_info",
		"The encoder this node transcodes with and why it was chosen (1).", []string{"encoder", "family", "reason"}, nil)
	descEncoderCandidate = prometheus.NewDesc("zonecast_encoder_candidate",
		"Every candidate encoder probed at start-up: status ok or refused, and the reason (1).", []string{"encoder", "status", "reason"}, nil)
	descCapacity = prometheus.NewDesc("zonecast_transcode_capacity_ladders",
		"Ladders this node carries (estimated from the encoder).", nil, nil)
	descUsed = prometheus.NewDesc("zonecast_transcode_ladders_active",
		"Ladders running now, in the node's ladders: a stream's own ladder counts its cost (pixel rate).", nil, nil)
	descFree = prometheus.NewDesc("zonecast_transcode_capacity_free",
		"Ladders this node can still start.", nil, nil)
	descRTF = prometheus.NewDesc("zonecast_transcode_calibration_realtime_factor",
		"libx264: one ladder's real-time factor measured at start-up (0 when not calibrated).", nil, nil)
	descRestarts = prometheus.NewDesc("zonecast_transcode_restarts_total",
		"ffmpeg restarts of a stream by cause (exit, stall, start, behind, spawn).", []string{"stream", "cause"}, nil)
	descDropped = prometheus.NewDesc("zonecast_transcode_input_dropped_bytes_total",
		"Source bytes dropped toward ffmpeg because it did not keep up.", []string{"stream"}, nil)
	descRunning = prometheus.NewDesc("zonecast_transcode_running",
		"1 while the stream's ffmpeg runs.", []string{"stream"}, nil)
	descSourceOnly = prometheus.NewDesc("zonecast_transcode_source_only",
		"1 when the stream is published without a ladder (over capacity or source below every rung).", []string{"stream"}, nil)
	descLag = prometheus.NewDesc("zonecast_transcode_lag_seconds",
		"How far ffmpeg's output is behind its input.", []string{"stream"}, nil)
	descRenditions = prometheus.NewDesc("zonecast_transcode_renditions",
		"Ladder renditions of the stream (without the source).", []string{"stream"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEncoderInfo, descEncoderCandidate, descCapacity, descUsed, descFree, descRTF,
		descRestarts, descDropped, descRunning, descSourceOnly, descLag, descRenditions} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	if m.chosen {
		ch <- prometheus.MustNewConstMetric(descEncoderInfo, prometheus.GaugeValue, 1, m.choice.Encoder, string(m.choice.Family), m.reason)
	}
	for _, r := range m.results {
		status := "refused"
		if r.OK {
			status = "ok"
		}
		ch <- prometheus.MustNewConstMetric(descEncoderCandidate, prometheus.GaugeValue, 1, r.Encoder, status, r.Reason)
	}
	c := m.capacity.Report()
	ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, float64(c.Total))
	ch <- prometheus.MustNewConstMetric(descUsed, prometheus.GaugeValue, c.Load)
	ch <- prometheus.MustNewConstMetric(descFree, prometheus.GaugeValue, float64(c.Free))
	m.mu.Lock()
	rtf := m.rtf
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descRTF, prometheus.GaugeValue, rtf)
	for _, t := range m.Transcoders() {
		st := t.Status()
		for cause, n := range st.Restarts {
			ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(n), st.Stream, cause)
		}
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(st.DroppedBytes), st.Stream)
		ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, b2f(st.Running), st.Stream)
		ch <- prometheus.MustNewConstMetric(descSourceOnly, prometheus.GaugeValue, b2f(st.SourceOnly), st.Stream)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, st.Lag.Seconds(), st.Stream)
		ch <- prometheus.MustNewConstMetric(descRenditions, prometheus.GaugeValue, float64(len(st.Outputs)), st.Stream)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
