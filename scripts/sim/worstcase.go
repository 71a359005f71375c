package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// printWorstCase writes failover.WorstCaseVia as markdown tables: the
// production timings behind AWS's load balancers (with the routing the
// flags describe), and the local set-up's.
func printWorstCase(w io.Writer, outage time.Duration, overrides timingOverrides, routing func(failover.Timings) failover.Routing) error {
	prod, err := applyTimings(failover.DefaultTimings, overrides)
	if err != nil {
		return err
	}
	local, err := applyTimings(failover.LocalTimings, overrides)
	if err != nil {
		return err
	}
	for _, env := range []struct {
		title string
		t     failover.Timings
		r     failover.Routing
	}{
		{"DefaultTimings behind NLB + Global Accelerator" + routingNote(routing(prod)), prod, routing(prod)},
		{"LocalTimings, direct routing (make chaos)", local, failover.DirectRouting},
	} {
		fmt.Fprintf(w, "\n%s%s (timed faults last %v):\n\n", env.title, overridesNote(overrides), outage)
		if err := env.t.Validate(); err != nil {
			fmt.Fprintf(w, "Validate: %v\n\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		fmt.Fprintln(w, "| fault | detected after s | worst stall s | worst media lost s | stall with backup encoder s | without standby s |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, b := range failover.WorstCaseVia(env.t, outage, env.r) {
			fmt.Fprintf(w, "| %v | %.1f | %.1f | %.1f | %.1f | %.1f |\n", b.Fault, b.Detection.Seconds(), b.Stall.Seconds(),
				b.MediaLost.Seconds(), b.RedundantStall.Seconds(), b.Unprotected.Seconds())
		}
	}
	return nil
}

// routingNote says which of fast fencing and the slate a production table
// assumes.
func routingNote(r failover.Routing) string {
	switch {
	case r.Fencing.Enabled && r.Slate:
		return ", fast fencing and the slate"
	case r.Fencing.Enabled:
		return ", fast fencing (the slate ships off: -slate for what it would give)"
	case r.Slate:
		return ", the slate without fast fencing"
	}
	return ", health checks only (-no-fencing)"
}
