package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/failover/sim"
)

// parseFaults reads -faults: "none", or a comma-separated list of
// kind@at[/duration][@target], for example
//
//	zone-loss@16h/30m@eu-west-1a,region-loss@20h/45m@us-east-1,node-loss@3h15m
//
// at and duration are Go durations from the start of the day; target is a
// region ("us-east-1": its busier zone) or a zone ("eu-west-1a") of the
// scenario; without one, the first region's busier zone.
func parseFaults(s string, regions []failover.RegionInfo) ([]sim.FaultSpec, error) {
	if s == "none" {
		return []sim.FaultSpec{}, nil
	}
	var out []sim.FaultSpec
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), "@")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("-faults %q: want kind@at[/duration][@target]", item)
		}
		kind, err := failover.ParseFault(parts[0])
		if err != nil {
			return nil, err
		}
		atStr, durStr, _ := strings.Cut(parts[1], "/")
		at, err := time.ParseDuration(atStr)
		if err != nil {
			return nil, fmt.Errorf("-faults %q: %w", item, err)
		}
		f := sim.FaultSpec{Kind: kind, At: at, Zone: -1, Duration: 10 * time.Minute}
		if durStr != "" {
			if f.Duration, err = time.ParseDuration(durStr); err != nil {
				return nil, fmt.Errorf("-faults %q: %w", item, err)
			}
		}
		if len(parts) == 3 {
			found := false
			for ri, r := range regions {
				if parts[2] == r.Name {
					f.Region, found = ri, true
				}
				for zi, z := range r.Zones() {
					if parts[2] == z {
						f.Region, f.Zone, found = ri, zi, true
					}
				}
			}
			if !found {
				return nil, fmt.Errorf("-faults %q: %q is no region or zone of this scenario", item, parts[2])
			}
		}
		out = append(out, f)
	}
	return out, nil
}
