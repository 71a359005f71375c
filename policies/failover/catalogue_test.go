package failover

import (
	"math"
	"testing"
)

func TestDistanceKm(t *testing.T) {
	cases := []struct {
		name string
		a, b Location
		km   float64
	}{
		{"Dublin–Frankfurt", Location{53.35, -6.26}, Location{50.11, 8.68}, 1090},
		{"Ashburn–Singapore", Location{39.04, -77.49}, Location{1.35, 103.82}, 15550},
		{"same point", Location{1, 2}, Location{1, 2}, 0},
		{"antipodes", Location{0, 0}, Location{0, 180}, math.Pi * earthRadiusKm},
	}
	for _, c := range cases {
		if got := DistanceKm(c.a, c.b); math.Abs(got-c.km) > 0.02*c.km+1 {
			t.Errorf("%s: %.0f km, want about %.0f", c.name, got, c.km)
		}
	}
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalogue {
		if seen[r.Name] || !r.Location.Valid() || r.City == "" {
			t.Errorf("bad or repeated catalogue entry %+v", r)
		}
		seen[r.Name] = true
		if z := r.Zones(); len(z) != DefaultRedundancy.ZonesPerRegion || z[0] != r.Name+"a" {
			t.Errorf("%s zones %v", r.Name, z)
		}
	}
	for _, stack := range []string{"eu-west-1", "us-east-1", "ap-southeast-1", DevRegion} {
		if _, err := LookupRegion(stack); err != nil {
			t.Error(err)
		}
	}
	six, err := DefaultRegions(6)
	if err != nil || len(six) != 6 || six[0].Name != "eu-west-1" {
		t.Fatalf("DefaultRegions(6) = %v, %v", six, err)
	}
	if _, err := DefaultRegions(0); err == nil {
		t.Error("DefaultRegions(0) must fail")
	}
	if _, err := LookupRegion("mars-north-1"); err == nil {
		t.Error("unknown region must fail")
	}
}

func TestInstanceTypes(t *testing.T) {
	for _, it := range InstanceTypes {
		if !HasHardwareEncoder(it.Name) || it.StreamsPerNode <= 0 || it.USDPerHour <= 0 {
			t.Errorf("bad instance type %+v", it)
		}
		if EncoderFamilies[InstanceFamily(it.Name)] != it.NVENC {
			t.Errorf("%s: %d NVENC engines, EncoderFamilies says %d", it.Name, it.NVENC, EncoderFamilies[InstanceFamily(it.Name)])
		}
	}
	for _, name := range []string{"c5.xlarge", "t3.micro", "g4dn", ""} {
		if HasHardwareEncoder(name) {
			t.Errorf("%q has no video encoder", name)
		}
	}
	if DefaultProvisioning.TrafficDialPercent != TrafficDialPercent || DefaultProvisioning.EndpointWeight != DefaultEndpointWeight ||
		DefaultASG.Max != DefaultProvisioning.MaxNodesPerZone || DefaultScaling.TargetUtilisation*100 != DefaultProvisioning.ScalingTargetLoad {
		t.Error("a provisioning value is stated twice with different values")
	}
	if b := DefaultScaling.RefreshBatch(10); b != 10 {
		t.Errorf("launch-before-terminate refresh of 10 nodes: batch %d, want 10", b)
	}
	if b := (Scaling{RefreshMinHealthyPercentage: 90, RefreshMaxHealthyPercentage: 100}).RefreshBatch(30); b != 3 {
		t.Errorf("90 %% healthy refresh of 30 nodes: batch %d, want 3", b)
	}
	if err := DefaultASG.Validate(); err != nil {
		t.Error(err)
	}
	if err := DevASG.Validate(); err != nil {
		t.Error(err)
	}
	if err := (ASGSize{Min: 1, Desired: 1, Max: 3}).Validate(); err == nil {
		t.Error("a one-node minimum must be refused")
	}
	if n := DefaultScaling.NodesFor(0, 24); n != DefaultRedundancy.MinNodesPerZone {
		t.Errorf("idle zone needs the minimum, got %d", n)
	}
	if n := (Scaling{TargetUtilisation: 0.6}).NodesFor(144, 24); n != 10 {
		t.Errorf("144 streams at 60 %% of 24 need 10 nodes, got %d", n)
	}
}

func TestAcceleratorSettings(t *testing.T) {
	if TrafficDialPercent != 100 {
		t.Fatalf("traffic dial %v", TrafficDialPercent)
	}
	hc := DefaultTimings.NLBHealthCheck()
	if hc.Path != "/readyz" || hc.IntervalSeconds != 5 || hc.TimeoutSeconds >= hc.IntervalSeconds || hc.UnhealthyThreshold != 2 {
		t.Fatalf("NLB health check %+v", hc)
	}
	if got := DefaultTimings.NLBDeregistrationDelaySeconds(); got != 60 {
		t.Fatalf("deregistration delay %d", got)
	}
	tp := twoRegions([4]bool{true, true, true, true}) // zone a 8 free, zone b 5 free
	r := tp.Regions[0]
	if wa, wb := EndpointWeight(r, 0), EndpointWeight(r, 1); wa != MaxEndpointWeight || wb != MaxEndpointWeight*5/8 {
		t.Fatalf("weights %d %d", wa, wb)
	}
	r.Zones[1].Up = false
	if w := EndpointWeight(r, 1); w != 0 {
		t.Fatalf("down zone weight %d", w)
	}
	if w := EndpointWeight(r, 7); w != 0 {
		t.Fatalf("unknown zone weight %d", w)
	}
	r.Redis.Primary.Up, r.Redis.Replica.Up = false, false
	if w := EndpointWeight(r, 0); w != 0 {
		t.Fatalf("zone of a region without Redis weighs %d", w)
	}
}
