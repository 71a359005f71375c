package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const (
	testTG       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/zc-srt-a/0123456789abcdef"
	testTG2      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/zc-https-a/0123456789abcdee"
	testNLB      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/zc-a/0123456789abcdef"
	testEndpoint = "arn:aws:globalaccelerator::123456789012:accelerator/1234abcd-abcd-1234-abcd-1234abcdefgh/listener/0123vxyz/endpoint-group/098765zyxwvu"
)

func TestFencingValidate(t *testing.T) {
	ok := Fencing{Enabled: true, TargetGroups: []string{testTG, testTG2}, Endpoint: testNLB, EndpointGroup: testEndpoint,
		ELBURL: "http://127.0.0.1:4566", AcceleratorURL: "http://127.0.0.1:4567"}
	cases := []struct {
		name    string
		edit    func(*Fencing)
		wantErr string
	}{
		{"contract section", func(*Fencing) {}, ""},
		{"off and empty", func(f *Fencing) { *f = Fencing{} }, ""},
		{"no zone weights", func(f *Fencing) { f.EndpointGroup = "" }, ""},
		{"enabled without target groups", func(f *Fencing) { f.TargetGroups = nil }, "fencing.target_groups must list"},
		{"not an ARN", func(f *Fencing) { f.TargetGroups = []string{"srt-a"} }, "fencing.target_groups[0]"},
		{"load balancer as target group", func(f *Fencing) { f.TargetGroups = []string{testNLB} }, "targetgroup/"},
		{"target group as endpoint", func(f *Fencing) { f.Endpoint = testTG }, "fencing.endpoint"},
		{"group without endpoint", func(f *Fencing) { f.Endpoint = "" }, "needs fencing.endpoint"},
		{"accelerator, not a group", func(f *Fencing) {
			f.EndpointGroup = "arn:aws:globalaccelerator::123456789012:accelerator/1234abcd"
		}, "not an endpoint group"},
		{"bad elb url", func(f *Fencing) { f.ELBURL = "127.0.0.1:4566" }, "fencing.elb_url"},
		{"bad accelerator url", func(f *Fencing) { f.AcceleratorURL = "ftp://x" }, "fencing.accelerator_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := ok
			tc.edit(&f)
			err := f.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestFencingFromEnvironment: the section's variables are the contract's
// names, and fencing needs the cluster section.
func TestFencingFromEnvironment(t *testing.T) {
	env := map[string]string{
		"ZONECAST_FENCING_ENABLED":         "true",
		"ZONECAST_FENCING_TARGET_GROUPS":   testTG + "," + testTG2,
		"ZONECAST_FENCING_ENDPOINT":        testNLB,
		"ZONECAST_FENCING_ENDPOINT_GROUP":  testEndpoint,
		"ZONECAST_FENCING_ELB_URL":         "http://127.0.0.1:4566",
		"ZONECAST_FENCING_ACCELERATOR_URL": "http://127.0.0.1:4567",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	_, err := Load([]string{"-streams", "cam1"}, lookup, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "fencing.enabled needs the cluster section") {
		t.Fatalf("without a cluster: %v", err)
	}
	env["ZONECAST_CLUSTER_QUIC_LISTEN"] = "127.0.0.1:9100"
	env["ZONECAST_CLUSTER_REDIS_SENTINELS"] = "127.0.0.1:26379"
	env["ZONECAST_CLUSTER_TLS_CA"], env["ZONECAST_CLUSTER_TLS_CERT"], env["ZONECAST_CLUSTER_TLS_KEY"] = "ca.pem", "n.pem", "k.pem"
	cfg, err := Load([]string{"-streams", "cam1"}, lookup, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := Fencing{Enabled: true, TargetGroups: []string{testTG, testTG2}, Endpoint: testNLB, EndpointGroup: testEndpoint,
		ELBURL: "http://127.0.0.1:4566", AcceleratorURL: "http://127.0.0.1:4567"}
	if !reflect.DeepEqual(cfg.Fencing, want) {
		t.Fatalf("fencing %+v, want %+v", cfg.Fencing, want)
	}
}
