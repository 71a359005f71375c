package core

// The transcode area's wiring (issue 3): with `transcode: {enabled: true}`
// every stream gets a Transcoder subscribed beside its source rendition;
// the ladder renditions are packager renditions of the same stream, so the
// multivariant playlist lists them with what the packager measures. In a
// cluster the transcoder is also the standby's warm ladder (Node.ladder:
// fed the relayed TS) and reports its failures (Node.PipelineFailed).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

func init() { RegisterPlugin("transcode", setupTranscode) }

// TranscodeRoute serves the encoder, the capacity and every stream's
// transcoder state as JSON.
const TranscodeRoute = "GET /api/v1/transcode"

func setupTranscode(n *Node) error {
	cfg := n.Config.Transcode
	if !cfg.Enabled {
		return nil
	}
	m := transcode.NewManager(cfg, n.Config.HLS.SegmentDuration, n.Log)
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		// No encoder opened: every stream is published source-only (logged
		// by the manager); the node still serves.
		n.Log.Warn("transcode enabled but no encoder available", "err", err)
	}
	n.Metrics.Registry.MustRegister(m)
	for _, sc := range n.Config.Streams {
		name := sc.Name
		st := n.Streams.Get(name)
		if st == nil {
			continue
		}
		tr := m.NewTranscoder(name, transcode.OutputsFunc(func(rendition string) transcode.Sink {
			return packagerSink{n: n, stream: name, rendition: rendition}
		}))
		if tr == nil {
			continue
		}
		tr.OnFailure(func(cause string) {
			// The cluster may hand the stream to a standby whose ladder runs.
			if n.PipelineFailed != nil {
				n.PipelineFailed(name, "transcoder: "+cause)
			}
		})
		ladder := &serialLadder{tr: tr}
		n.setLadder(name, ladder)
		unsubscribe := st.Subscribe("transcode", n.gateCuts(name, ladder))
		n.OnClose(func() { unsubscribe(); tr.Close() })
	}
	n.OnClose(func() { cancel(); m.Close() })
	prevInfo := n.ReadyInfo
	n.ReadyInfo = func() string {
		info := ""
		if prevInfo != nil {
			info = prevInfo()
		}
		c := m.Capacity()
		// Above capacity streams are still taken (source-only): free
		// capacity informs placement, it never makes the node unready.
		return info + fmt.Sprintf("transcode: encoder=%s ladders=%d used=%d free=%d\n", orNone(c.Encoder), c.Total, c.Used, c.Free)
	}
	n.Routes[TranscodeRoute] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(transcodeReport(m))
	})
	return nil
}

// transcodeReport is the body of GET /api/v1/transcode.
func transcodeReport(m *transcode.Manager) any {
	type candidate struct {
		Encoder string `json:"encoder"`
		Status  string `json:"status"`
		Reason  string `json:"reason"`
	}
	type streamRow struct {
		Stream     string            `json:"stream"`
		State      string            `json:"state"`
		Source     string            `json:"source,omitempty"`
		Renditions []string          `json:"renditions"`
		Running    bool              `json:"running"`
		PID        int               `json:"ffmpeg_pid,omitempty"`
		SourceOnly bool              `json:"source_only"`
		Restarts   map[string]uint64 `json:"restarts"`
		LagSeconds float64           `json:"lag_seconds"`
		Dropped    uint64            `json:"input_dropped_bytes"`
	}
	body := struct {
		Encoder    string                   `json:"encoder"`
		Reason     string                   `json:"reason"`
		Capacity   transcode.CapacityReport `json:"capacity"`
		Candidates []candidate              `json:"candidates"`
		Streams    []streamRow              `json:"streams"`
	}{Capacity: m.Capacity(), Candidates: []candidate{}, Streams: []streamRow{}}
	if choice, reason, ok := m.Encoder(); ok {
		body.Encoder, body.Reason = choice.Encoder, reason
	}
	for _, r := range m.Encoders() {
		status := "refused"
		if r.OK {
			status = "ok"
		}
		body.Candidates = append(body.Candidates, candidate{r.Encoder, status, r.Reason})
	}
	for _, t := range m.Transcoders() {
		st := t.Status()
		row := streamRow{Stream: st.Stream, State: st.State, Running: st.Running, PID: st.PID, SourceOnly: st.SourceOnly,
			Restarts: st.Restarts, LagSeconds: st.Lag.Seconds(), Dropped: st.DroppedBytes, Renditions: []string{}}
		if st.Source.Height > 0 {
			row.Source = st.Source.String()
		}
		for _, o := range st.Outputs {
			row.Renditions = append(row.Renditions, o.Name)
		}
		body.Streams = append(body.Streams, row)
	}
	return body
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// packagerSink feeds a ladder rendition into whatever packager serves the
// stream now: the cluster replaces packagers (SetPackager, ResetPackager),
// so the packager is looked up at each write rather than kept.
type packagerSink struct {
	n                 *Node
	stream, rendition string
}

func (p packagerSink) WriteTS(b []byte) error {
	ps := p.n.Packager(p.stream)
	if ps == nil {
		return errors.New("no packager for stream " + p.stream)
	}
	return ps.Rendition(p.rendition).WriteTS(b)
}

func (p packagerSink) Discontinuity() {
	if ps := p.n.Packager(p.stream); ps != nil {
		ps.Rendition(p.rendition).Discontinuity()
	}
}
