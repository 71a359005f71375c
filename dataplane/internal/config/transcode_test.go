package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestTranscodeContractLine(t *testing.T) {
	cfg, err := Load([]string{"-config", writeFile(t, contractYAML+"transcode: {enabled: true}\n")}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.Transcode
	if !tc.Enabled || !tc.Source || tc.Encoders[len(tc.Encoders)-1] != "libx264" || tc.Encoders[0] != "h264_nvenc" {
		t.Fatalf("defaults: %+v", tc)
	}
	want := Ladder{{1080, 6_000_000}, {720, 3_000_000}, {480, 1_500_000}, {360, 800_000}}
	if len(tc.Ladder) != len(want) {
		t.Fatalf("default ladder %+v", tc.Ladder)
	}
	for i := range want {
		if tc.Ladder[i] != want[i] {
			t.Errorf("rung %d: %+v want %+v", i, tc.Ladder[i], want[i])
		}
	}
}

func TestTranscodeLadderForms(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		args    []string
		env     map[string]string
		want    string // MarshalText form
		wantErr string
	}{
		{name: "flag form in YAML", yaml: `transcode: {enabled: true, ladder: "720p:3M,360p:800k"}`, want: "720p:3000k,360p:800k"},
		{name: "list of strings, sorted high to low", yaml: "transcode:\n  enabled: true\n  ladder: [\"360p:800k\", \"1080p:6M\"]", want: "1080p:6000k,360p:800k"},
		{name: "list of maps", yaml: "transcode:\n  enabled: true\n  ladder:\n    - {height: 540, bitrate: 2M}\n    - {height: 270, bitrate: 1.5M}", want: "540p:2000k,270p:1500k"},
		{name: "flag", args: []string{"-transcode.ladder", "480p:1500k"}, want: "480p:1500k"},
		{name: "environment", env: map[string]string{"ZONECAST_TRANSCODE_LADDER": "240p:400k"}, want: "240p:400k"},
		{name: "odd height", yaml: `transcode: {ladder: "721p:3M"}`, wantErr: "even"},
		{name: "duplicate height", yaml: `transcode: {ladder: "720p:3M,720p:2M"}`, wantErr: "two rungs"},
		{name: "bad bitrate", yaml: `transcode: {ladder: "720p:fast"}`, wantErr: "bitrate"},
		{name: "unknown encoder", yaml: `transcode: {encoders: [h264_nvenc, x265]}`, wantErr: `"x265" is not one of`},
		{name: "bad audio", yaml: `transcode: {audio: mp3}`, wantErr: "transcode.audio"},
		{name: "restart_max below restart_min", yaml: `transcode: {restart_min: 5s, restart_max: 1s}`, wantErr: "restart_max"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := contractYAML
			if tc.yaml != "" {
				body += tc.yaml + "\n"
			}
			args := append([]string{"-config", writeFile(t, body)}, tc.args...)
			cfg, err := Load(args, envOf(tc.env), &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := cfg.Transcode.Ladder.MarshalText()
			if string(got) != tc.want {
				t.Errorf("ladder %s want %s", got, tc.want)
			}
		})
	}
}
