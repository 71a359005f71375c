package events

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
)

func newClient(t *testing.T, c *redistest.Cluster) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: c.Primary.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestRedisLiveState runs the live-state table through the Lua script
// against real Redis, each step fenced by a lease its node holds, and
// checks that a deposed leader's token is refused.
func TestRedisLiveState(t *testing.T) {
	c := redistest.StartT(t)
	rdb := newClient(t, c)
	ctx := context.Background()
	q := NewRedis(rdb, "r1", "a1", fastPolicy())
	lease := "zc:{s}:lease"
	var token uint64
	hold := func(holder string) *Fence {
		token++
		if err := rdb.HSet(ctx, lease, "holder", holder, "token", token).Err(); err != nil {
			t.Fatal(err)
		}
		return &Fence{Key: lease, Holder: holder, Token: token}
	}
	runLiveSteps(t, q, "s", hold)

	// The lease moved on: the old holder's announcement is refused and
	// nothing is queued.
	stale := Fence{Key: lease, Holder: "a1", Token: token}
	hold("b1")
	before, _, _ := q.backlog(ctx)
	env := Envelope{ID: NewID(), Type: StreamLive, Time: time.Now(), Stream: "s", Node: "a1", Region: "r1", Zone: "a", Data: map[string]any{}}
	for _, o := range []op{opLead, opIdle, opSwitch, opPlain} {
		if _, queued, err := q.enqueue(ctx, request{op: o, env: env, fence: &stale}); !errors.Is(err, ErrStale) || queued {
			t.Fatalf("%s with a stale token: queued=%v err=%v, want ErrStale", o, queued, err)
		}
	}
	if after, _, _ := q.backlog(ctx); after != before {
		t.Fatalf("backlog %d → %d after refused events", before, after)
	}
}
