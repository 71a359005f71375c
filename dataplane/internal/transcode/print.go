package transcode

import (
	"context"
	"fmt"
	"io"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// PrintEncoders probes every configured candidate and writes one line per
// candidate: its name, "ok" or "refused", and the reason (`edge -encoders`).
func PrintEncoders(ctx context.Context, w io.Writer, cfg config.Transcode) error {
	results := ProberFor(cfg).Probe(ctx, cfg.Encoders)
	WriteEncoders(w, results)
	if _, err := Choose(results); err != nil {
		return err
	}
	return nil
}

// WriteEncoders formats probe results, one line each.
func WriteEncoders(w io.Writer, results []ProbeResult) {
	for _, r := range results {
		status := "refused"
		if r.OK {
			status = "ok"
		}
		fmt.Fprintf(w, "%-11s %-7s %s\n", r.Encoder, status, r.Reason)
	}
}
