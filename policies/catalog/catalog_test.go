package catalog

import (
	"strings"
	"testing"
	"time"
)

// TestDefaultKeepsFreshness ties the shipped numbers to the promise: a
// creation, deletion or rotation is seen by every node within Freshness.
func TestDefaultKeepsFreshness(t *testing.T) {
	if err := DefaultCache.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := DefaultCache.Staleness(); s > Freshness {
		t.Fatalf("staleness %v beyond freshness %v", s, Freshness)
	}
	if Freshness != 2*time.Second {
		t.Fatalf("the freshness promise is 2 s, not %v", Freshness)
	}
}

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Cache)
		want   string
	}{
		{"positive TTL too long", func(c *Cache) { c.PositiveTTL = 1500 * time.Millisecond }, "beyond the 2s freshness promise"},
		{"negative TTL too long", func(c *Cache) { c.NegativeTTL = 1500 * time.Millisecond }, "beyond the 2s freshness promise"},
		{"slow read", func(c *Cache) { c.ReadTimeout = time.Second }, "beyond the 2s freshness promise"},
		{"replication", func(c *Cache) { c.ReplicationLag = 2 * time.Second }, "replication 2s"},
		{"zero TTL", func(c *Cache) { c.PositiveTTL = 0 }, "PositiveTTL 0s must be positive"},
		{"negative replication", func(c *Cache) { c.ReplicationLag = -time.Second }, "must not be negative"},
		{"stale limit", func(c *Cache) { c.StaleLimit = 100 * time.Millisecond }, "StaleLimit 100ms must be at least"},
		{"no miss rate", func(c *Cache) { c.MissRate = 0 }, "MissRate 0"},
		{"no burst", func(c *Cache) { c.MissBurst = 0 }, "MissBurst 0"},
		{"no concurrency", func(c *Cache) { c.MissConcurrency = 0 }, "MissConcurrency 0"},
		{"no entries", func(c *Cache) { c.MaxEntries = 0 }, "MaxEntries 0"},
		{"small negative cache", func(c *Cache) { c.MaxNegative = 100 }, "MaxNegative 100 must hold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultCache
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
