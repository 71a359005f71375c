package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/failover/sim"
)

func secs(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

// report prints the human tables: the scenario, every fault, every zone.
func report(w io.Writer, r *sim.Result) {
	c := r.Config
	fmt.Fprintf(w, "zonecast failover simulation: seed %d, %d regions × %d zones, %.0f h, peak %d concurrent streams (%d simulated)\n",
		c.Seed, len(c.Regions), failover.DefaultRedundancy.ZonesPerRegion, c.Duration.Hours(), r.PeakConcurrent, r.Sessions)
	fmt.Fprintf(w, "nodes: %s, %d streams each, standby load %.2f, ASG max %d per zone; timings: policies/failover.DefaultTimings\n",
		c.Instance.Name, c.Instance.StreamsPerNode, c.StandbyLoad, r.ASGMax)
	fmt.Fprintf(w, "routing: NLB + Global Accelerator%s\n\n", routingNote(*c.Routing))

	fmt.Fprintln(w, "Faults: stall = playlist stopped (filler counts as advancing); lost = media never shown (black screen); bound = policies/failover.WorstCaseVia")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fault\tat\ttarget\tstreams\tmax stall s\tmean stall s\tmax lost s\tbound stall s\tbound lost s\t")
	faults := slices.Clone(r.Faults)
	slices.SortStableFunc(faults, func(a, b sim.FaultResult) int { return int(a.Spec.At - b.Spec.At) })
	for _, f := range faults {
		fmt.Fprintf(tw, "%v\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", f.Spec.Kind, clock(f.Spec.At), f.Target, f.Affected,
			secs(f.MaxStall), secs(f.MeanStall()), secs(f.MaxLost), secs(f.Bound.Stall), secs(f.Bound.MediaLost))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nZones")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "zone\tmean util\tpeak util\tpeak nodes\tinstance-h\tcost USD\t")
	for _, z := range r.Zones {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%d\t%.1f\t%.0f\t\n", z.Name, z.MeanUtil, z.PeakUtil, z.PeakNodes, z.InstanceHours, z.CostUSD)
	}
	tw.Flush()
	so := scaleOutSeconds(r)
	fmt.Fprintf(w, "\nScale-out: %d episodes, median %.0f s, max %.0f s (launch decision to last node in service)\n",
		len(so), sim.Percentile(so, 50), sim.Percentile(so, 100))
	fmt.Fprintf(w, "Capacity waits: %d streams, longest %.1f s; streams without a standby: %.0f stream-hours\n",
		r.CapacityWaits, r.CapacityWaitMax.Seconds(), r.UnprotectedStreamHours)
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

func scaleOutSeconds(r *sim.Result) []float64 {
	out := make([]float64, len(r.ScaleOuts))
	for i, d := range r.ScaleOuts {
		out[i] = d.Seconds()
	}
	return out
}

type figure struct{ name, value string }

// byKind is the worst of each fault kind over the run.
type byKind struct {
	count             int
	maxStall, maxLost time.Duration
	boundStall, bLost time.Duration
	affected          int
	sumStall, sumLost time.Duration
}

func kinds(r *sim.Result) map[failover.Fault]*byKind {
	m := map[failover.Fault]*byKind{}
	for _, f := range r.Faults {
		k := m[f.Spec.Kind]
		if k == nil {
			k = &byKind{}
			m[f.Spec.Kind] = k
		}
		k.count++
		k.maxStall, k.maxLost = max(k.maxStall, f.MaxStall), max(k.maxLost, f.MaxLost)
		k.boundStall, k.bLost = max(k.boundStall, f.Bound.Stall), max(k.bLost, f.Bound.MediaLost)
		k.affected += f.Affected
		k.sumStall += f.SumStall
		k.sumLost += f.SumLost
	}
	return m
}

// figures are the closing `name: value` lines (the contract).
func figures(o options, r *sim.Result, wall time.Duration) []figure {
	f3 := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	meanUtil := 0.0
	peakNodes := 0
	for _, z := range r.Zones {
		meanUtil += z.MeanUtil / float64(len(r.Zones))
		peakNodes = max(peakNodes, z.PeakNodes)
	}
	so := scaleOutSeconds(r)
	out := []figure{
		{"streams", fmt.Sprint(o.streams)},
		{"regions", fmt.Sprint(len(r.Config.Regions))},
		{"region_list", regionList(r)},
		{"simulated_hours", f3(r.Config.Duration.Hours())},
		{"seed", fmt.Sprint(r.Config.Seed)},
		{"streams_simulated", fmt.Sprint(r.Sessions)},
		{"peak_concurrent_streams", fmt.Sprint(r.PeakConcurrent)},
		{"largest_simultaneous_start", fmt.Sprint(r.LargestBurst)},
		{"largest_audience", fmt.Sprint(r.LargestAudience)},
		{"events", fmt.Sprint(r.Events)},
		{"wall_seconds", f3(wall.Seconds())},
		{"events_per_second", fmt.Sprintf("%.0f", float64(r.Events)/max(wall.Seconds(), 1e-9))},
		{"fencing", onOff(r.Config.Routing.Fencing.Enabled)},
		{"slate", onOff(r.Config.Routing.Slate)},
		{"faults", fmt.Sprint(len(r.Faults))},
		{"streams_affected", fmt.Sprint(sim.Affected(r.StallSeconds))},
		{"black_screen_seconds_total", f3(sim.Sum(r.BlackSeconds))},
		{"black_screen_seconds_p99_per_stream", f3(sim.Percentile(r.BlackSeconds, 99))},
		{"black_screen_seconds_max_per_stream", f3(sim.Percentile(r.BlackSeconds, 100))},
		{"black_screen_viewer_hours", f3(r.BlackViewerHours)},
		{"stall_seconds_total", f3(sim.Sum(r.StallSeconds))},
		{"stall_seconds_p99_per_stream", f3(sim.Percentile(r.StallSeconds, 99))},
		{"stall_seconds_max_per_stream", f3(sim.Percentile(r.StallSeconds, 100))},
		{"capacity_waits", fmt.Sprint(r.CapacityWaits)},
		{"capacity_wait_max_seconds", f3(r.CapacityWaitMax.Seconds())},
		{"unprotected_stream_hours", f3(r.UnprotectedStreamHours)},
		{"instance_type", r.Config.Instance.Name},
		{"usd_per_instance_hour", f3(r.Config.USDPerHour)},
		{"instance_hours", f3(r.InstanceHours)},
		{"cost_usd", fmt.Sprintf("%.2f", r.CostUSD)},
		{"mean_zone_utilisation", f3(meanUtil)},
		{"peak_nodes_per_zone", fmt.Sprint(peakNodes)},
		{"asg_max_per_zone", fmt.Sprint(r.ASGMax)},
		{"scale_out_episodes", fmt.Sprint(len(so))},
		{"scale_out_seconds_median", f3(sim.Percentile(so, 50))},
		{"scale_out_seconds_max", f3(sim.Percentile(so, 100))},
		{"peak_viewers", fmt.Sprint(r.PeakViewers)},
		{"peak_cdn_egress_gbps", f3(r.PeakEgressGbps)},
		{"peak_origin_requests_per_second", fmt.Sprintf("%.0f", r.PeakOriginReqPS)},
	}
	ks := kinds(r)
	for _, kind := range failover.Faults {
		k := ks[kind]
		if k == nil {
			continue
		}
		n := "fault_" + snake(kind.String())
		out = append(out,
			figure{n + "_count", fmt.Sprint(k.count)},
			figure{n + "_streams", fmt.Sprint(k.affected)},
			figure{n + "_max_stall_seconds", f3(k.maxStall.Seconds())},
			figure{n + "_max_lost_seconds", f3(k.maxLost.Seconds())},
			figure{n + "_stall_seconds_total", f3(k.sumStall.Seconds())},
			figure{n + "_lost_seconds_total", f3(k.sumLost.Seconds())},
			figure{n + "_bound_stall_seconds", f3(k.boundStall.Seconds())},
			figure{n + "_bound_lost_seconds", f3(k.bLost.Seconds())},
		)
	}
	return out
}

func regionList(r *sim.Result) string {
	s := ""
	for i, reg := range r.Config.Regions {
		if i > 0 {
			s += ","
		}
		s += reg.Name
	}
	return s
}

func snake(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
