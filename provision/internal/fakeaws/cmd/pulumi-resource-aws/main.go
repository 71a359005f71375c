// Command pulumi-resource-aws is the stand-in AWS provider for tests and
// offline previews (see provision/internal/fakeaws). The engine starts it
// with its own address as the only argument; it prints its port and serves
// the ResourceProvider protocol.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/zonecast/zonecast/provision/internal/fakeaws"
)

func main() {
	err := provider.Main("aws", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return plugin.NewProviderServer(fakeaws.New()), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-resource-aws (zonecast stand-in):", err)
		os.Exit(1)
	}
}
