package config

import (
	"strings"
	"testing"
)

func TestClusterValidate(t *testing.T) {
	ok := Cluster{
		QUIC:     ClusterQUIC{Listen: "127.0.0.1:9100"},
		TLS:      ClusterTLS{CA: "ca.pem", Cert: "node.pem", Key: "node-key.pem"},
		Redis:    ClusterRedis{Sentinels: []string{"127.0.0.1:26379"}, Master: "zonecast"},
		Capacity: 4,
	}
	cases := []struct {
		name    string
		edit    func(*Cluster)
		wantErr string
	}{
		{"contract section", func(*Cluster) {}, ""},
		{"empty section is standalone", func(c *Cluster) { *c = Cluster{} }, ""},
		{"missing key", func(c *Cluster) { c.TLS.Key = "" }, "cluster.tls"},
		{"no sentinels", func(c *Cluster) { c.Redis.Sentinels = nil }, "sentinels must list"},
		{"bad sentinel", func(c *Cluster) { c.Redis.Sentinels = []string{"nope"} }, "sentinels[0]"},
		{"bad quic", func(c *Cluster) { c.QUIC.Listen = "x" }, "cluster.quic.listen"},
		{"bad advertise", func(c *Cluster) { c.QUIC.Advertise = "x" }, "cluster.quic.advertise"},
		{"unspecified advertise", func(c *Cluster) { c.QUIC.Advertise = "0.0.0.0:9100" }, "needs a host"},
		{"empty advertise host", func(c *Cluster) { c.QUIC.Advertise = ":9100" }, "needs a host"},
		{"no master", func(c *Cluster) { c.Redis.Master = "" }, "master"},
		{"no capacity", func(c *Cluster) { c.Capacity = 0 }, "capacity"},
		{"direct endpoint", func(c *Cluster) {
			c.Redis = ClusterRedis{Address: "master.example.cache.amazonaws.com:6379", Password: "t", TLS: true}
		}, ""},
		{"sentinels and address", func(c *Cluster) { c.Redis.Address = "127.0.0.1:6379" }, "not both"},
		{"bad address", func(c *Cluster) { c.Redis = ClusterRedis{Address: "nope"} }, "cluster.redis.address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Redis.Sentinels = append([]string(nil), ok.Redis.Sentinels...)
			tc.edit(&c)
			err := c.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}
