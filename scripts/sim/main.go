// Command sim runs zonecast's failover simulator (policies/failover/sim):
//
//	go run ./scripts/sim -streams 10000 -regions 6 -hours 24 -seed 1
//
// It prints a table per fault and per zone, writes SVG plots into docs/
// (-plots "" to skip) and ends with one `name: value` line per figure.
// The same flags and seed give the same figures (wall_seconds and
// events_per_second aside). See docs/simulator.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(2)
	}
}

// options are the command's flags.
type options struct {
	streams        int
	regions        int
	hours          float64
	seed           uint64
	plots          string
	stacks         string
	instance       string
	price          float64
	standbyLoad    float64
	redundantShare float64
	asgMax         int
	noFaults       bool
	quiet          bool
	chaos          bool
	chaosRuns      int
	chaosMeasured  string
	faults         string
	streamsCSV     string
	timings        timingOverrides
	noForward      bool
	noFencing      bool
	slate          bool
	worstCase      bool
	outage         time.Duration
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.streams, "streams", 10000, "peak concurrent streams, world-wide")
	fs.IntVar(&o.regions, "regions", 6, "regions (the stacks' regions first, then policies/failover.Catalogue)")
	fs.Float64Var(&o.hours, "hours", 24, "simulated hours")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed: the same seed gives the same figures")
	fs.StringVar(&o.plots, "plots", "docs", "directory for the SVG plots (empty: none)")
	fs.StringVar(&o.stacks, "stacks", "stacks", "directory of Pulumi.<stack>.yaml files whose aws:region come first (empty or missing: catalogue order)")
	fs.StringVar(&o.instance, "instance", "g4dn.xlarge", "instance type (policies/failover.InstanceTypes)")
	fs.Float64Var(&o.price, "price", 0, "USD per instance-hour (0: the type's on-demand price)")
	fs.Float64Var(&o.standbyLoad, "standby-load", 1, "a hot standby's cost relative to its leader (1: full pipeline)")
	fs.Float64Var(&o.redundantShare, "redundant-share", 0.1, "share of streams with a backup encoder feeding the twin zone")
	fs.IntVar(&o.asgMax, "asg-max", 0, "maximum nodes per zone (0: sized for the load)")
	fs.BoolVar(&o.noFaults, "no-faults", false, "run without the fault schedule")
	fs.StringVar(&o.faults, "faults", "", "replace the default schedule: none, or kind@at[/duration][@region-or-zone],... (e.g. zone-loss@16h/30m@eu-west-1a)")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the figures")
	fs.Var(&o.timings, "timing", "what-if: set a failover.Timings field, e.g. -timing LeaseTTL=4s (repeatable; checked by Validate)")
	fs.BoolVar(&o.noForward, "no-forward", false, "what-if: a node that receives a reconnected ingest does not forward it to the stream's standby, and viewers do not reach the standby's copy, until the lease moves (zonecast before the forward and the viewer proxy)")
	fs.BoolVar(&o.noFencing, "no-fencing", false, "what-if: zonecast before fast fencing and the slate: only the NLB's health checks and the accelerator's traffic shift move a broadcaster off a dead node or zone, and a stall freezes the players")
	fs.BoolVar(&o.slate, "slate", false, "what-if: the slate on (it ships off, policies/failover.SlateShips): a surviving node keeps the playlists advancing with filler")
	fs.StringVar(&o.streamsCSV, "streams-csv", "", "write each stream's stall and black screen to this CSV file")
	fs.BoolVar(&o.chaos, "chaos", false, "predict the local chaos set-up's figures instead (see docs/simulator.md)")
	fs.BoolVar(&o.worstCase, "worst-case", false, "print the policy's worst-case failover tables (markdown) and exit")
	fs.DurationVar(&o.outage, "outage", 10*time.Second, "with -worst-case: how long a freeze, partition or Redis outage lasts")
	fs.IntVar(&o.chaosRuns, "chaos-runs", 500, "runs per chaos fault")
	fs.StringVar(&o.chaosMeasured, "chaos-measured", "", "file with the CHAOS lines of make chaos to compare against (CHAOS_OUT or docs/cluster.md)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.chaos {
		return runChaos(o, stdout)
	}
	if o.worstCase {
		return printWorstCase(stdout, o.outage, o.timings, o.routing)
	}
	c, notes, err := scenario(o)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "sim:", n)
	}
	start := time.Now()
	r, err := runSim(c)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	if !o.quiet {
		report(stdout, r)
	}
	if o.streamsCSV != "" {
		if err := writeStreamsCSV(o.streamsCSV, r); err != nil {
			return err
		}
	}
	if o.plots != "" {
		written, err := writePlots(o.plots, r)
		if err != nil {
			return err
		}
		if !o.quiet {
			for _, p := range written {
				fmt.Fprintf(stdout, "wrote %s\n", p)
			}
		}
	}
	fmt.Fprintln(stdout)
	for _, f := range figures(o, r, wall) {
		fmt.Fprintf(stdout, "%s: %s\n", f.name, f.value)
	}
	return nil
}

// routing is the production routing the flags describe: AWSRouting (fast
// fencing, and the slate as shipped) with the what-ifs applied.
func (o options) routing(t failover.Timings) failover.Routing {
	r := t.AWSRouting()
	if o.noForward {
		r.ReconnectReachesStandby = false
	}
	if o.noFencing {
		r = r.WithoutFencing()
	}
	if o.slate {
		r.Slate = true
	}
	return r
}

// onOff names a switch in the figures.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
