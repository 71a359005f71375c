package preview

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/provision/region"
)

// TestRenderRegion: rendering a region stack through the engine yields, per
// zone, the boot script the launch template carries and every parameter it
// reads, with the stack's values (the edge environment with the region's
// one Redis endpoint, the same in both zones, the relay TLS from the stack's secrets) and the operator's own
// (HTTPS certificate and key) listed as external; a pinned release set for
// the rendering reaches the boot script.
func TestRenderRegion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nodes, err := Render(ctx, Options{Root: root(t), Stack: "eu-west-1", Config: map[string]string{"zonecast:edgeVersion": "9.8.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || nodes[0].Zone != "zone-a" || nodes[1].Zone != "zone-b" {
		t.Fatalf("zones %+v", nodes)
	}
	for _, key := range []string{"a", "b"} {
		n := nodes[key[0]-'a']
		if want := region.ConfigParameter("eu-west-1", key); n.ConfigParameter != want {
			t.Errorf("zone %s: edge parameter %q, want %q", key, n.ConfigParameter, want)
		}
		env := n.Parameters[n.ConfigParameter]
		for _, want := range []string{`ZONECAST_NODE_ZONE="` + key + `"`, "ZONECAST_CLUSTER_REDIS_TLS=\"true\"",
			`ZONECAST_CLUSTER_REDIS_PASSWORD="preview-placeholder-auth-token"`, `ZONECAST_CLUSTER_REDIS_ADDRESS="master.redis.`} {
			if !strings.Contains(env, want) {
				t.Errorf("zone %s: edge environment lacks %s:\n%s", key, want, env)
			}
		}
		if a, b := redisAddress(nodes[0]), redisAddress(n); a != b {
			t.Errorf("zone %s's nodes use Redis %q, zone a's %q: the twin zones must share one", key, b, a)
		}
		relay := region.RelayTLSParameters("eu-west-1")
		for _, p := range []string{relay.CA, relay.Cert, relay.Key} {
			if !strings.Contains(n.Parameters[p], "-----BEGIN") {
				t.Errorf("zone %s: relay parameter %s is %q", key, p, n.Parameters[p])
			}
		}
		if want := []string{"/zonecast/eu-west-1/tls/cert.pem", "/zonecast/eu-west-1/tls/key.pem"}; !slices.Equal(n.External, want) {
			t.Errorf("zone %s: parameters the operator makes %v, want %v", key, n.External, want)
		}
		if !strings.Contains(n.UserData, "the stack pins 9.8.7") || !strings.HasPrefix(n.UserData, "#!/bin/bash") {
			t.Errorf("zone %s: the boot script does not pin the rendering's release:\n%.400s", key, n.UserData)
		}
	}
}

func redisAddress(n Node) string {
	for _, line := range strings.Split(n.Parameters[n.ConfigParameter], "\n") {
		if v, ok := strings.CutPrefix(line, "ZONECAST_CLUSTER_REDIS_ADDRESS="); ok {
			return v
		}
	}
	return ""
}
