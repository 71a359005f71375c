// Package policygate decides what the program does with a setting that
// breaks zonecast's redundancy policy (policies/failover) — too few nodes,
// zones or Redis nodes, an instance without NVENC.
//
// `pulumi up` refuses such a stack outright. A preview lets it through with
// a warning, so that the policy pack (policies/pack), which judges the same
// rules in CI and in `make preview`, reports it as a mandatory violation
// naming the resource — one verdict, in one place, for every way a stack
// can be broken (settings, code, or a transform).
package policygate

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Check returns err for an update and nil (after a warning) for a preview.
func Check(ctx *pulumi.Context, err error) error {
	if err == nil {
		return nil
	}
	if !ctx.DryRun() {
		return err
	}
	_ = ctx.Log.Warn(fmt.Sprintf("%v — previewed anyway so that the policy pack can judge it; `pulumi up` refuses it", err), nil)
	return nil
}
