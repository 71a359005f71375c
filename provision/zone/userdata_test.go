package zone

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/policies/failover"
)

// script cuts one heredoc'd script out of the user data.
func script(t *testing.T, ud, path string) string {
	t.Helper()
	start := strings.Index(ud, "cat > "+path+" <<'SCRIPT'\n")
	if start < 0 {
		t.Fatalf("user data has no %s", path)
	}
	body := ud[start+len("cat > "+path+" <<'SCRIPT'\n"):]
	return body[:strings.Index(body, "\nSCRIPT\n")+1]
}

// TestPublishLoadScript runs the node's load publisher with curl and aws
// stubbed on PATH: it must compute the zone's load from the edge's transcode
// gauges and hand CloudWatch the metric the scaling policy tracks.
func TestPublishLoadScript(t *testing.T) {
	for _, tool := range []string{"bash", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the boot scripts: %v", tool, err)
		}
	}
	tests := []struct {
		name, gauge, metrics, want string
	}{
		{"share of capacity", "", "zonecast_transcode_capacity_ladders 8\nzonecast_transcode_ladders_active 3\n", "--value 37.5"},
		{"no encoder but asked", "", "zonecast_transcode_capacity_ladders 0\nzonecast_transcode_ladders_active 1\n", "--value 100"},
		{"idle", "", "zonecast_transcode_capacity_ladders 4\nzonecast_transcode_ladders_active 0\n", "--value 0.0"},
		{"own gauge", "my_load", "my_load 61\nzonecast_transcode_ladders_active 1\n", "--value 61"},
		{"edge not up", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := testArgs()
			args.Edge.LoadGauge = tt.gauge
			p := failover.DefaultProvisioning
			args.Provisioning, args.Timings = &p, &failover.DefaultTimings
			ud, err := UserData(&args)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			calls := filepath.Join(dir, "aws-calls")
			stub := func(name, body string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/bash\n"+body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			stub("curl", "printf '%s' '"+tt.metrics+"'\n")
			stub("aws", `echo "$@" >> `+calls+"\n")
			stub("publish-load", script(t, ud, "/usr/local/lib/zonecast/publish-load"))
			cmd := exec.Command("bash", filepath.Join(dir, "publish-load"))
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("publish-load: %v\n%s", err, out)
			}
			got, _ := os.ReadFile(calls)
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("published %q without metrics", got)
				}
				return
			}
			for _, want := range []string{"cloudwatch put-metric-data", "--namespace Zonecast/Edge", "--metric-name EncodeLoadPercent",
				"--dimensions Zone=eu-west-1/a", "--unit Percent", tt.want + " "} {
				if !strings.Contains(string(got)+" ", want) {
					t.Errorf("aws called with %q, lacks %q", got, want)
				}
			}
		})
	}
}

// TestUserDataIsValidBash parses the whole boot script and the drain watcher.
func TestUserDataIsValidBash(t *testing.T) {
	args := testArgs()
	if err := args.validate("zone-a"); err != nil {
		t.Fatal(err)
	}
	for _, sha := range []string{"", "0123abcd"} {
		args.Edge.ArtifactSHA256 = sha
		ud, err := UserData(&args)
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{
			"user data":   ud,
			"drain-watch": script(t, ud, "/usr/local/lib/zonecast/drain-watch"),
		} {
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s (sha %q) is not valid bash: %v\n%s", name, sha, err, out)
			}
		}
		if (sha != "") != strings.Contains(ud, "sha256sum -c") {
			t.Errorf("checksum check present=%v with sha %q", strings.Contains(ud, "sha256sum -c"), sha)
		}
	}
}
