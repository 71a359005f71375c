// Package nodesetup holds the install steps an edge node needs, once, for
// both places that run them: the AMI recipe (provision/ami), which bakes
// them into an image so that a scale-out at peak downloads nothing, and the
// boot script (provision/zone), which runs them again and finds them done
// on a baked image, or does them on a plain GPU image.
package nodesetup

import (
	"bytes"
	"fmt"
	"text/template"

	"github.com/zonecast/zonecast/provision/release"
)

// EdgeBinary is where the edge is installed.
const EdgeBinary = "/usr/local/bin/edge"

// InstallEdge is bash that leaves the pinned release at binary: kept when
// the file there already has the pinned checksum (a baked image),
// otherwise downloaded and checked before it replaces anything. It fails
// when the checksum differs or the binary does not report the pinned
// version. binary is EdgeBinary outside tests.
func InstallEdge(pin release.Pin, binary string) (string, error) {
	if err := pin.Validate(); err != nil {
		return "", err
	}
	return render(edgeScript, map[string]string{
		"Version": pin.Version, "SHA256": pin.SHA256, "URL": pin.URL(), "Binary": binary,
	})
}

// InstallFFmpeg is bash that makes sure ffmpeg with the NVENC H.264
// encoder is on PATH: kept when present, otherwise installed from the
// distribution (Ubuntu's and Debian's ffmpeg carry NVENC; it opens only
// where the NVIDIA driver is, which the GPU image provides).
func InstallFFmpeg() string { return ffmpegScript }

func render(t *template.Template, data any) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("nodesetup: %w", err)
	}
	return b.String(), nil
}

var edgeScript = template.Must(template.New("edge").Parse(`# The edge, release {{.Version}}: kept if the image carries exactly it,
# otherwise downloaded and checked against the pinned SHA-256.
if ! echo '{{.SHA256}}  {{.Binary}}' | sha256sum --check --status - 2>/dev/null; then
  curl -fsSL --retry 10 --retry-connrefused -o '{{.Binary}}.new' '{{.URL}}'
  echo '{{.SHA256}}  {{.Binary}}.new' | sha256sum --check --quiet -
  chmod 0755 '{{.Binary}}.new'
  mv '{{.Binary}}.new' '{{.Binary}}'
fi
edge_version=$('{{.Binary}}' -version)
if [ "$edge_version" != '{{.Version}}' ]; then
  echo "edge reports version $edge_version, the stack pins {{.Version}}" >&2
  exit 1
fi
`))

// The encoder list is read whole before it is searched: grep -q would stop
// reading early, and under pipefail ffmpeg's SIGPIPE would read as "absent".
const ffmpegScript = `# ffmpeg with NVENC for the transcoder: kept if present, else installed.
ffmpeg_has_nvenc() {
  local encoders
  encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null) || return 1
  case "$encoders" in *h264_nvenc*) return 0 ;; *) return 1 ;; esac
}
if ! ffmpeg_has_nvenc; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ffmpeg
  if ! ffmpeg_has_nvenc; then
    echo "the installed ffmpeg has no h264_nvenc encoder" >&2
    exit 1
  fi
fi
`
