// Command provision is zonecast's Pulumi program (Pulumi.yaml: main:
// provision/): `pulumi up` on the `global` stack creates the accelerator and
// the CDN, on a region stack (stacks/Pulumi.<region>.yaml) that region. The
// program itself is provision/program.Run, shared with the preview harness.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/program"
)

func main() { pulumi.Run(program.Run) }
