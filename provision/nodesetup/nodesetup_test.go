package nodesetup

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/provision/release"
)

// stubs is a directory of commands that shadow the system's on PATH.
type stubs struct {
	t   *testing.T
	dir string
}

func newStubs(t *testing.T) *stubs {
	t.Helper()
	for _, tool := range []string{"bash", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the node's install steps (apt-get install bash coreutils): %v", tool, err)
		}
	}
	return &stubs{t: t, dir: t.TempDir()}
}

func (s *stubs) add(name, body string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte("#!/bin/bash\n"+body), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// run runs script under bash -euo pipefail, as the boot script and the
// image recipe do, with the stubs first on PATH.
func (s *stubs) run(script string) (string, error) {
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+s.dir+":"+os.Getenv("PATH"), "STUBS="+s.dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *stubs) calls(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, name+".calls"))
	return string(b)
}

func fakeEdge(version string) []byte {
	return []byte("#!/bin/bash\n[ \"$1\" = -version ] && echo " + version + "\n")
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestInstallEdge(t *testing.T) {
	good := fakeEdge("1.2.3")
	tests := []struct {
		name      string
		installed []byte // already at the binary's path (a baked image)
		served    []byte // what the download returns
		pinSHA    string
		wantErr   string
		wantFetch bool
	}{
		{"downloads and checks", nil, good, sum(good), "", true},
		{"baked image kept", good, nil, sum(good), "", false},
		{"stale binary replaced", fakeEdge("1.2.2"), good, sum(good), "", true},
		{"tampered download refused", nil, append(good, '#'), sum(good), "FAILED", true},
		{"binary of another version refused", nil, fakeEdge("9.9.9"), sum(fakeEdge("9.9.9")), "reports version 9.9.9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStubs(t)
			binary := filepath.Join(t.TempDir(), "edge")
			if tt.installed != nil {
				if err := os.WriteFile(binary, tt.installed, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			served := filepath.Join(s.dir, "served")
			if err := os.WriteFile(served, tt.served, 0o644); err != nil {
				t.Fatal(err)
			}
			s.add("curl", `echo "$@" >> "$STUBS/curl.calls"
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
cp "$STUBS/served" "$out"
`)
			script, err := InstallEdge(release.Pin{Version: "1.2.3", SHA256: tt.pinSHA, URLTemplate: "https://example.com/v{version}/edge"}, binary)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.run(script)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("install failed: %v\n%s", err, out)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(out, tt.wantErr)) {
				t.Fatalf("got %v, want a failure saying %q:\n%s", err, tt.wantErr, out)
			}
			fetched := s.calls("curl")
			if (fetched != "") != tt.wantFetch {
				t.Errorf("download called: %q, want %v", fetched, tt.wantFetch)
			}
			if tt.wantFetch && !strings.Contains(fetched, "https://example.com/v1.2.3/edge") {
				t.Errorf("downloaded %q, not the pinned version's URL", fetched)
			}
			got, _ := os.ReadFile(binary)
			switch {
			case tt.wantErr == "" && sum(got) != tt.pinSHA:
				t.Error("the installed binary is not the pinned one")
			case strings.Contains(tt.wantErr, "FAILED") && len(got) != 0:
				t.Error("a download with the wrong checksum was installed")
			}
		})
	}
}

func TestInstallEdgeRefusesBadPins(t *testing.T) {
	for _, pin := range []release.Pin{
		{Version: "", SHA256: strings.Repeat("a", 64)},
		{Version: "v1.2.3", SHA256: strings.Repeat("a", 64)},
		{Version: "1.2.3", SHA256: "abc"},
		{Version: "1.2.3", SHA256: strings.Repeat("a", 64), URLTemplate: "http://example.com/edge"},
		{Version: "1.2.3", SHA256: strings.Repeat("a", 64), URLTemplate: "https://x/$(reboot)"},
	} {
		if _, err := InstallEdge(pin, EdgeBinary); err == nil {
			t.Errorf("pin %+v accepted", pin)
		}
	}
}

func TestInstallFFmpeg(t *testing.T) {
	const nvenc = " V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)\n V....D libx264 ...\n"
	const cpuOnly = " V....D libx264 ...\n"
	tests := []struct {
		name           string
		present        string // ffmpeg -encoders before any install; "" = no ffmpeg
		installs       string // what apt-get's ffmpeg lists
		wantErr        bool
		wantAptInstall bool
	}{
		{"present with NVENC", nvenc, "", false, false},
		{"absent: installed", "", nvenc, false, true},
		{"present without NVENC: installed", cpuOnly, nvenc, false, true},
		{"distribution's build lacks NVENC", "", cpuOnly, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStubs(t)
			write := func(name, content string) {
				if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("installs", tt.installs)
			if tt.present != "" {
				write("encoders", tt.present)
			}
			// The system's own ffmpeg, if any, is shadowed: only what the
			// test put in place exists.
			s.add("ffmpeg", `[ -f "$STUBS/encoders" ] || { echo "ffmpeg: command not found" >&2; exit 127; }
cat "$STUBS/encoders"
`)
			s.add("apt-get", `echo "$@" >> "$STUBS/apt-get.calls"
case "$*" in *install*ffmpeg*) cp "$STUBS/installs" "$STUBS/encoders" ;; esac
`)
			out, err := s.run(InstallFFmpeg())
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v:\n%s", err, tt.wantErr, out)
			}
			apt := s.calls("apt-get")
			if got := strings.Contains(apt, "install -y --no-install-recommends ffmpeg"); got != tt.wantAptInstall {
				t.Errorf("apt-get calls %q, want an ffmpeg install: %v", apt, tt.wantAptInstall)
			}
		})
	}
}
