package metrics

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

func TestScrape(t *testing.T) {
	reg := stream.NewRegistry(slog.New(slog.NewTextHandler(io.Discard, nil)))
	cam1, _ := reg.Add("cam1")
	reg.Add("cam2")
	pub, _ := cam1.Publish(stream.PublisherInfo{Addr: "x", Stats: func() stream.TransportStats {
		return stream.TransportStats{PacketsReceived: 1000, PacketsLost: 7, PacketsRetransmitted: 5}
	}}, false)
	pub.Write(make([]byte, 1316))

	m := New()
	m.RegisterStreams(StreamSources{
		Streams: reg.List,
		Packager: func(name string) (PackagerCounters, bool) {
			return PackagerCounters{SegmentsWritten: 12, PartsWritten: 120, DecodeErrors: 3}, name == "cam1"
		},
		SRTRejections: func() map[string]uint64 { return map[string]uint64{"bad_passphrase": 2} },
		SRTAccepted:   func() uint64 { return 4 },
	})
	m.ObserveRequest("part", 200)
	m.ObserveRequest("part", 200)
	m.ObserveRequest("playlist", 404)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"zonecast_streams_configured 2",
		`zonecast_stream_live{stream="cam1"} 1`,
		`zonecast_stream_live{stream="cam2"} 0`,
		`zonecast_srt_packets_lost_total{stream="cam1"} 7`,
		`zonecast_srt_packets_retransmitted_total{stream="cam1"} 5`,
		`zonecast_hls_segments_written_total{stream="cam1"} 12`,
		`zonecast_ts_decode_errors_total{stream="cam1"} 3`,
		`zonecast_srt_rejections_total{reason="bad_passphrase"} 2`,
		"zonecast_srt_publishers_accepted_total 4",
		`zonecast_http_requests_total{code="200",kind="part"} 2`,
		`zonecast_http_requests_total{code="404",kind="playlist"} 1`,
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(body, `zonecast_hls_segments_written_total{stream="cam2"}`) {
		t.Error("packager counters for a stream without a packager")
	}
}
