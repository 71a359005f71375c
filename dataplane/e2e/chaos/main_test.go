package chaos

import (
	"fmt"
	"os"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

var edgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zonecast-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if edgeBin, err = testkit.EdgeBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
