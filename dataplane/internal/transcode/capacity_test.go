package transcode

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/internal/config"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

func defaultLadder(t *testing.T) config.Ladder {
	var l config.Ladder
	if err := l.UnmarshalText([]byte("1080p:6000k,720p:3000k,480p:1500k,360p:800k")); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNVENCCapacityByGPUModel(t *testing.T) {
	cost := ladderCost(defaultLadder(t))
	// 1080p + 720p + 854x480 + 640x360 in 1080p30 equivalents.
	if cost < 1.74 || cost > 1.76 {
		t.Fatalf("default ladder cost %.3f 1080p30 encodes, want ≈1.75", cost)
	}
	tests := []struct {
		gpus []string
		want int
	}{
		{[]string{"Tesla T4"}, 11},               // 20 / 1.75
		{[]string{"NVIDIA A10G"}, 11},            // 20 / 1.75
		{[]string{"NVIDIA L4"}, 24},              // 43 / 1.75
		{[]string{"NVIDIA L4", "NVIDIA L4"}, 49}, // 86 / 1.75
		{[]string{"NVIDIA L40S"}, 34},            // 60 / 1.75
		{[]string{"Quadro RTX 9999"}, 11},        // unknown: one engine assumed
	}
	for _, tc := range tests {
		n, basis := gpuLadders(tc.gpus, cost)
		if n != tc.want || !strings.Contains(basis, "NVENC") {
			t.Errorf("%v: %d ladders (%s), want %d", tc.gpus, n, basis, tc.want)
		}
	}
}

func TestSoftwareCapacityFromCalibration(t *testing.T) {
	tests := []struct {
		rtf  float64
		want int
	}{{0.5, 1}, {1.0, 1}, {2.3, 2}, {4.5, 4}}
	for _, tc := range tests {
		if n, _ := softwareCapacity(Calibration{RealTimeFactor: tc.rtf, Measured: time.Second}, ""); n != tc.want {
			t.Errorf("rtf %.1f: %d ladders, want %d", tc.rtf, n, tc.want)
		}
	}
}

func TestCapacitySlots(t *testing.T) {
	c := NewCapacity(2, "test")
	first, second, third := c.TryAcquire(), c.TryAcquire(), c.TryAcquire()
	if !first || !second || third {
		t.Fatal("two slots")
	}
	if r := c.Report(); r.Used != 2 || r.Free != 0 {
		t.Fatalf("%+v", r)
	}
	c.Release()
	c.SetTotal(1, "shrunk")
	if r := c.Report(); r.Used != 1 || r.Free != 0 || r.Basis != "shrunk" {
		t.Fatalf("%+v", r)
	}
}

// A stream's own ladder takes its cost in configured ladders: two small
// rungs leave room beside a full ladder that a second full one would not.
func TestCapacityByLadderCost(t *testing.T) {
	base := defaultLadder(t)
	ladder := func(t *testing.T, text string) config.Ladder {
		var l config.Ladder
		if err := l.UnmarshalText([]byte(text)); err != nil {
			t.Fatal(err)
		}
		return l
	}
	tests := []struct {
		name     string
		held     []string // ladders already running, in order
		next     string
		wantNext bool
		wantUsed int
		wantFree int
	}{
		{"configured fits once", nil, "1080p:6000k,720p:3000k,480p:1500k,360p:800k", true, 1, 1},
		{"small beside a full one", []string{"1080p:6000k,720p:3000k,480p:1500k,360p:800k"}, "480p:1500k,360p:800k", true, 2, 0},
		{"a third full one does not fit", []string{"1080p:6000k,720p:3000k,480p:1500k,360p:800k", "1080p:6000k,720p:3000k,480p:1500k,360p:800k"}, "360p:800k", false, 2, 0},
		{"small ones pack", []string{"360p:800k", "360p:800k", "360p:800k"}, "480p:1500k,360p:800k", true, 1, 1},
		{"bigger than configured", []string{"1080p:6000k", "1080p:6000k"}, "1080p:6000k,720p:3000k,540p:2000k", false, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCapacity(2, "test")
			for _, h := range tc.held {
				if !c.For(ladder(t, h), base).TryAcquire() {
					t.Fatalf("%s did not fit", h)
				}
			}
			s := c.For(ladder(t, tc.next), base)
			if got := s.TryAcquire(); got != tc.wantNext {
				t.Fatalf("acquire %s: %v, want %v (%+v)", tc.next, got, tc.wantNext, c.Report())
			}
			if r := c.Report(); r.Used != tc.wantUsed || r.Free != tc.wantFree {
				t.Fatalf("%+v, want used %d free %d", r, tc.wantUsed, tc.wantFree)
			}
			if tc.wantNext {
				s.Release()
				if r := c.Report(); r.Load <= 0 && len(tc.held) > 0 {
					t.Fatalf("release took the others' slots: %+v", r)
				}
			}
		})
	}
}

// The manager on this machine's real ffmpeg: choice, reason, capacity and
// the Prometheus families the origin's /metrics exports.
func TestManagerMetrics(t *testing.T) {
	testkit.RequireTools(t, "ffmpeg")
	cfg := config.Transcode{Enabled: true, Encoders: []string{"h264_nvenc", "h264_vaapi", "libx264"}, Ladder: defaultLadder(t),
		Source: true, Audio: "auto", AudioBitrate: "128k", FFmpeg: "ffmpeg", VAAPIDevice: "/dev/dri/renderD128",
		StallTimeout: time.Second, StartTimeout: time.Second, MaxLag: time.Second, RestartMin: time.Second, RestartMax: time.Second,
		Capacity: 3, QueueBytes: 1 << 20, ProbeTimeout: 20 * time.Second}
	m := NewManager(cfg, 2*time.Second, testLogger(t))
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	choice, reason, ok := m.Encoder()
	if !ok {
		t.Fatal("no encoder")
	}
	if choice.Encoder == "libx264" && !strings.Contains(reason, "h264_nvenc:") {
		t.Errorf("reason for libx264 does not say why NVENC was refused: %s", reason)
	}
	if r := m.Capacity(); r.Total != 3 || r.Free != 3 || r.Encoder != choice.Encoder {
		t.Errorf("capacity %+v", r)
	}
	m.NewTranscoder("cam", nil, newOutputs())
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]int{}
	values := map[string]float64{}
	for _, f := range families {
		samples[f.GetName()] = len(f.GetMetric())
		if m := f.GetMetric(); len(m) == 1 && m[0].GetGauge() != nil {
			values[f.GetName()] = m[0].GetGauge().GetValue()
		}
	}
	wantSamples := map[string]int{"zonecast_encoder_info": 1, "zonecast_encoder_candidate": 3, "zonecast_transcode_capacity_free": 1,
		"zonecast_transcode_capacity_ladders": 1, "zonecast_transcode_restarts_total": len(failureCauses), "zonecast_transcode_running": 1}
	for name, n := range wantSamples {
		if samples[name] != n {
			t.Errorf("%s: %d samples, want %d", name, samples[name], n)
		}
	}
	if values["zonecast_transcode_capacity_free"] != 3 || values["zonecast_transcode_capacity_ladders"] != 3 {
		t.Errorf("capacity gauges %v", values)
	}
}
