package core

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/metrics"
	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

// TranscodeRoute serves the encoder, the capacity and every stream's
// transcoder state as JSON.
const TranscodeRoute = "GET /api/v1/transcode"

// transcoding is the node's transcode manager: it chose the encoder and
// hands each stream a transcoder whose ladder renditions are packager
// renditions of the same stream, so the multivariant playlist lists them
// with what the packager measures. In a cluster the transcoder is also the
// standby's warm ladder, fed the relayed TS.
type transcoding struct {
	manager *transcode.Manager
	cancel  context.CancelFunc
	// configured is transcode.ladder: a stream's ladder when its record
	// names none of its own.
	configured config.Ladder
	// segment is the packager's segment duration (a retired rendition's
	// grace is counted in segments).
	segment time.Duration
}

func newTranscoding(cfg config.Transcode, segment time.Duration, log *slog.Logger, m *metrics.Metrics) *transcoding {
	mgr := transcode.NewManager(cfg, segment, log)
	ctx, cancel := context.WithCancel(context.Background())
	if err := mgr.Start(ctx); err != nil {
		// No encoder opened: every stream is published source-only (logged
		// by the manager); the node still serves.
		log.Warn("transcode enabled but no encoder available", "err", err)
	}
	m.Registry.MustRegister(mgr)
	return &transcoding{manager: mgr, cancel: cancel, configured: cfg.Ladder, segment: segment}
}

// ladder creates a stream's transcoder of rungs (nil: the configured
// ladder) writing into outputs; nil when the manager declines (no
// encoder). failed is told when the ladder fails.
func (t *transcoding) ladder(name string, rungs config.Ladder, outputs transcode.Outputs, failed func(stream, reason string)) *transcode.Transcoder {
	tr := t.manager.NewTranscoder(name, rungs, outputs)
	if tr == nil {
		return nil
	}
	tr.OnFailure(func(cause string) { failed(name, "transcoder: "+cause) })
	return tr
}

// stop ends a stream's transcoder and takes it off the report.
func (t *transcoding) stop(name string, tr *transcode.Transcoder) {
	tr.Close()
	t.manager.Forget(name, tr)
}

// Close stops the manager (each transcoder is closed with its stream).
func (t *transcoding) Close() {
	t.cancel()
	t.manager.Close()
}

// readyInfo is the /readyz line on ladder capacity. Above capacity
// streams are still taken (source-only): free capacity informs placement,
// it never makes the node unready.
func (t *transcoding) readyInfo() string {
	c := t.manager.Capacity()
	return fmt.Sprintf("transcode: encoder=%s ladders=%d used=%d free=%d\n", orNone(c.Encoder), c.Total, c.Used, c.Free)
}

func (t *transcoding) reportHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(transcodeReport(t.manager))
	})
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
