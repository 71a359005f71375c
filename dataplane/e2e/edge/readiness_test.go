package edge_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

// TestReadinessFollowsRedis: /readyz is what the load balancer's health
// check asks, "may this node be sent new ingests?". A clustered node that
// cannot reach Redis refuses new ingests, so its /readyz must turn 503 once
// Redis has been unreachable for the policy's grace (RedisUnreadyAfter),
// stay 200 through a shorter outage, and turn 200 again when Redis is back.
func TestReadinessFollowsRedis(t *testing.T) {
	t.Parallel() // an edge of its own on free ports, light: overlaps the others
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "r1")
	tm := failover.DefaultTimings
	extra := fmt.Sprintf(`cluster:
  quic: {listen: %q}
  tls: {ca: %s/ca.pem, cert: %s/r1.pem, key: %s/r1-key.pem}
  redis: {sentinels: ["%s"], master: %s}
`, freeUDPPort(t), certs, certs, certs, strings.Join(c.SentinelAddrs(), `", "`), c.Master)
	e := startEdge(t, contractStreams, extra) // waits for /readyz 200: Redis was reached

	ready := func() (int, string) {
		resp, err := http.Get(e.httpURL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	waitStatus := func(want int, within time.Duration) (time.Duration, string) {
		t.Helper()
		start := time.Now()
		for {
			code, body := ready()
			if code == want {
				return time.Since(start), body
			}
			if time.Since(start) > within {
				t.Fatalf("/readyz still %d (%s) after %v, want %d\nedge log:\n%s", code, body, within, want, e.log.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Both Redis servers frozen: no heartbeat gets an answer and Sentinel
	// has nobody to promote.
	c.Primary.Freeze()
	c.Replica.Freeze()
	frozen := true
	defer func() {
		if frozen {
			c.Primary.Thaw()
			c.Replica.Thaw()
		}
	}()
	// Half the grace after the outage began the node is still ready: a
	// blip shorter than a Redis failover never takes it out of service.
	time.Sleep(tm.RedisUnreadyAfter() / 2)
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("/readyz %d (%s) only %v into a Redis outage; the grace is %v", code, body, tm.RedisUnreadyAfter()/2, tm.RedisUnreadyAfter())
	}
	// Unready within the grace plus a few heartbeats (the heartbeat that
	// notices waits up to one heartbeat for its answer).
	took, body := waitStatus(http.StatusServiceUnavailable, tm.RedisUnreadyAfter()+5*tm.NodeHeartbeat)
	if !strings.Contains(body, "Redis") {
		t.Fatalf("/readyz 503 without saying why: %q", body)
	}
	t.Logf("/readyz 503 %v after the grace's half: %q", took.Round(100*time.Millisecond), body)

	c.Primary.Thaw()
	c.Replica.Thaw()
	frozen = false
	took, _ = waitStatus(http.StatusOK, 10*time.Second)
	t.Logf("/readyz 200 again %v after Redis returned", took.Round(100*time.Millisecond))
	e.alive()
}
