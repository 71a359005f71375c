package cluster

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/policies/failover"
)

// TestDirectEndpoint reaches Redis the way a node in AWS does: one primary
// endpoint with AUTH, no Sentinel (ElastiCache). A wrong password is refused
// with Redis's own reason, not mistaken for a stale token.
func TestDirectEndpoint(t *testing.T) {
	c := redistest.StartT(t)
	ctx := context.Background()
	const secret = "elasticache-auth-token"
	admin := redis.NewClient(&redis.Options{Addr: c.Primary.Addr()})
	defer admin.Close()
	if err := admin.ConfigSet(ctx, "requirepass", secret).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a := redis.NewClient(&redis.Options{Addr: c.Primary.Addr(), Password: secret})
		a.ConfigSet(context.Background(), "requirepass", "")
		a.Close()
	})
	tm := failover.DefaultTimings

	cases := []struct {
		name     string
		password string
		wantErr  string
	}{
		{"right token", secret, ""},
		{"wrong token", "not-the-token", "WRONGPASS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rdb, err := NewRedis(RedisEndpoint{Address: c.Primary.Addr(), Password: tc.password}, tm)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			g, err := NewLedger(rdb, tm).Acquire(ctx, newStream(t), "n1", 0)
			if tc.wantErr == "" {
				if err != nil || !g.Held || g.Token == 0 {
					t.Fatalf("acquire over the direct endpoint: %+v, %v", g, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !IsUnavailable(err) {
				t.Fatalf("err %v, want an unavailable error saying %s", err, tc.wantErr)
			}
		})
	}
}

func TestNewRedisRefusesBothModes(t *testing.T) {
	_, err := NewRedis(RedisEndpoint{Address: "127.0.0.1:6379", Sentinels: []string{"127.0.0.1:26379"}}, failover.DefaultTimings)
	if err == nil {
		t.Fatal("sentinels and an address together were accepted")
	}
}
