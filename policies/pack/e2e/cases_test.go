package e2e

import (
	"github.com/zonecast/zonecast/policies/pack/internal/fixture"
)

const region = "eu-west-1"

func p(name string) string { return region + "-" + name }

// analyzeCases are the crafted exports: the shipped shape, and one per
// contract violation.
var analyzeCases = []struct {
	name     string
	mutate   func(s *fixture.Set)
	policy   string // "" = must pass
	resource string // logical name the violation must name
}{
	{name: "shipped"},
	{"redis-failover-off", func(s *fixture.Set) {
		s.Get(p("redis")).Props["automaticFailoverEnabled"] = false
	}, "redis-replication-group", p("redis")},
	{"one-zone", func(s *fixture.Set) {
		s.Remove(p("b-edges"), p("b-nlb"), p("b-launch-template"))
	}, "region-two-zones", p("a-edges")},
	{"one-redis-node", func(s *fixture.Set) {
		s.Get(p("redis")).Props["numCacheClusters"] = 1
	}, "redis-replication-group", p("redis")},
	{"no-endpoint-group", func(s *fixture.Set) {
		s.Remove(p("srt"))
	}, "region-endpoint-groups", p("a-nlb")},
	{"plain-auth-token", func(s *fixture.Set) {
		s.Get(p("redis")).Props["authToken"] = "0123456789abcdef0123"
	}, "redis-replication-group", p("redis")},
	{"ssh-open", func(s *fixture.Set) {
		s.Add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", p("ssh"), map[string]any{
			"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"})
	}, "security-group-world-ingress", p("ssh")},
}
