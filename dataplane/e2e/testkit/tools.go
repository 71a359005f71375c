package testkit

import (
	"os/exec"
	"testing"
)

// RequireTools fails the test loudly (never skips) when a tool it drives is
// missing from PATH, saying how to install it.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing from PATH: install it with `make deps` (scripts/deps.sh)", tool)
		}
	}
}
