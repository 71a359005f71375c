// Package release names what `make release VERSION=x.y.z` publishes and
// what the stacks pin: the edge binary for linux/amd64, built reproducibly
// (mk/release.mk), and its SHA-256. A node downloads exactly the pinned
// version and refuses a binary whose checksum differs, so nodes launched
// days apart run the same bytes, and a new version is a new launch
// template version that an instance refresh rolls out.
package release

import (
	"fmt"
	"regexp"
	"strings"
)

// Artifact is the file name of the edge binary in a release.
const Artifact = "edge-linux-amd64"

// DefaultURLTemplate is where the release workflow
// (.github/workflows/release.yml) publishes the binary; {version} is the
// version without its leading v.
const DefaultURLTemplate = "https://github.com/zonecast/zonecast/releases/download/v{version}/" + Artifact

// semVer is a semantic version without the leading "v" (semver.org 2.0.0,
// build metadata left out: a build is identified by its checksum).
var semVer = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Pin is the release a stack runs.
type Pin struct {
	Version string // x.y.z
	SHA256  string // lower-case hex of the binary
	// URLTemplate is where nodes download it; {version} is replaced.
	URLTemplate string
}

// Validate reports what is wrong with the pin, naming the stack settings.
func (p Pin) Validate() error {
	switch {
	case p.Version == "" || p.SHA256 == "":
		return fmt.Errorf("zonecast:edgeVersion and zonecast:edgeSha256 pin the edge release every node runs: " +
			"`make release VERSION=x.y.z` prints both (they are in dist/vx.y.z/), then `pulumi config set` them")
	case !semVer.MatchString(p.Version):
		return fmt.Errorf("zonecast:edgeVersion %q is not a version x.y.z (no leading v)", p.Version)
	case !sha256Hex.MatchString(p.SHA256):
		return fmt.Errorf("zonecast:edgeSha256 %q is not 64 lower-case hex digits (dist/v%s/%s.sha256)", p.SHA256, p.Version, Artifact)
	}
	url := p.URL()
	switch {
	case !strings.HasPrefix(url, "https://"):
		return fmt.Errorf("zonecast:edgeArtifactUrl %q must be https://", p.URLTemplate)
	case strings.ContainsAny(url, "'\"\n $`\\"):
		return fmt.Errorf("zonecast:edgeArtifactUrl %q holds characters a shell would interpret", p.URLTemplate)
	}
	return nil
}

// URL is the pinned binary's download address.
func (p Pin) URL() string {
	t := p.URLTemplate
	if t == "" {
		t = DefaultURLTemplate
	}
	return strings.ReplaceAll(t, "{version}", p.Version)
}

// ValidVersion reports whether v is a release version x.y.z.
func ValidVersion(v string) bool { return semVer.MatchString(v) }
