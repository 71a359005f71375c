package recording

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a segment is dropped instead of recorded.
const (
	dropSpoolFull  = "spool_full"  // the spool's byte bound
	dropQueueFull  = "queue_full"  // the spool's writer is behind
	dropSpoolWrite = "spool_write" // the local disk refused the entry
	dropAge        = "age"         // waited longer than the spool's age bound
	dropFenced     = "fenced"      // this node's lease no longer holds
	dropUnreadable = "unreadable"  // the spooled entry could not be read back
)

// metrics is what the recorder shows on /metrics: the spool, the upload lag
// and every failure.
type metrics struct {
	requests   *prometheus.CounterVec
	failures   *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	uploaded   prometheus.Counter
	lag        prometheus.Histogram
	gapSeconds prometheus.Counter
	closed     prometheus.Counter
	spoolBytes prometheus.GaugeFunc
	spoolLen   prometheus.GaugeFunc
	spoolAge   prometheus.GaugeFunc
}

func newMetrics(s *Spool) *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zonecast_recording_s3_requests_total", Help: "S3 requests made by the recorder, by operation.",
		}, []string{"op"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zonecast_recording_s3_failures_total", Help: "S3 requests that failed (retried from the spool), by operation.",
		}, []string{"op"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zonecast_recording_dropped_segments_total", Help: "Segments not recorded, by reason (spool_full, queue_full, spool_write, age, fenced, unreadable).",
		}, []string{"reason"}),
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zonecast_recording_segments_uploaded_total", Help: "Segments written to the recording bucket.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "zonecast_recording_upload_lag_seconds", Help: "Time from a segment's completion to its upload.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600},
		}),
		gapSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zonecast_recording_gap_seconds_total", Help: "Media missing from closed recordings (reported in their gaps).",
		}),
		closed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "zonecast_recording_recordings_closed_total", Help: "Recordings closed as video on demand.",
		}),
		spoolBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "zonecast_recording_spool_bytes", Help: "Bytes waiting in the spool for S3.",
		}, func() float64 { return float64(s.Bytes()) }),
		spoolLen: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "zonecast_recording_spool_entries", Help: "Segments and closes waiting in the spool for S3.",
		}, func() float64 { return float64(s.Len()) }),
		spoolAge: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "zonecast_recording_spool_oldest_age_seconds", Help: "Age of the oldest entry waiting in the spool (0 when empty).",
		}, func() float64 {
			if t := s.Oldest(); !t.IsZero() {
				return time.Since(t).Seconds()
			}
			return 0
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.failures, m.dropped, m.uploaded, m.lag, m.gapSeconds, m.closed, m.spoolBytes, m.spoolLen, m.spoolAge}
}
