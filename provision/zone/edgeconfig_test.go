package zone

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/policies/failover"
)

// edgeBinary builds the edge from this repository (or takes EDGE_BIN).
func edgeBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("EDGE_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "edge")
	cmd := exec.Command("go", "build", "-o", bin, "./dataplane/cmd/edge")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the edge: %v\n%s", err, out)
	}
	return bin
}

// environmentFile reads a systemd EnvironmentFile the way systemd does for
// the lines EnvFile writes: KEY="value" with \" and \\ escapes.
func environmentFile(t *testing.T, file string) []string {
	t.Helper()
	var env []string
	for _, line := range strings.Split(file, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			t.Fatalf("not a quoted assignment: %q", line)
		}
		v = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(v[1 : len(v)-1])
		env = append(env, k+"="+v)
	}
	return env
}

// loadInEdge hands the environment file, with the lines the boot script
// appends, to the edge's own configuration loader. `edge -encoders` loads
// the configuration first and says on standard error when it cannot.
func loadInEdge(t *testing.T, bin, file string) string {
	t.Helper()
	file += "ZONECAST_NODE_ID=\"i-0123456789abcdef0\"\n"
	if !strings.Contains(file, AdminListenVar+"=") {
		file += AdminListenVar + "=\"" + AdminListen("10.40.1.23") + "\"\n"
	}
	cmd := exec.Command(bin, "-encoders")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, environmentFile(t, file)...)
	out, _ := cmd.CombinedOutput() // the encoder probe's verdict does not matter here
	return string(out)
}

// TestEnvFileLoadsInTheEdge: every node of every region runs `edge` with
// exactly this file; an edge that refuses it crash-loops under systemd.
func TestEnvFileLoadsInTheEdge(t *testing.T) {
	bin := edgeBinary(t)
	redis := "master.zone-a-redis.abc123.euw1.cache.amazonaws.com"
	token := "Tok3n-with!special&chars#$^<>-0123"
	streams := "cam1:correct-horse-battery,cam2:second-camera-pass"
	recorded := "cam1:correct-horse-battery,cam2+record:second-camera-pass"
	services := Services{
		// Two values: a rotation in progress.
		OriginSecrets:   []string{"0riginSecret-current-$`x'", "originSecret-next-0123456789"},
		AdminToken:      "an-admin-token-!#$%&*+-./:;<=>?@^_`|~",
		CatalogTable:    "zonecast-streams",
		CatalogRegion:   "eu-west-1",
		RecordingBucket: "zonecast-rec-123456789012-eu-west-1",
		RecordingRegion: "eu-west-1",
		RecordingPrefix: "vod",
		Fencing:         testFencing,
	}
	tests := []struct {
		name     string
		streams  string
		services Services
	}{
		{"stream list alone", streams, Services{}},
		{"every service", recorded, services},
		{"catalog without a stream list", "", services},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := EnvFile("eu-west-1", "a", redis, token, tt.streams, failover.DefaultTimings, tt.services)
			if err != nil {
				t.Fatal(err)
			}
			if out := loadInEdge(t, bin, env); strings.Contains(out, "configuration not loaded") {
				t.Fatalf("the edge refuses the environment provision writes:\n%s\n%s", out, env)
			}
		})
	}
	// The edge ignores variables it does not know: each setting provision
	// writes is spoiled in turn, and the loader must name it.
	full, err := EnvFile("eu-west-1", "a", redis, token, recorded, failover.DefaultTimings, services)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ variable, value, key string }{
		{AdminListenVar, "no-port", "admin.listen"},
		{"ZONECAST_ADMIN_TOKEN", "a token", "admin.token"},
		{"ZONECAST_ORIGIN_SECRETS", "caf\u00e9", "origin.secrets"},
		{"ZONECAST_ORIGIN_SECRET_HEADER", "X Origin", "origin.secret_header"},
		{"ZONECAST_CATALOG_DYNAMODB_TABLE", "x", "catalog.dynamodb.table"},
		{"ZONECAST_RECORDING_PREFIX", "/vod/", "recording.prefix"},
		{"ZONECAST_FENCING_ENABLED", "maybe", "fencing.enabled"},
		{"ZONECAST_FENCING_TARGET_GROUPS", "zone-a-srt", "fencing.target_groups"},
		{"ZONECAST_FENCING_ENDPOINT", testFencing.TargetGroups[0], "fencing.endpoint"},
		{"ZONECAST_FENCING_ENDPOINT_GROUP", "arn:aws:globalaccelerator::123456789012:accelerator/1/listener/2", "fencing.endpoint_group"},
	} {
		t.Run("spoiled "+bad.variable, func(t *testing.T) {
			var lines []string
			for _, l := range strings.Split(full, "\n") {
				if !strings.HasPrefix(l, bad.variable+"=") {
					lines = append(lines, l)
				}
			}
			file := strings.Join(lines, "\n") + bad.variable + "=\"" + bad.value + "\"\n"
			if out := loadInEdge(t, bin, file); !strings.Contains(out, bad.key) {
				t.Fatalf("the edge did not refuse %s=%q by its key %s:\n%s", bad.variable, bad.value, bad.key, out)
			}
		})
	}

	// A recorded stream needs the recording bucket's settings: the same
	// loader refuses the file without them.
	env, err := EnvFile("eu-west-1", "a", redis, token, recorded, failover.DefaultTimings, Services{})
	if err != nil {
		t.Fatal(err)
	}
	if out := loadInEdge(t, bin, env); !strings.Contains(out, "record needs recording.bucket") {
		t.Fatalf("a recorded stream without the bucket was not refused:\n%s", out)
	}
	env, err = EnvFile("eu-west-1", "a", redis, token, streams, failover.DefaultTimings, Services{})
	if err != nil {
		t.Fatal(err)
	}
	// The same check catches a file without the relay's TLS material.
	var broken []string
	for _, l := range strings.Split(env, "\n") {
		if !strings.HasPrefix(l, "ZONECAST_CLUSTER_TLS_") {
			broken = append(broken, l)
		}
	}
	if out := loadInEdge(t, bin, strings.Join(broken, "\n")); !strings.Contains(out, "cluster.tls needs ca, cert and key") {
		t.Fatalf("an environment without relay TLS was not refused:\n%s", out)
	}
}

