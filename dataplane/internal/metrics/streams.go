package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// PackagerCounters are a stream's packaging counters.
type PackagerCounters struct {
	SegmentsWritten uint64
	PartsWritten    uint64
	DecodeErrors    uint64
	Discontinuities uint64
	Slates          uint64 // times the input went quiet and the slate began
	FillerParts     uint64
}

// StreamSources is what the streams collector reads at scrape time.
type StreamSources struct {
	Streams  func() []*stream.Stream
	Packager func(stream string) (PackagerCounters, bool) // optional
	// SRT listener counters (optional).
	SRTRejections func() map[string]uint64
	SRTAccepted   func() uint64
}

var (
	descConfigured  = prometheus.NewDesc("zonecast_streams_configured", "Streams this node accepts publishers for.", nil, nil)
	descLive        = prometheus.NewDesc("zonecast_stream_live", "1 when the stream has a publisher.", []string{"stream"}, nil)
	descBitrate     = prometheus.NewDesc("zonecast_stream_bitrate_in_bits_per_second", "Incoming bitrate of the stream's publisher.", []string{"stream"}, nil)
	descPktRecv     = prometheus.NewDesc("zonecast_srt_packets_received_total", "SRT data packets received (with retransmissions).", []string{"stream"}, nil)
	descPktLost     = prometheus.NewDesc("zonecast_srt_packets_lost_total", "SRT data packets detected missing at the receiver.", []string{"stream"}, nil)
	descPktRetrans  = prometheus.NewDesc("zonecast_srt_packets_retransmitted_total", "Retransmitted SRT packets received.", []string{"stream"}, nil)
	descPktDropped  = prometheus.NewDesc("zonecast_srt_packets_dropped_total", "SRT packets dropped (too late or undecryptable).", []string{"stream"}, nil)
	descBytesRecv   = prometheus.NewDesc("zonecast_srt_bytes_received_total", "SRT bytes received.", []string{"stream"}, nil)
	descSegments    = prometheus.NewDesc("zonecast_hls_segments_written_total", "HLS segments published.", []string{"stream"}, nil)
	descParts       = prometheus.NewDesc("zonecast_hls_parts_written_total", "LL-HLS parts published.", []string{"stream"}, nil)
	descDecodeErr   = prometheus.NewDesc("zonecast_ts_decode_errors_total", "Garbage, truncated or undecodable TS skipped.", []string{"stream"}, nil)
	descDiscont     = prometheus.NewDesc("zonecast_hls_discontinuities_total", "Discontinuities marked in the playlists.", []string{"stream"}, nil)
	descSlates      = prometheus.NewDesc("zonecast_hls_slates_total", "Times a stream's input went quiet and its playlists went on with the slate.", []string{"stream"}, nil)
	descFiller      = prometheus.NewDesc("zonecast_hls_filler_parts_total", "LL-HLS parts of slate filler published.", []string{"stream"}, nil)
	descFanoutDrops = prometheus.NewDesc("zonecast_fanout_dropped_chunks_total", "TS chunks a slow consumer lost.", []string{"stream", "consumer"}, nil)
	descFanoutErrs  = prometheus.NewDesc("zonecast_fanout_consumer_errors_total", "Chunks a consumer rejected.", []string{"stream", "consumer"}, nil)
	descRejections  = prometheus.NewDesc("zonecast_srt_rejections_total", "SRT connection requests refused, by reason.", []string{"reason"}, nil)
	descAccepted    = prometheus.NewDesc("zonecast_srt_publishers_accepted_total", "SRT publishers admitted.", nil, nil)
)

// streamsCollector reads the live state at scrape time, so the numbers
// never drift from what /api/v1/streams says.
type streamsCollector struct{ src StreamSources }

// RegisterStreams adds the streams collector.
func (m *Metrics) RegisterStreams(src StreamSources) {
	m.Registry.MustRegister(&streamsCollector{src: src})
}

func (c *streamsCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(c, ch)
}

func (c *streamsCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	streams := c.src.Streams()
	ch <- prometheus.MustNewConstMetric(descConfigured, prometheus.GaugeValue, float64(len(streams)))
	for _, s := range streams {
		name := s.Name()
		st := s.Status()
		live := 0.0
		if st.State == stream.StateLive {
			live = 1
		}
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, live, name)
		ch <- prometheus.MustNewConstMetric(descBitrate, prometheus.GaugeValue, float64(st.Bitrate), name)
		t := s.TransportStats()
		counter(descPktRecv, t.PacketsReceived, name)
		counter(descPktLost, t.PacketsLost, name)
		counter(descPktRetrans, t.PacketsRetransmitted, name)
		counter(descPktDropped, t.PacketsDropped, name)
		counter(descBytesRecv, t.BytesReceived, name)
		for _, cs := range s.SinkStats() {
			counter(descFanoutDrops, cs.DroppedChunks, name, cs.Name)
			counter(descFanoutErrs, cs.Errors, name, cs.Name)
		}
		if c.src.Packager != nil {
			if p, ok := c.src.Packager(name); ok {
				counter(descSegments, p.SegmentsWritten, name)
				counter(descParts, p.PartsWritten, name)
				counter(descDecodeErr, p.DecodeErrors, name)
				counter(descDiscont, p.Discontinuities, name)
				counter(descSlates, p.Slates, name)
				counter(descFiller, p.FillerParts, name)
			}
		}
	}
	if c.src.SRTRejections != nil {
		for reason, n := range c.src.SRTRejections() {
			counter(descRejections, n, reason)
		}
	}
	if c.src.SRTAccepted != nil {
		counter(descAccepted, c.src.SRTAccepted())
	}
}
