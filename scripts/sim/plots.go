package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/failover/sim"
)

// writePlots writes the run's SVG charts into dir and returns their paths.
func writePlots(dir string, r *sim.Result) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	charts := map[string]string{
		"sim-utilisation.svg": utilisationChart(r),
		"sim-blackscreen.svg": blackScreenChart(r),
		"sim-load.svg":        loadChart(r),
	}
	var out []string
	for _, name := range []string{"sim-utilisation.svg", "sim-blackscreen.svg", "sim-load.svg"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(charts[name]), 0o644); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// bigFaults are drawn as markers (node losses would clutter the chart).
func bigFaults(r *sim.Result) []marker {
	var ms []marker
	for _, f := range r.Faults {
		if f.Spec.Kind == failover.NodeLoss {
			continue
		}
		ms = append(ms, marker{x: f.Spec.At.Hours(), label: fmt.Sprintf("%v %s", f.Spec.Kind, f.Target)})
	}
	return ms
}

func utilisationChart(r *sim.Result) string {
	var ss []series
	for zi, z := range r.Zones {
		s := series{name: z.Name, color: palette[(zi/2)%len(palette)], dash: zi%2 == 1}
		for _, smp := range r.Samples {
			s.x = append(s.x, smp.At.Hours())
			s.y = append(s.y, smp.ZoneUtil[zi])
		}
		ss = append(ss, s)
	}
	title := fmt.Sprintf("Zone utilisation (in-service capacity), %d peak streams, seed %d", r.Config.Streams, r.Config.Seed)
	return lineChart(title, "simulated hour (UTC)", "utilisation", r.Config.Duration.Hours(), 1.0, ss, bigFaults(r))
}

func loadChart(r *sim.Result) string {
	live := series{name: "live streams", color: palette[0]}
	down := series{name: "streams in a stall ×10", color: palette[3]}
	nodes := series{name: "nodes ×10 (all zones)", color: palette[2], dash: true}
	for _, smp := range r.Samples {
		h := smp.At.Hours()
		total := 0
		for _, n := range smp.ZoneNodes {
			total += n
		}
		live.x, live.y = append(live.x, h), append(live.y, float64(smp.Live))
		down.x, down.y = append(down.x, h), append(down.y, float64(smp.Down*10))
		nodes.x, nodes.y = append(nodes.x, h), append(nodes.y, float64(total*10))
	}
	title := fmt.Sprintf("Load and fleet, seed %d (samples every %v)", r.Config.Seed, r.Config.SampleEvery)
	return lineChart(title, "simulated hour (UTC)", "count", r.Config.Duration.Hours(), 0, []series{live, nodes, down}, bigFaults(r))
}

func blackScreenChart(r *sim.Result) string {
	ks := kinds(r)
	var gs []barGroup
	for _, kind := range failover.Faults {
		k := ks[kind]
		if k == nil {
			continue
		}
		mean := 0.0
		if k.affected > 0 {
			mean = k.sumStall.Seconds() / float64(k.affected)
		}
		gs = append(gs, barGroup{
			label:  strings.ReplaceAll(kind.String(), "-", " "),
			values: []float64{k.maxStall.Seconds(), mean, k.maxLost.Seconds()},
			bound:  k.boundStall.Seconds(),
		})
	}
	title := fmt.Sprintf("Per affected stream, by fault: stall and black screen (seed %d)", r.Config.Seed)
	return barChart(title, "seconds", []string{"max stall", "mean stall", "max black screen"},
		[]string{palette[0], "#9ecae1", palette[7]}, gs, "policy worst-case stall")
}
