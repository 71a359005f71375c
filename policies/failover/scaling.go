package failover

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ASGSize is an auto-scaling group's size: one group per zone.
type ASGSize struct {
	Min, Desired, Max int
}

// DefaultASG is each zone's auto-scaling group in a production region:
// never under the policy's minimum (one node may die or drain and the zone
// still ingests), at most DefaultProvisioning.MaxNodesPerZone (the 8–10
// nodes a busy zone of the seed architecture needs at peak). A deployment
// sized like the simulator's default scenario needs far more: see
// docs/simulator.md, asg_max_per_zone.
var DefaultASG = ASGSize{Min: DefaultRedundancy.MinNodesPerZone, Desired: DefaultRedundancy.MinNodesPerZone, Max: DefaultProvisioning.MaxNodesPerZone}

// DevASG is the `dev` stack's group: the policy's minimum and no more.
var DevASG = ASGSize{Min: DefaultRedundancy.MinNodesPerZone, Desired: DefaultRedundancy.MinNodesPerZone, Max: DefaultRedundancy.MinNodesPerZone}

// Validate checks the size against the policy.
func (s ASGSize) Validate() error {
	if s.Min < DefaultRedundancy.MinNodesPerZone {
		return fmt.Errorf("auto-scaling group minimum %d is under the policy's %d nodes per zone", s.Min, DefaultRedundancy.MinNodesPerZone)
	}
	if s.Desired < s.Min || s.Desired > s.Max {
		return fmt.Errorf("auto-scaling group desired %d outside min %d – max %d", s.Desired, s.Min, s.Max)
	}
	return nil
}

// Scaling is how an auto-scaling group follows load, as the simulator and
// the worst-case reasoning need it. Its values derive from
// DefaultProvisioning (the numbers provision configures), so each lives once.
type Scaling struct {
	// TargetUtilisation is the target-tracking set point on the edge's own
	// load metric, as a fraction (DefaultProvisioning.ScalingTargetLoad / 100).
	TargetUtilisation float64
	// LaunchDelay is the time from a scale-out decision to a node in
	// service: EC2 start of a GPU instance, the NVIDIA AMI's boot, the
	// edge's start and first /readyz (DefaultProvisioning.InstanceWarmup;
	// the simulator draws 85–130 % of it per launch).
	LaunchDelay time.Duration
	// HealthCheckGrace is the ASG's health-check grace period; it covers
	// the launch delay.
	HealthCheckGrace time.Duration
	// RefreshMinHealthyPercentage and RefreshMaxHealthyPercentage are the
	// instance refresh's bounds (DefaultProvisioning's): 100/200 launches
	// every replacement before draining the node it replaces.
	RefreshMinHealthyPercentage int
	RefreshMaxHealthyPercentage int
	// EvaluationPeriod is how often the scaling policy re-evaluates
	// (CloudWatch's one-minute metric period).
	EvaluationPeriod time.Duration
}

// DefaultScaling is the scaling zonecast ships with.
var DefaultScaling = Scaling{
	TargetUtilisation:           DefaultProvisioning.ScalingTargetLoad / 100,
	LaunchDelay:                 DefaultProvisioning.InstanceWarmup,
	HealthCheckGrace:            300 * time.Second,
	RefreshMinHealthyPercentage: DefaultProvisioning.RefreshMinHealthyPercent,
	RefreshMaxHealthyPercentage: DefaultProvisioning.RefreshMaxHealthyPercent,
	EvaluationPeriod:            60 * time.Second,
}

// RefreshBatch is how many of a zone's serving nodes an instance refresh
// replaces at once: what the maximum healthy percentage lets it launch on
// top when the minimum is 100 % (launch before terminate), otherwise what
// the minimum lets it take away; at least one.
func (s Scaling) RefreshBatch(serving int) int {
	if s.RefreshMinHealthyPercentage >= 100 {
		return max(1, serving*(s.RefreshMaxHealthyPercentage-100)/100)
	}
	return max(1, serving*(100-s.RefreshMinHealthyPercentage)/100)
}

