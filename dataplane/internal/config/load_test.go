package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const contractYAML = `node: {id: a1, region: local, zone: a}
srt: {listen: "127.0.0.1:9000"}
http: {listen: "127.0.0.1:8080"}
streams:
  - {name: cam1, passphrase: "correct-horse-battery"}
  - {name: cam2, passphrase: "second-camera-pass"}
`

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) Source {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestContractFile(t *testing.T) {
	cfg, err := Load([]string{"-config", writeFile(t, contractYAML)}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.ID != "a1" || cfg.Node.Zone != "a" || cfg.SRT.Listen != "127.0.0.1:9000" || cfg.HTTP.Listen != "127.0.0.1:8080" {
		t.Fatalf("contract fields: %+v", cfg)
	}
	if len(cfg.Streams) != 2 || cfg.Streams[1].Passphrase != "second-camera-pass" {
		t.Fatalf("streams: %+v", cfg.Streams)
	}
	// Defaults fill what the file leaves out.
	if cfg.SRT.Latency != 120*time.Millisecond || cfg.HLS.SegmentDuration != 2*time.Second || cfg.HLS.PartDuration != 200*time.Millisecond {
		t.Fatalf("defaults: %+v %+v", cfg.SRT, cfg.HLS)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, strings.Replace(contractYAML, `srt: {listen: "127.0.0.1:9000"}`, `srt: {listen: "127.0.0.1:9000", latency: 300ms}`, 1)+"hls: {part_duration: 250ms}\n")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		latency time.Duration
		part    time.Duration
	}{
		{"file over default", nil, nil, 300 * time.Millisecond, 250 * time.Millisecond},
		{"env over file", nil, map[string]string{"ZONECAST_SRT_LATENCY": "400ms"}, 400 * time.Millisecond, 250 * time.Millisecond},
		{"flag over env", []string{"-srt.latency", "500ms"}, map[string]string{"ZONECAST_SRT_LATENCY": "400ms"}, 500 * time.Millisecond, 250 * time.Millisecond},
		{"flag for another key", []string{"-hls.part_duration=100ms"}, nil, 300 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(append([]string{"-config", file}, tt.args...), envOf(tt.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SRT.Latency != tt.latency || cfg.HLS.PartDuration != tt.part {
				t.Fatalf("latency %v part %v, want %v %v", cfg.SRT.Latency, cfg.HLS.PartDuration, tt.latency, tt.part)
			}
		})
	}
}

func TestEnvAndFlagsWithoutFile(t *testing.T) {
	cfg, err := Load([]string{"-streams", "cam1:correct-horse-battery,cam2"},
		envOf(map[string]string{"ZONECAST_NODE_ID": "n7", "ZONECAST_CLUSTER_REDIS_SENTINELS": "127.0.0.1:26379, 127.0.0.1:26380",
			"ZONECAST_CLUSTER_QUIC_LISTEN": "127.0.0.1:9100", "ZONECAST_CLUSTER_TLS_CA": "ca.pem", "ZONECAST_CLUSTER_TLS_CERT": "n.pem", "ZONECAST_CLUSTER_TLS_KEY": "k.pem"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.ID != "n7" || len(cfg.Streams) != 2 || cfg.Streams[0].Passphrase != "correct-horse-battery" || cfg.Streams[1].Passphrase != "" {
		t.Fatalf("%+v", cfg)
	}
	if got := cfg.Cluster.Redis.Sentinels; len(got) != 2 || got[1] != "127.0.0.1:26380" {
		t.Fatalf("sentinels %q", got)
	}
}

func TestClusterContract(t *testing.T) {
	file := writeFile(t, contractYAML+`cluster:
  quic: {listen: "127.0.0.1:9100"}
  tls: {ca: ca.pem, cert: node.pem, key: node-key.pem}
  redis: {sentinels: ["127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"], master: zonecast}
transcode: {enabled: true}
`)
	cfg, err := Load([]string{"-config", file}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster.QUIC.Listen != "127.0.0.1:9100" || cfg.Cluster.TLS.Key != "node-key.pem" || len(cfg.Cluster.Redis.Sentinels) != 3 || cfg.Cluster.Redis.Master != "zonecast" || !cfg.Transcode.Enabled {
		t.Fatalf("%+v", cfg.Cluster)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		args []string
		want string
	}{
		{"unknown key", contractYAML + "srt_typo: 1\n", nil, "field srt_typo not found"},
		{"no streams", "node: {id: a}\n", nil, "at least one stream"},
		{"short passphrase", "streams: [{name: cam1, passphrase: short}]\n", nil, "10–80 characters"},
		{"bad name", "streams: [{name: \"../x\"}]\n", nil, "name \"../x\""},
		{"duplicate", "streams: [{name: a}, {name: a}]\n", nil, "configured twice"},
		{"bad conflict", contractYAML, []string{"-srt.on_conflict", "maybe"}, "srt.on_conflict"},
		{"bad duration", contractYAML, []string{"-srt.latency", "soon"}, "srt.latency"},
		{"parts too long", contractYAML, []string{"-hls.part_duration", "1.5s"}, "at least two parts"},
		{"bad listen", contractYAML, []string{"-http.listen", "8080"}, "http.listen"},
		{"tls half", contractYAML, []string{"-http.tls_cert", "c.pem"}, "go together"},
		{"missing file", "", []string{"-config", "/nonexistent/edge.yaml"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.yaml != "" {
				args = append([]string{"-config", writeFile(t, tt.yaml)}, args...)
			}
			_, err := Load(args, envOf(nil), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestHelpDocumentsEveryKey(t *testing.T) {
	var out bytes.Buffer
	_, err := Load([]string{"-h"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	for _, k := range Keys() {
		if !strings.Contains(out.String(), "-"+k.Path+" ") || !strings.Contains(out.String(), k.Env) {
			t.Errorf("help lacks %s / %s", k.Path, k.Env)
		}
		if k.Usage == "" {
			t.Errorf("key %s has no usage tag", k.Path)
		}
	}
}

func TestSectionValidatorsRun(t *testing.T) {
	// cluster.quic.listen set without the rest: the cluster section's own
	// Validate must be consulted by Config.Validate.
	_, err := Load([]string{"-config", writeFile(t, contractYAML), "-cluster.quic.listen", "127.0.0.1:9100"}, envOf(nil), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "cluster.") {
		t.Fatalf("err %v, want the cluster section's validation", err)
	}
}
