package transcode

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

func TestSelectOutputsNeverUpscales(t *testing.T) {
	var def config.Ladder
	if err := def.UnmarshalText([]byte("1080p:6000k,720p:3000k,480p:1500k,360p:800k")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  SourceInfo
		want []string // name=WxH
	}{
		{"1080p source", SourceInfo{Width: 1920, Height: 1080}, []string{"1080p=1920x1080", "720p=1280x720", "480p=854x480", "360p=640x360"}},
		{"720p source", SourceInfo{Width: 1280, Height: 720}, []string{"720p=1280x720", "480p=854x480", "360p=640x360"}},
		{"4:3 576p source", SourceInfo{Width: 768, Height: 576}, []string{"480p=640x480", "360p=480x360"}},
		{"portrait 1080x1920", SourceInfo{Width: 1080, Height: 1920}, []string{"1080p=608x1080", "720p=406x720", "480p=270x480", "360p=202x360"}},
		{"below every rung", SourceInfo{Width: 426, Height: 240}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, o := range SelectOutputs(def, tc.src) {
				if o.Width%2 != 0 || o.Height%2 != 0 {
					t.Errorf("%s: odd size %dx%d", o.Name, o.Width, o.Height)
				}
				got = append(got, o.Name+"="+itoa(o.Width)+"x"+itoa(o.Height))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v want %v", got, tc.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestArgsPerFamily(t *testing.T) {
	outs := []Output{{"720p", 1280, 720, 3000000}, {"360p", 640, 360, 800000}}
	src := SourceInfo{Codec: "h264", Width: 1920, Height: 1080, FPS: 30, HasAudio: true}
	tests := []struct {
		encoder string
		scaler  string
		want    []string
	}{
		{"libx264", "", []string{"-tune zerolatency", "-bf 0", "scale=1280:720", "-sc_threshold 0", "-forced-idr 1"}},
		{"h264_nvenc", "scale_cuda", []string{"-hwaccel cuda", "-hwaccel_output_format cuda", "scale_cuda=w=1280:h=720", "-preset p3", "-zerolatency 1"}},
		{"h264_nvenc", "scale_npp", []string{"scale_npp=w=640:h=360:format=nv12"}},
		{"h264_vaapi", "", []string{"-hwaccel vaapi", "scale_vaapi=w=1280:h=720:format=nv12"}},
		{"h264_qsv", "", []string{"-hwaccel_output_format qsv -c:v h264_qsv -analyzeduration", "scale_qsv=w=640:h=360"}},
	}
	for _, tc := range tests {
		t.Run(tc.encoder+tc.scaler, func(t *testing.T) {
			c, _ := LookupCandidate(tc.encoder)
			p := Plan{Candidate: c, Scaler: tc.scaler, VAAPIDevice: "/dev/dri/renderD128", Source: src, Outputs: outs,
				AudioBitrate: 128000, Grid: gridParams{Segment: 2 * time.Second, FirstPTS: 900000}}
			line := strings.Join(p.Args(), " ")
			for _, w := range append(tc.want, "-copyts", "-i pipe:0", "-fps_mode passthrough", "-c:a aac", "-b:v:0 3000000", "-b:v:1 800000",
				`[select=\'v:0,a\':f=mpegts:flush_packets=1:avoid_negative_ts=disabled]pipe:3`, `pipe:4`, "-force_key_frames expr:") {
				if !strings.Contains(line, w) {
					t.Errorf("args lack %q:\n%s", w, line)
				}
			}
		})
	}
}

func TestKeyframeExprForms(t *testing.T) {
	grid := keyframeExpr(gridParams{Segment: 2 * time.Second, FirstPTS: 90000})
	if !strings.Contains(grid, "t+1.000000000") || strings.Contains(grid, "floor(t/") {
		t.Errorf("pure grid expression: %s", grid)
	}
	src := keyframeExpr(gridParams{Segment: 2 * time.Second, FirstPTS: 90000, GOP: 90000, Delta: 6000})
	if !strings.Contains(src, "floor(t/1.000000000+1e-6)") || !strings.Contains(src, "0.933333333+") {
		t.Errorf("source-phase expression: %s", src)
	}
}
