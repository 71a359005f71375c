package rehearse

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/chaos"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

// renderDir is what `make render` wrote: REHEARSE_RENDER, or the default
// stack's rendering.
func renderDir(t *testing.T) string {
	dir := os.Getenv("REHEARSE_RENDER")
	if dir == "" {
		dir = filepath.Join(testkit.RepoRoot(), ".cache", "render", "eu-west-1")
	}
	if _, err := os.Stat(filepath.Join(dir, "zone-a", "user-data.sh")); err != nil {
		t.Fatalf("no rendering in %s: run `make rehearse` (it renders first) or `make render STACK=eu-west-1`", dir)
	}
	return dir
}

// edgeBuild is the edge binary reporting version: REHEARSE_EDGE_<n> (a
// `make release` binary) or a build stamped the same way.
func edgeBuild(t *testing.T, n int, version string) string {
	if bin := os.Getenv("REHEARSE_EDGE_" + strconv.Itoa(n)); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "edge")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+version, "-o", bin, "./dataplane/cmd/edge")
	cmd.Dir = testkit.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build edge %s: %v\n%s", version, err, out)
	}
	return bin
}

// withoutKey is the environment file without key's line: a broken node.
func withoutKey(env, key string) string {
	var out []string
	for _, line := range strings.Split(env, "\n") {
		if !strings.HasPrefix(line, key+"=") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestRehearsal runs the rendered region: two zones of two nodes.
func TestRehearsal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the rehearsal needs root (network namespaces): run it as root, as make test does here")
	}
	dir := renderDir(t)
	var zones []*Zone
	for _, name := range []string{"zone-a", "zone-b"} {
		z, err := LoadZone(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, z)
	}
	version := zones[0].PinnedVersion
	if version == "" {
		t.Fatal("the rendered boot script pins no release version")
	}
	binV1 := edgeBuild(t, 1, version)
	if out, err := exec.Command(binV1, "-version").Output(); err != nil || strings.TrimSpace(string(out)) != version {
		t.Fatalf("edge -version %q (%v), the boot script requires %s", out, err, version)
	}

	labDir, err := os.MkdirTemp("", "zonecast-rehearse-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(labDir)
	if err := os.Chmod(labDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lab, err := NewLab(labDir)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	t.Logf("temporary root of the nodes' files: %s", labDir)

	// The region's Redis (its ElastiCache primary endpoint), which both
	// zones' nodes must share: one registry and one set of leases.
	redisAddress := envValue(zones[0].Env, "ZONECAST_CLUSTER_REDIS_ADDRESS")
	for _, z := range zones[1:] {
		if got := envValue(z.Env, "ZONECAST_CLUSTER_REDIS_ADDRESS"); got != redisAddress {
			t.Fatalf("%s's nodes render Redis %q, %s's %q: the twin zones would keep separate registries and leases "+
				"(no twin-zone standby, no viewer proxy across zones); the region needs one Redis for both", z.Name, got, zones[0].Name, redisAddress)
		}
	}
	host, portText, err := net.SplitHostPort(redisAddress)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	const redisIP = "10.79.0.2"
	if err := lab.AddHostAddress(redisIP); err != nil {
		t.Fatal(err)
	}
	redis, err := lab.StartRedis([]string{host}, redisIP, port, envValue(zones[0].Env, "ZONECAST_CLUSTER_REDIS_PASSWORD"))
	if err != nil {
		t.Fatal(err)
	}
	defer redis.Stop()
	hosts := []string{redisIP + " " + host}
	t.Logf("substitution: Redis endpoint %s resolves to %s:%d (the namespaces' /etc/hosts), redis-server TLS-only with requirepass", host, redisIP, port)
	for _, note := range lab.Services(t, zones[0]) {
		t.Logf("substitution: %s", note)
	}

	var nodes []*Node
	for zi, z := range zones {
		for k := 1; k <= 2; k++ {
			id := fmt.Sprintf("%s%d", strings.TrimPrefix(z.Name, "zone-"), k)
			n, err := lab.NewNode(z, id, fmt.Sprintf("10.79.0.%d", 11+10*zi+k-1), hosts)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			lab.Metadata.Register(n.IP, id)
			nodes = append(nodes, n)
		}
	}
	defer func() {
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("--- %s log:\n%s", n.ID, tail(n.Log(), 4000))
			}
		}
	}()

	t.Run("InvalidConfigFailsLoudly", func(t *testing.T) {
		// The environment the first provision wrote: no relay TLS.
		n := nodes[0]
		if err := n.Install(binV1, withoutKey(n.Zone.Env, "ZONECAST_CLUSTER_TLS_CA")); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !n.Exited() {
			if code, _ := n.Ready(); code == 200 {
				t.Fatalf("a node with an invalid configuration reported ready:\n%s", n.Log())
			}
			if time.Now().After(deadline) {
				t.Fatalf("a node with an invalid configuration neither exited nor said why:\n%s", n.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if log := n.Log(); !strings.Contains(log, "invalid configuration") || !strings.Contains(log, "cluster.tls") {
			t.Fatalf("the invalid node's log does not say what is wrong:\n%s", log)
		}
		t.Logf("invalid node's log: %s", strings.TrimSpace(tail(n.Log(), 300)))
	})

	t.Run("EveryNodeReady", func(t *testing.T) {
		starts := map[string]time.Time{}
		for _, n := range nodes {
			if err := n.Install(binV1, n.Zone.Env); err != nil {
				t.Fatal(err)
			}
			starts[n.ID] = time.Now()
			if err := n.Start(); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range nodes {
			took, err := n.WaitReady(starts[n.ID], 60*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.ServerVersion(t); got != "zonecast-edge/"+version {
				t.Errorf("%s's /api/v1/streams answers as %q, want the pinned release %s", n.ID, got, version)
			}
			t.Logf("FIGURE boot %s: /readyz 200 %v after the unit's start", n.ID, took.Round(10*time.Millisecond))
		}
		for _, s := range nodes[0].Substitutions {
			t.Logf("substitution: %s", s)
		}
	})
	if t.Failed() {
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	profile := chaos.Profile{Name: "rendered", Timings: failover.DefaultTimings, GOP: failover.DefaultTimings.SegmentDuration}
	zoneA := []*chaos.Node{nodes[0].Chaos, nodes[1].Chaos}
	var broadcaster *chaos.Broadcaster
	t.Run("PublishAndPlayEverywhere", func(t *testing.T) {
		// With the catalog the node ignores streams:, so the stream is
		// created as an operator would: the control API on a node's admin
		// listener, with the rendered admin token.
		createStream(t, nodes[0], envValue(zones[0].Env, "ZONECAST_ADMIN_TOKEN"))
		var err error
		// The accelerator sends the broadcaster to zone a's NLB, which
		// picks a ready node.
		broadcaster, err = chaos.StartBroadcaster(profile, func() []*chaos.Node { return zoneA })
		if err != nil {
			t.Fatal(err)
		}
		readers := map[string]*chaos.Reader{}
		for _, n := range nodes {
			r := chaos.NewReader(func() []*chaos.Node { return []*chaos.Node{n.Chaos} }, profile.Part(), profile.Segment())
			readers[n.ID] = r
			go r.Run(ctx)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			missing := []string{}
			for id, r := range readers {
				if r.Report().Segments < 3 {
					missing = append(missing, id)
				}
			}
			if len(missing) == 0 {
				break
			}
			if time.Now().After(deadline) {
				sort.Strings(missing)
				t.Fatalf("the stream does not play from %v (broadcaster on %q)", missing, broadcaster.ConnectedTo())
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, n := range nodes {
			rep := readers[n.ID].Report()
			t.Logf("%s serves %s: %d segments seen", n.ID, chaos.StreamName, rep.Segments)
		}
		t.Logf("broadcaster connected to %s", broadcaster.ConnectedTo())
	})
	if broadcaster != nil {
		defer broadcaster.Stop()
	}
	if t.Failed() {
		return
	}

	// The CDN's origin group: zone a's NLB first, zone b's second; each
	// NLB sends to its zone's nodes that are in service.
	inService := map[string]bool{}
	for _, n := range nodes {
		inService[n.ID] = true
	}
	var serviceMu sync.Mutex
	origins := func() []*chaos.Node {
		serviceMu.Lock()
		defer serviceMu.Unlock()
		var out []*chaos.Node
		for _, n := range nodes {
			if inService[n.ID] && !n.Exited() {
				out = append(out, n.Chaos)
			}
		}
		return out
	}
	viewer := chaos.NewReader(origins, profile.Part(), profile.Segment())
	go viewer.Run(ctx)

	t.Run("DrainHandsOverToTwinZone", func(t *testing.T) {
		leader := nodes[0]
		for _, n := range nodes {
			if broadcaster.ConnectedTo() == n.ID {
				leader = n
			}
		}
		time.Sleep(2 * profile.Segment())
		calls, watch, err := leader.DrainWatch()
		if err != nil {
			t.Fatal(err)
		}
		defer watch.Process.Kill()
		viewer.ResetStall()
		before := viewer.Report()
		// The group terminates the node: target state Terminated, and the
		// load balancer deregisters it (no new flows, no new requests).
		lab.Metadata.Terminate(leader.IP)
		serviceMu.Lock()
		inService[leader.ID] = false
		serviceMu.Unlock()
		start := time.Now()
		select {
		case <-leader.Done():
		case <-time.After(3 * time.Minute):
			t.Fatalf("%s did not stop after its target state turned Terminated", leader.ID)
		}
		stopped := time.Since(start)
		out, err := waitFile(ctx, calls, 30*time.Second)
		if err != nil {
			t.Fatalf("drain-watch did not complete the lifecycle action: %v", err)
		}
		if !strings.Contains(out, "complete-lifecycle-action") || !strings.Contains(out, "--instance-id "+leader.ID) ||
			!strings.Contains(out, "--lifecycle-action-result CONTINUE") {
			t.Fatalf("drain-watch called aws %q", out)
		}
		if err := watch.Wait(); err != nil {
			t.Fatalf("drain-watch exited %v", err)
		}
		// The stream went to the twin zone: the drained leader relayed to
		// a standby there, which leads now.
		twin := "zone=b"
		if leader.Zone.Name == "zone-b" {
			twin = "zone=a"
		}
		relayed := false
		for _, line := range strings.Split(leader.Log(), "\n") {
			relayed = relayed || (strings.Contains(line, "relaying to standby") && strings.Contains(line, twin))
		}
		if !relayed || !strings.Contains(leader.Log(), "drain") {
			t.Errorf("%s did not hand its stream to a twin-zone standby:\n%s", leader.ID, tail(leader.Log(), 3000))
		}
		for _, sub := range leader.Substitutions {
			if strings.HasPrefix(sub, "drain-watch") {
				t.Logf("substitution: %s", sub)
			}
		}
		time.Sleep(3 * profile.Segment())
		rep := viewer.Report()
		t.Logf("FIGURE drain %s: edge stopped %v after Terminated; viewer stall %v, media lost %v, %d new segments, served by %v; lifecycle: %s",
			leader.ID, stopped.Round(10*time.Millisecond), rep.MaxStall.Round(10*time.Millisecond), rep.MediaLost, rep.Segments-before.Segments, rep.ServedBy, strings.TrimSpace(out))
		// The stall stays under a segment. What the broadcaster sends
		// between the old node closing its connection and the new one
		// taking it is lost, up to the next keyframe: at most a GOP (the
		// rehearsal's encoder: a segment), never a skipped segment.
		if rep.MaxStall >= profile.Segment() || rep.MediaLost > profile.GOP || len(rep.Skipped) > 0 {
			t.Errorf("the drain cost the viewer a stall of %v (limit a segment, %v), lost %v (limit a GOP, %v), skipped %v",
				rep.MaxStall, profile.Segment(), rep.MediaLost, profile.GOP, rep.Skipped)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("RollingUpdate", func(t *testing.T) {
		next := os.Getenv("REHEARSE_VERSION_2")
		if next == "" {
			next = version + "-next"
		}
		binV2 := edgeBuild(t, 2, next)
		out, err := exec.Command(binV2, "-version").Output()
		if err != nil || strings.TrimSpace(string(out)) == version {
			t.Fatalf("the second build reports %q (%v): it must differ from %s", out, err, version)
		}
		next = strings.TrimSpace(string(out))
		viewer.ResetStall()
		before := viewer.Report()
		start := time.Now()
		// As an instance refresh: one node at a time leaves service (the
		// load balancer deregisters it), drains and stops; its replacement
		// runs the new release and rejoins once ready.
		for _, n := range nodes {
			serviceMu.Lock()
			inService[n.ID] = false
			serviceMu.Unlock()
			n.Stop(90 * time.Second)
			if err := n.Install(binV2, n.Zone.Env); err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			if err := n.Start(); err != nil {
				t.Fatal(err)
			}
			took, err := n.WaitReady(begin, 90*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			serviceMu.Lock()
			inService[n.ID] = true
			serviceMu.Unlock()
			if got := n.ServerVersion(t); got != "zonecast-edge/"+next {
				t.Fatalf("%s's /api/v1/streams answers as %q after its replacement, want release %s", n.ID, got, next)
			}
			t.Logf("%s replaced: release %s, ready %v after its start", n.ID, next, took.Round(10*time.Millisecond))
			// The refresh's warm-up: the new node takes its standby role
			// before the next one leaves.
			time.Sleep(2 * profile.Segment())
		}
		rep := viewer.Report()
		t.Logf("FIGURE update: 4 nodes replaced in %v; viewer stall %v, media lost %v, %d new segments, skipped %v, served by %v",
			time.Since(start).Round(time.Second), rep.MaxStall.Round(10*time.Millisecond), rep.MediaLost, rep.Segments-before.Segments, rep.Skipped, rep.ServedBy)
		if rep.MaxStall >= profile.Segment() || rep.MediaLost > 2*profile.GOP || len(rep.Skipped) > 0 {
			t.Errorf("the rolling update cost the viewer a stall of %v (limit a segment, %v), lost %v, skipped %v",
				rep.MaxStall, profile.Segment(), rep.MediaLost, rep.Skipped)
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// createStream creates the broadcaster's stream through n's control API:
// refused without the token, created with it.
func createStream(t *testing.T, n *Node, token string) {
	t.Helper()
	api := n.AdminURL()
	if api == "" || token == "" {
		t.Fatalf("the rendering gives %s no admin listener (%q) or no admin token", n.ID, api)
	}
	body := fmt.Sprintf(`{"name": %q, "passphrase": %q}`, chaos.StreamName, chaos.Passphrase)
	post := func(auth string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, api+"/api/v1/streams", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("POST %s/api/v1/streams: %v", api, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post(""); code != http.StatusUnauthorized {
		t.Fatalf("POST /api/v1/streams without the admin token: %d, want 401", code)
	}
	code, answer := post(token)
	if code != http.StatusCreated {
		t.Fatalf("POST /api/v1/streams with the rendered admin token: %d %s", code, answer)
	}
	t.Logf("stream %s created through %s's control API (%s, rendered admin token)", chaos.StreamName, n.ID, api)
}
