package transcode

import (
	"os/exec"
	"testing"
)

// requireTools fails the test loudly when a tool the test drives is missing.
func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found in PATH: install it with `make deps` (scripts/deps.sh)", tool)
		}
	}
}
