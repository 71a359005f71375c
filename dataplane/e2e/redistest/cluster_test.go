package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestSentinelFailover starts the real processes, writes through go-redis'
// Sentinel failover client, kills the primary and writes again after the
// sentinels promote the replica.
func TestSentinelFailover(t *testing.T) {
	c := StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: c.Master, SentinelAddrs: c.SentinelAddrs(),
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
	})
	defer cl.Close()
	if err := cl.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// WAIT makes the write reach the replica before the primary dies.
	if n, err := cl.Wait(ctx, 1, time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1: %d %v", n, err)
	}
	old, err := c.KillPrimary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	now, err := c.WaitFailover(ctx, old.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("promoted %s after %v", now, time.Since(start).Round(time.Millisecond))
	var got string
	for ctx.Err() == nil {
		if got, err = cl.Get(ctx, "k").Result(); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got != "before" {
		t.Fatalf("after failover k=%q (%v), want the replicated value", got, err)
	}
	if err := cl.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Fatalf("write after failover: %v", err)
	}
	// The old primary rejoins as a replica of the new one.
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReplicated(ctx); err != nil {
		t.Fatal(err)
	}
}
