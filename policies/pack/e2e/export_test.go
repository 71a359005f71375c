package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zonecast/zonecast/policies/pack/internal/fixture"
)

// TestWriteExports writes the fixture exports to ZONECAST_POLICY_EXPORTS, for
// trying the pack by hand (skipped otherwise).
func TestWriteExports(t *testing.T) {
	dir := os.Getenv("ZONECAST_POLICY_EXPORTS")
	if dir == "" {
		t.Skip("set ZONECAST_POLICY_EXPORTS=DIR to write the fixture exports")
	}
	for _, c := range analyzeCases {
		s := fixture.Shipped()
		if c.mutate != nil {
			c.mutate(s)
		}
		b, err := s.Export("eu-west-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
