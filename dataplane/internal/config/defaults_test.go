package config_test

import (
	"bytes"
	"testing"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/transcode"
	"github.com/zonecast/zonecast/policies/failover"
)

// TestDefaultsAreTheOwners: the edge's defaults are those of the package
// that owns each number: the policy's packaging cadence
// (failover.DefaultTimings, which provision renders and the chaos suite's
// shipped profile runs), the packager's window, the transcode probe's
// timeout and device. A number written twice cannot drift.
func TestDefaultsAreTheOwners(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := config.Load([]string{"-streams", "cam1"}, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		got, want any
	}{
		{"hls.segment_duration", cfg.HLS.SegmentDuration, failover.DefaultTimings.SegmentDuration},
		{"hls.part_duration", cfg.HLS.PartDuration, failover.DefaultTimings.PartDuration},
		{"hls.window_segments", cfg.HLS.WindowSegments, packager.DefaultWindowSegments},
		{"transcode.probe_timeout", cfg.Transcode.ProbeTimeout, transcode.DefaultProbeTimeout},
		{"transcode.vaapi_device", cfg.Transcode.VAAPIDevice, transcode.DefaultVAAPIDevice},
		{"hls.slate", cfg.HLS.Slate, failover.SlateShips},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s defaults to %v, the policy says %v", c.name, c.got, c.want)
		}
	}
}
