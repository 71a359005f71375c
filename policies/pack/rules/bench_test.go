package rules_test

import (
	"testing"

	. "github.com/zonecast/zonecast/policies/pack/internal/fixture"
	"github.com/zonecast/zonecast/policies/pack/rules"
)

// BenchmarkCheck measures a whole-stack check (every per-resource policy on
// every resource, then the stack policies) on the global stack plus three
// regions.
func BenchmarkCheck(b *testing.B) {
	s := Shipped()
	s.Region("us-east-1")
	s.Region("ap-southeast-1")
	rs := s.Resources()
	cfg := rules.DefaultConfig()
	b.ReportAllocs()
	for b.Loop() {
		if vs := rules.Check(rs, cfg); len(vs) != 0 {
			b.Fatal(vs)
		}
	}
	b.ReportMetric(float64(len(rs)), "resources/op")
}
