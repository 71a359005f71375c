package ami

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zonecast/zonecast/provision/release"
)

var pin = release.Pin{Version: "1.2.3", SHA256: strings.Repeat("ab", 32)}

// document is the part of Image Builder's component schema (1.0) that
// the service validates when the component is created.
type document struct {
	Name          string `yaml:"name"`
	Description   string `yaml:"description"`
	SchemaVersion string `yaml:"schemaVersion"`
	Phases        []struct {
		Name  string `yaml:"name"`
		Steps []struct {
			Name   string `yaml:"name"`
			Action string `yaml:"action"`
			Inputs struct {
				Commands []string `yaml:"commands"`
			} `yaml:"inputs"`
		} `yaml:"steps"`
	} `yaml:"phases"`
}

var stepName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,127}$`)

func TestComponentIsAValidDocument(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed to parse the component's scripts: %v", err)
	}
	raw, err := Component(pin)
	if err != nil {
		t.Fatal(err)
	}
	var doc document
	dec := yaml.NewDecoder(strings.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not the component schema: %v\n%s", err, raw)
	}
	if doc.SchemaVersion != "1.0" || doc.Name == "" || len(doc.Description) > 1024 {
		t.Errorf("header: name %q schemaVersion %q", doc.Name, doc.SchemaVersion)
	}
	phases := map[string]bool{}
	scripts := ""
	for _, p := range doc.Phases {
		switch p.Name {
		case "build", "validate", "test":
		default:
			t.Errorf("phase %q: Image Builder knows build, validate and test", p.Name)
		}
		phases[p.Name] = true
		seen := map[string]bool{}
		for _, s := range p.Steps {
			if !stepName.MatchString(s.Name) || seen[s.Name] {
				t.Errorf("phase %s: step name %q invalid or repeated", p.Name, s.Name)
			}
			seen[s.Name] = true
			if s.Action != "ExecuteBash" || len(s.Inputs.Commands) == 0 {
				t.Errorf("step %s: action %q with %d commands", s.Name, s.Action, len(s.Inputs.Commands))
			}
			for _, c := range s.Inputs.Commands {
				cmd := exec.Command("bash", "-n")
				cmd.Stdin = strings.NewReader(c)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("step %s is not valid bash: %v\n%s\n%s", s.Name, err, out, c)
				}
				if !strings.HasPrefix(c, "set -euo pipefail\n") {
					t.Errorf("step %s does not stop at its first failure", s.Name)
				}
				scripts += c
			}
		}
	}
	for _, p := range []string{"build", "validate", "test"} {
		if !phases[p] {
			t.Errorf("no %s phase", p)
		}
	}
	for _, want := range []string{
		"apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ffmpeg", // ffmpeg baked
		"https://github.com/zonecast/zonecast/releases/download/v1.2.3/edge-linux-amd64",
		pin.SHA256 + "  /usr/local/bin/edge.new' | sha256sum --check", // the download is checked
		"-encoders -transcode.encoders h264_nvenc",                    // the GPU encodes on the test instance
	} {
		if !strings.Contains(scripts, want) {
			t.Errorf("component lacks %q", want)
		}
	}
	if len(raw) > MaxComponentBytes {
		t.Errorf("component is %d bytes, over Image Builder's %d", len(raw), MaxComponentBytes)
	}
	t.Logf("component: %d bytes of %d", len(raw), MaxComponentBytes)
}

func TestComponentRefusesBadPin(t *testing.T) {
	if _, err := Component(release.Pin{Version: "latest", SHA256: pin.SHA256}); err == nil {
		t.Fatal("a component for version \"latest\" was rendered")
	}
}