// TestEnvFileSizeLimit computes how many streams of a realistic size the
// edge environment holds in its SSM parameter (Advanced tier, 8 KB), and
// checks that one more is refused with the reason instead of failing in
// AWS.
func TestEnvFileSizeLimit(t *testing.T) {
	// A realistic stream: a 24-character name and a generated 32-character
	// passphrase (what the control API hands out).
	stream := func(i int) string {
		return fmt.Sprintf("league-match-%04d-feed-a:%s", i, strings.Repeat("p", 32))
	}
	streams := func(n int) string {
		var s []string
		for i := 0; i < n; i++ {
			s = append(s, stream(i))
		}
		return strings.Join(s, ",")
	}
	redis := "master.zone-a-redis.abc123.apse1.cache.amazonaws.com"
	token := strings.Repeat("t", 128) // the longest token ElastiCache takes
	// Fencing's ARNs are in every node's environment.
	services := Services{Fencing: testFencing}
	fits := 0
	for n := 1; ; n++ {
		if _, err := EnvFile("ap-southeast-1", "a", redis, token, streams(n), failover.DefaultTimings, services); err != nil {
			if !strings.Contains(err.Error(), "Advanced tier") || !strings.Contains(err.Error(), "zonecast:streams") {
				t.Fatalf("the limit's error does not say what to change: %v", err)
			}
			break
		}
		fits = n
	}
	env, _ := EnvFile("ap-southeast-1", "a", redis, token, streams(fits), failover.DefaultTimings, services)
	base, _ := EnvFile("ap-southeast-1", "a", redis, token, "x", failover.DefaultTimings, services)
	t.Logf("edge environment: %d bytes without streams; %d streams of %d bytes fit in %d bytes (%d used)",
		len(base), fits, len(stream(0))+1, AdvancedParameterBytes, len(env))
	if len(base) > StandardParameterBytes/2 {
		t.Errorf("the environment without streams is already %d bytes", len(base))
	}
	// The Standard tier (4 KB) would have held about half as many.
	if fits < 100 {
		t.Errorf("only %d realistic streams fit; the stream catalog must take them out of the environment", fits)
	}
}

// testFencing is a zone's fencing settings with ARNs of AWS's lengths (the
// load balancer and target group names as long as Pulumi makes them).
var testFencing = Fencing{
	Enabled: true,
	TargetGroups: []string{
		"arn:aws:elasticloadbalancing:ap-southeast-1:123456789012:targetgroup/zone-a-srt-1a2b3c4/0123456789abcdef",
		"arn:aws:elasticloadbalancing:ap-southeast-1:123456789012:targetgroup/zone-a-https-1a2b3c4/0123456789abcdef",
	},
	Endpoint:      "arn:aws:elasticloadbalancing:ap-southeast-1:123456789012:loadbalancer/net/zone-a-nlb-1a2b3c4/0123456789abcdef",
	EndpointGroup: "arn:aws:globalaccelerator::123456789012:accelerator/1234abcd-abcd-1234-abcd-1234abcdefgh/listener/0123abcd/endpoint-group/098765432109",
}

// TestEnvFileFencing: fencing's settings are rendered as the edge reads
// them (fencing.* in dataplane/internal/config), and refused when a node
// could not act on them.
func TestEnvFileFencing(t *testing.T) {
	redis, token := "master.redis.example", "Tok3n-0123456789"
	noGroup := testFencing
	noGroup.EndpointGroup = ""
	noTargets := testFencing
	noTargets.TargetGroups = nil
	notArn := testFencing
	notArn.Endpoint = "zone-a-nlb"
	comma := testFencing
	comma.TargetGroups = []string{"arn:aws:elasticloadbalancing:x,y"}
	tests := []struct {
		name    string
		fencing Fencing
		want    map[string]string // "" : absent
		refused string
	}{
		{"enabled", testFencing, map[string]string{
			"ZONECAST_FENCING_ENABLED":        "true",
			"ZONECAST_FENCING_TARGET_GROUPS":  strings.Join(testFencing.TargetGroups, ","),
			"ZONECAST_FENCING_ENDPOINT":       testFencing.Endpoint,
			"ZONECAST_FENCING_ENDPOINT_GROUP": testFencing.EndpointGroup,
		}, ""},
		{"disabled", Fencing{}, map[string]string{
			"ZONECAST_FENCING_ENABLED":        "false",
			"ZONECAST_FENCING_TARGET_GROUPS":  "",
			"ZONECAST_FENCING_ENDPOINT":       "",
			"ZONECAST_FENCING_ENDPOINT_GROUP": "",
		}, ""},
		{"no endpoint group", noGroup, nil, "endpoint group"},
		{"no target groups", noTargets, nil, "target groups"},
		{"not an ARN", notArn, nil, "not an ARN"},
		{"comma in an ARN", comma, nil, "not an ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := EnvFile("ap-southeast-1", "a", redis, token, "cam1", failover.DefaultTimings, Services{Fencing: tt.fencing})
			if tt.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("got %v, want an error mentioning %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, kv := range environmentFile(t, env) {
				k, v, _ := strings.Cut(kv, "=")
				got[k] = v
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s=%q, want %q", k, got[k], v)
				}
			}
		})
	}
}
