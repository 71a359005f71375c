package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestPinValidate(t *testing.T) {
	sha := strings.Repeat("0a", 32)
	tests := []struct {
		name string
		pin  Pin
		want string // "" = valid
	}{
		{"pinned", Pin{Version: "1.2.3", SHA256: sha}, ""},
		{"pre-release", Pin{Version: "1.2.3-rc.1", SHA256: sha}, ""},
		{"own URL", Pin{Version: "1.2.3", SHA256: sha, URLTemplate: "https://releases.example.com/{version}/edge"}, ""},
		{"unpinned", Pin{}, "make release"},
		{"latest", Pin{Version: "latest", SHA256: sha}, "not a version"},
		{"leading v", Pin{Version: "v1.2.3", SHA256: sha}, "not a version"},
		{"short checksum", Pin{Version: "1.2.3", SHA256: sha[:63]}, "64 lower-case hex"},
		{"upper-case checksum", Pin{Version: "1.2.3", SHA256: strings.ToUpper(sha)}, "64 lower-case hex"},
		{"plain http", Pin{Version: "1.2.3", SHA256: sha, URLTemplate: "http://example.com/edge"}, "https"},
		{"shell in URL", Pin{Version: "1.2.3", SHA256: sha, URLTemplate: "https://x/$(reboot)"}, "shell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pin.Validate()
			if tt.want == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if got := (Pin{Version: "1.2.3"}).URL(); got != "https://github.com/zonecast/zonecast/releases/download/v1.2.3/edge-linux-amd64" {
		t.Errorf("default URL %s", got)
	}
}

// TestMakeReleaseIsReproducible runs `make release` as the release
// workflow does, twice into different directories, and checks that the
// two builds are the same bytes, that the checksum file names them, that
// the binary reports the version it was stamped with, and that the image
// component pins the same checksum.
func TestMakeReleaseIsReproducible(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"make", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("`make release` needs %s (apt-get install make coreutils): %v", tool, err)
		}
	}
	const version = "0.0.0-reproducible"
	var sums []string
	for i := 0; i < 2; i++ {
		dist := t.TempDir()
		cmd := exec.Command("make", "--no-print-directory", "-C", root, "release", "VERSION="+version, "DIST="+dist)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make release: %v\n%s", err, out)
		}
		dir := filepath.Join(dist, "v"+version)
		sumFile, err := os.ReadFile(filepath.Join(dir, Artifact+".sha256"))
		if err != nil {
			t.Fatal(err)
		}
		check := exec.Command("sha256sum", "--check", "--quiet", Artifact+".sha256")
		check.Dir = dir
		if out, err := check.CombinedOutput(); err != nil {
			t.Fatalf("the checksum file does not match the binary: %v\n%s", err, out)
		}
		sum := strings.Fields(string(sumFile))[0]
		sums = append(sums, sum)
		if !strings.Contains(string(out), "pulumi config set zonecast:edgeSha256 "+sum) ||
			!strings.Contains(string(out), "pulumi config set zonecast:edgeVersion "+version) {
			t.Errorf("make release does not print the settings that pin it:\n%s", out)
		}
		got, err := exec.Command(filepath.Join(dir, Artifact), "-version").Output()
		if err != nil {
			t.Fatalf("edge -version: %v", err)
		}
		if strings.TrimSpace(string(got)) != version {
			t.Errorf("edge -version printed %q, want %q", got, version)
		}
		component, err := os.ReadFile(filepath.Join(dir, "zonecast-edge-component.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(component, []byte(sum)) || !bytes.Contains(component, []byte("/v"+version+"/")) {
			t.Error("the image component does not pin this build")
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of the same source differ: %s vs %s", sums[0], sums[1])
	}
	bad := exec.Command("make", "--no-print-directory", "-C", root, "release", "VERSION=latest", "DIST="+t.TempDir())
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "semantic version") {
		t.Errorf("make release VERSION=latest: %v\n%s", err, out)
	}
}

// TestReleaseWorkflow: the workflow that publishes releases builds them
// with `make release` (what the test above runs) and uploads every file it
// writes.
func TestReleaseWorkflow(t *testing.T) {
	raw, err := os.ReadFile("../../.github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	if _, ok := wf.On["push"]; !ok {
		t.Error("release.yml does not run on pushed tags")
	}
	var runs string
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			runs += s.Run + "\n"
		}
	}
	for _, want := range []string{`make release VERSION="${GITHUB_REF_NAME#v}"`, Artifact + " ", Artifact + ".sha256",
		"zonecast-edge-component.yaml", "gh release create"} {
		if !strings.Contains(runs, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
}
