package core

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/cluster"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/policies/failover"
)

// TestNodeFencingWiring: a cluster node with the fencing section runs a
// fencer (its counters on /metrics from the start) and publishes its
// target groups and load balancer in the registry, where a survivor reads
// them; without the section it publishes none and counts nothing.
func TestNodeFencingWiring(t *testing.T) {
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1")
	// Stand-ins for the APIs: nothing is fenced here, so neither is called.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected API call %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusBadRequest)
	}))
	defer api.Close()
	const (
		tgSRT   = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/zc-srt-a/0000000000000001"
		tgHTTPS = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/zc-https-a/0000000000000002"
		nlb     = "arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/net/zc-a/0000000000000003"
		group   = "arn:aws:globalaccelerator::000000000000:accelerator/a/listener/l/endpoint-group/g"
	)
	cases := []struct {
		id, zone string
		fencing  []string
		wantTG   []string
	}{
		{"a1", "a", []string{"-fencing.enabled", "true", "-fencing.target_groups", tgSRT + "," + tgHTTPS, "-fencing.endpoint", nlb,
			"-fencing.endpoint_group", group, "-fencing.elb_url", api.URL, "-fencing.accelerator_url", api.URL}, []string{tgSRT, tgHTTPS}},
		{"b1", "b", nil, nil},
	}
	for _, tc := range cases {
		args := append([]string{"-node.id", tc.id, "-node.zone", tc.zone, "-srt.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0",
			"-streams", "cam1", "-cluster.quic.listen", "127.0.0.1:0", "-cluster.redis.sentinels", strings.Join(c.SentinelAddrs(), ","),
			"-cluster.redis.master", c.Master, "-cluster.tls.ca", filepath.Join(certs, "ca.pem"),
			"-cluster.tls.cert", filepath.Join(certs, tc.id+".pem"), "-cluster.tls.key", filepath.Join(certs, tc.id+"-key.pem")}, tc.fencing...)
		cfg, err := config.Load(args, func(string) (string, bool) { return "", false }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- n.Run(ctx) }()
		defer func() { cancel(); <-done }()

		resp, err := http.Get("http://" + n.Origin.Addr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		counted := strings.Contains(string(body), `zonecast_fence_actions_total{action="deregister",result="ok"} 0`)
		if counted != (tc.fencing != nil) {
			t.Errorf("%s: fence counters on /metrics: %v, want %v", tc.id, counted, tc.fencing != nil)
		}
	}
	// A survivor's view of the registry: what it needs to fence a1.
	rdb, err := cluster.NewRedis(cluster.RedisEndpoint{Sentinels: c.SentinelAddrs(), Master: c.Master}, failover.DefaultTimings)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ledger := cluster.NewLedger(rdb, failover.DefaultTimings)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nodes, err := ledger.Nodes(context.Background())
		if err == nil && len(nodes) == 2 {
			for i, tc := range cases {
				if nodes[i].ID != tc.id || !slices.Equal(nodes[i].TargetGroups, tc.wantTG) {
					t.Fatalf("registry has %+v, want %s with target groups %v", nodes[i], tc.id, tc.wantTG)
				}
			}
			if nodes[0].Endpoint != nlb || nodes[1].Endpoint != "" {
				t.Fatalf("registry endpoints %q and %q, want %q and none", nodes[0].Endpoint, nodes[1].Endpoint, nlb)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry: %+v %v", nodes, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