// Validate checks the scaling settings against each other.
func (s Scaling) Validate() error {
	var errs []error
	if s.TargetUtilisation <= 0 || s.TargetUtilisation > 0.9 {
		errs = append(errs, fmt.Errorf("target utilisation %v outside (0, 0.9]: a zone needs headroom for bursts", s.TargetUtilisation))
	}
	if s.LaunchDelay <= 0 || s.EvaluationPeriod <= 0 {
		errs = append(errs, fmt.Errorf("launch delay %v and evaluation period %v must be positive", s.LaunchDelay, s.EvaluationPeriod))
	}
	// The simulator draws launches up to 130 % of the delay.
	if s.HealthCheckGrace < s.LaunchDelay*13/10 {
		errs = append(errs, fmt.Errorf("health-check grace %v must cover the slowest launch (130 %% of %v)", s.HealthCheckGrace, s.LaunchDelay))
	}
	if s.RefreshMinHealthyPercentage < 50 || s.RefreshMinHealthyPercentage > 100 {
		errs = append(errs, fmt.Errorf("instance refresh minimum healthy %d %% outside 50–100", s.RefreshMinHealthyPercentage))
	}
	if s.RefreshMaxHealthyPercentage < 100 || s.RefreshMaxHealthyPercentage > 200 ||
		(s.RefreshMinHealthyPercentage == 100 && s.RefreshMaxHealthyPercentage == 100) {
		errs = append(errs, fmt.Errorf("instance refresh maximum healthy %d %% outside 100–200 or leaves no room with minimum %d %%",
			s.RefreshMaxHealthyPercentage, s.RefreshMinHealthyPercentage))
	}
	return errors.Join(errs...)
}

// NodesFor is how many nodes a zone needs for load stream units at the
// target utilisation, never under the policy's minimum.
func (s Scaling) NodesFor(load, capacityPerNode int) int {
	if capacityPerNode <= 0 {
		return DefaultRedundancy.MinNodesPerZone
	}
	// The small epsilon keeps an exact fit (144 / (24 × 0.6) = 10) from
	// rounding up through float error.
	n := int(math.Ceil(float64(load)/(float64(capacityPerNode)*s.TargetUtilisation) - 1e-9))
	return max(n, DefaultRedundancy.MinNodesPerZone)
}

// InstanceType is a GPU instance with a hardware video encoder.
type InstanceType struct {
	Name  string
	GPU   string
	NVENC int // NVENC engines per GPU
	// StreamsPerNode is how many streams (decode, 1080p source
	// plus a 720/480/360 ladder at NVENC preset P3) one node runs: a ladder
	// costs about 0.75 of a 1080p30 encode, one NVENC engine does about
	// 20 (T4, A10G) to 43 (L4) 1080p30 encodes; about 10 % is kept free.
	StreamsPerNode int
	// USDPerHour is the Linux on-demand price in us-east-1 (2025 list
	// prices; the simulator takes the price as a flag).
	USDPerHour float64
}

// InstanceTypes are the instance types zonecast runs on.
var InstanceTypes = []InstanceType{
	{Name: "g4dn.xlarge", GPU: "T4", NVENC: 1, StreamsPerNode: 24, USDPerHour: 0.526},
	{Name: "g5.xlarge", GPU: "A10G", NVENC: 1, StreamsPerNode: 24, USDPerHour: 1.006},
	{Name: "g6.xlarge", GPU: "L4", NVENC: 2, StreamsPerNode: 48, USDPerHour: 0.8048},
}

// DefaultInstanceType is the cheapest that does the job.
var DefaultInstanceType = InstanceTypes[0]

// LookupInstanceType finds an instance type by name.
func LookupInstanceType(name string) (InstanceType, error) {
	for _, it := range InstanceTypes {
		if it.Name == name {
			return it, nil
		}
	}
	return InstanceType{}, fmt.Errorf("failover: unknown instance type %q", name)
}
