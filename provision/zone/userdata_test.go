package zone

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
			curlCalls := filepath.Join(dir, "curl-calls")
			stub("curl", `echo "$@" >> `+curlCalls+"\nprintf '%s' '"+tt.metrics+"'\n")
			address := filepath.Join(dir, "admin-address")
			if err := os.WriteFile(address, []byte("10.40.1.23:9090\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			stub("aws", `echo "$@" >> `+calls+"\n")
			stub("publish-load", strings.ReplaceAll(script(t, ud, "/usr/local/lib/zonecast/publish-load"), AdminAddressFile, address))
			cmd := exec.Command("bash", filepath.Join(dir, "publish-load"))
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("publish-load: %v\n%s", err, out)
			}
			// /metrics is on the admin listener, never on the public one.
			if asked, _ := os.ReadFile(curlCalls); !strings.Contains(string(asked), "http://10.40.1.23:9090/metrics") {
				t.Errorf("the load publisher asked %q, not the admin listener's /metrics", asked)
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
	for _, gauge := range []string{"", "my_load"} {
		args.Edge.LoadGauge = gauge
		ud, err := UserData(&args)
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{
			"user data":    ud,
			"drain-watch":  script(t, ud, "/usr/local/lib/zonecast/drain-watch"),
			"publish-load": script(t, ud, "/usr/local/lib/zonecast/publish-load"),
		} {
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s (gauge %q) is not valid bash: %v\n%s", name, gauge, err, out)
			}
		}
	}
}

// TestUserDataFitsEC2 renders the largest boot script the settings allow
// (longest names, a long artifact URL, an own load gauge) and checks it
// against EC2's 16 KB.
func TestUserDataFitsEC2(t *testing.T) {
	args := testArgs()
	args.Stack = strings.Repeat("s", 64)
	args.Region = "ap-southeast-1"
	args.AutoScalingGroupName = "zonecast-" + args.Stack + "-zone-a"
	args.ConfigParameter = ConfigPathPrefix(args.Stack) + "zone-a/edge.env"
	args.Edge.Release.URLTemplate = "https://" + strings.Repeat("r", 200) + ".example.com/v{version}/" + strings.Repeat("p", 200)
	args.Edge.Release.Version = "10.20.30-rc.40"
	args.Edge.LoadGauge = strings.Repeat("g", 100)
	args.Edge.RelayTLS = RelayTLSParameters{
		CA: ConfigPathPrefix(args.Stack) + "relay/ca.pem", Cert: ConfigPathPrefix(args.Stack) + "relay/cert.pem",
		Key: ConfigPathPrefix(args.Stack) + "relay/key.pem",
	}
	p := failover.DefaultProvisioning
	args.Provisioning, args.Timings = &p, &failover.DefaultTimings
	ud, err := UserData(&args)
	if err != nil {
		t.Fatal(err)
	}
	if len(ud) > MaxUserDataBytes*3/4 {
		t.Errorf("worst-case user data is %d bytes, within a quarter of EC2's %d: trim it before it fails", len(ud), MaxUserDataBytes)
	}
	t.Logf("worst-case user data: %d of %d bytes", len(ud), MaxUserDataBytes)
}

// TestDrainWatch runs the node's drain watcher with the metadata service,
// systemctl and the AWS CLI stubbed on PATH: it must stop the edge once the
// target state turns to Terminated and then complete the lifecycle action,
// retrying while that fails (before the hook starts, and after API errors),
// and give up only after the hook's time is over.
func TestDrainWatch(t *testing.T) {
	for _, tool := range []string{"bash", "seq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the boot scripts: %v", tool, err)
		}
	}
	args := testArgs()
	p := failover.DefaultProvisioning
	args.Provisioning, args.Timings = &p, &failover.DefaultTimings
	ud, err := UserData(&args)
	if err != nil {
		t.Fatal(err)
	}
	attempts := int((p.DeregistrationDelay(failover.DefaultTimings) + failover.DefaultTimings.LifecycleHookTimeout) / p.DrainPollInterval)
	tests := []struct {
		name        string
		inService   int // polls that read InService before Terminated
		awsFailures int // complete-lifecycle-action calls that fail first
		wantExit    int
		wantCalls   int
	}{
		{"completes at once", 2, 0, 0, 1},
		{"retries until the hook starts", 0, 15, 0, 16},
		{"gives up after the hook's time", 0, 1 << 20, 1, attempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			stub := func(name, body string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/bash\n"+body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			count := func(name string) string { // increments and prints a counter file
				return `n=$(cat "$D/` + name + `.count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$D/` + name + `.count"`
			}
			stub("sleep", "exit 0\n") // polls and back-offs take no time here
			stub("curl", `case "$*" in
*api/token*) echo token ;;
*instance-id*) echo i-0123456789abcdef0 ;;
*target-lifecycle-state*) `+count("polls")+`; [ $n -gt `+strconv.Itoa(tt.inService)+` ] && echo Terminated || echo InService ;;
*) exit 22 ;;
esac
`)
			stub("systemctl", `echo "systemctl $*" >> "$D/log"`+"\n")
			stub("aws", count("aws")+`; echo "aws $*" >> "$D/log"; [ $n -gt `+strconv.Itoa(tt.awsFailures)+` ]`+"\n")
			stub("drain-watch", script(t, ud, "/usr/local/lib/zonecast/drain-watch"))
			cmd := exec.Command("bash", filepath.Join(dir, "drain-watch"))
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "D="+dir)
			out, err := cmd.CombinedOutput()
			code := 0
			if err != nil {
				exit, ok := err.(*exec.ExitError)
				if !ok {
					t.Fatal(err)
				}
				code = exit.ExitCode()
			}
			if code != tt.wantExit {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.wantExit, out)
			}
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			if lines[0] != "systemctl stop zonecast-edge.service" {
				t.Errorf("first action %q, want the edge stopped (drained) before the hook is completed", lines[0])
			}
			calls := 0
			for _, l := range lines[1:] {
				if !strings.Contains(l, "autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name zonecast-eu-west-1-zone-a "+
					"--lifecycle-hook-name drain --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE") {
					t.Errorf("unexpected call %q", l)
				}
				calls++
			}
			if calls != tt.wantCalls {
				t.Errorf("%d complete-lifecycle-action calls, want %d", calls, tt.wantCalls)
			}
		})
	}
}
