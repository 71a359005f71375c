// Command zonecast-ami prints the EC2 Image Builder component that bakes
// an edge node's image for one release (provision/ami):
//
//	zonecast-ami -version 1.2.3 -sha256 <hex> [-url-template URL] > component.yaml
//
// `make release` runs it and writes the component next to the binary.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/zonecast/zonecast/provision/ami"
	"github.com/zonecast/zonecast/provision/release"
)

func main() {
	var pin release.Pin
	flag.StringVar(&pin.Version, "version", "", "edge release x.y.z")
	flag.StringVar(&pin.SHA256, "sha256", "", "SHA-256 of the release's "+release.Artifact)
	flag.StringVar(&pin.URLTemplate, "url-template", "", "download URL, {version} replaced (default "+release.DefaultURLTemplate+")")
	flag.Parse()
	doc, err := ami.Component(pin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "zonecast-ami: %v\n", err)
		os.Exit(2)
	}
	fmt.Print(doc)
}
