package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/failover/sim"
)

var runSim = sim.Run

// scenario builds the simulated deployment from the flags: the regions of
// the shipped stacks first (all but `global` and `dev`), then the
// catalogue's order.
func scenario(o options) (sim.Config, []string, error) {
	c, err := sim.DefaultConfig(o.streams, 1, o.hours, o.seed)
	if err != nil {
		return c, nil, err
	}
	regions, notes, err := pickRegions(o.regions, o.stacks)
	if err != nil {
		return c, notes, err
	}
	c.Regions = regions
	it, err := failover.LookupInstanceType(o.instance)
	if err != nil {
		return c, notes, err
	}
	c.Instance, c.USDPerHour = it, it.USDPerHour
	if o.price > 0 {
		c.USDPerHour = o.price
	}
	if c.Timings, err = applyTimings(c.Timings, o.timings); err != nil {
		return c, notes, err
	}
	r := o.routing(c.Timings)
	c.Routing = &r
	c.StandbyLoad, c.RedundantShare, c.ASGMax, c.NoFaults = o.standbyLoad, o.redundantShare, o.asgMax, o.noFaults
	if o.faults != "" {
		if c.Faults, err = parseFaults(o.faults, c.Regions); err != nil {
			return c, notes, err
		}
	}
	return c, notes, c.Validate()
}

func pickRegions(n int, stacksDir string) ([]failover.RegionInfo, []string, error) {
	if n < 1 || n > len(failover.Catalogue) {
		return nil, nil, fmt.Errorf("-regions %d: choose 1–%d", n, len(failover.Catalogue))
	}
	var notes []string
	var names []string
	if stacksDir != "" {
		files, _ := filepath.Glob(filepath.Join(stacksDir, "Pulumi.*.yaml"))
		slices.Sort(files)
		for _, f := range files {
			stack := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
			if stack == "global" || stack == "dev" {
				continue
			}
			region, err := stackRegion(f)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%s: %v (ignored)", f, err))
				continue
			}
			if _, err := failover.LookupRegion(region); err != nil {
				notes = append(notes, fmt.Sprintf("%s: %v (ignored)", f, err))
				continue
			}
			if region != "" && !slices.Contains(names, region) {
				names = append(names, region)
			}
		}
	}
	// Stack regions in catalogue order (so a renamed stack file does not
	// reshuffle the scenario), then the rest of the catalogue.
	slices.SortStableFunc(names, func(a, b string) int { return catalogueIndex(a) - catalogueIndex(b) })
	for _, r := range failover.Catalogue {
		if !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	var out []failover.RegionInfo
	for _, name := range names[:n] {
		r, _ := failover.LookupRegion(name)
		out = append(out, r)
	}
	return out, notes, nil
}

// stackRegion reads aws:region from a Pulumi stack file.
func stackRegion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var f struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		return "", err
	}
	v, ok := f.Config["aws:region"].(string)
	if !ok {
		return "", fmt.Errorf("no aws:region")
	}
	return v, nil
}

func catalogueIndex(name string) int {
	for i, r := range failover.Catalogue {
		if r.Name == name {
			return i
		}
	}
	return len(failover.Catalogue)
}
