package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// RepoRoot is the repository root, found from this file's place so that it
// holds whichever package's directory a test runs in.
func RepoRoot() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..", "..")
}

// EdgeBinary is the edge daemon under test: $EDGE_BIN when set (the make
// targets build it once), otherwise built into dir.
func EdgeBinary(dir string) (string, error) {
	if bin := os.Getenv("EDGE_BIN"); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(dir, "edge")
	cmd := exec.Command("go", "build", "-o", bin, "./dataplane/cmd/edge")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build edge: %v\n%s", err, out)
	}
	return bin, nil
}
