package failover

import "fmt"

// RegionInfo is one AWS region zonecast can run in.
type RegionInfo struct {
	Name     string   // AWS region code, e.g. "eu-west-1"
	City     string   // where its data centres roughly are
	Location Location // approximate coordinates of that metro area
}

// Zones returns the names of the two availability zones zonecast uses in
// the region: the region code with the suffixes "a" and "b". (Real AZ
// names are per account; provision looks the zones up and uses the first
// DefaultRedundancy.ZonesPerRegion of them, the simulator uses these.)
func (r RegionInfo) Zones() []string {
	out := make([]string, DefaultRedundancy.ZonesPerRegion)
	for i := range out {
		out[i] = r.Name + string(rune('a'+i))
	}
	return out
}

// Catalogue lists the regions zonecast knows, in the order the default
// deployments take them: first the regions of the shipped stacks
// (stacks/Pulumi.<region>.yaml: eu-west-1, us-east-1, ap-southeast-1),
// then the ones that complete a six-region world-wide default, then more.
// Coordinates are those of the metro area AWS names for the region,
// rounded to 0.01°: good enough to rank regions by distance.
var Catalogue = []RegionInfo{
	{"eu-west-1", "Dublin", Location{53.35, -6.26}},
	{"us-east-1", "Ashburn, N. Virginia", Location{39.04, -77.49}},
	{"ap-southeast-1", "Singapore", Location{1.35, 103.82}},
	{"us-west-2", "Boardman, Oregon", Location{45.84, -119.70}},
	{"eu-central-1", "Frankfurt", Location{50.11, 8.68}},
	{"ap-northeast-1", "Tokyo", Location{35.68, 139.69}},
	{"sa-east-1", "São Paulo", Location{-23.55, -46.63}},
	{"ap-south-1", "Mumbai", Location{19.08, 72.88}},
	{"ap-southeast-2", "Sydney", Location{-33.87, 151.21}},
	{"eu-west-2", "London", Location{51.51, -0.13}},
	{"us-east-2", "Columbus, Ohio", Location{39.96, -83.00}},
	{"ca-central-1", "Montréal", Location{45.50, -73.57}},
	{"eu-north-1", "Stockholm", Location{59.33, 18.07}},
	{"af-south-1", "Cape Town", Location{-33.92, 18.42}},
	{"me-central-1", "Dubai", Location{25.20, 55.27}},
}

// DevRegion is the cheap single region of the `dev` stack
// (stacks/Pulumi.dev.yaml).
const DevRegion = "us-east-2"

// LookupRegion finds a region of the catalogue by its code.
func LookupRegion(name string) (RegionInfo, error) {
	for _, r := range Catalogue {
		if r.Name == name {
			return r, nil
		}
	}
	return RegionInfo{}, fmt.Errorf("failover: region %q is not in the catalogue", name)
}

// DefaultRegions returns the first n regions of the catalogue (the
// six-region default is DefaultRegions(6)).
func DefaultRegions(n int) ([]RegionInfo, error) {
	if n < 1 || n > len(Catalogue) {
		return nil, fmt.Errorf("failover: %d regions requested, the catalogue has 1–%d", n, len(Catalogue))
	}
	return append([]RegionInfo(nil), Catalogue[:n]...), nil
}
