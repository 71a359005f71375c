package failover

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ASGSize is an auto-scaling group's size: one group per zone.
type ASGSize struct {
	Min, Desired, Max int
}

// DefaultASG is each zone's auto-scaling group in a production region:
// never under the policy's minimum (one node may die or drain and the zone
// still ingests); a maximum of 12 covers the 8–10 nodes a busy zone needs
// at peak plus headroom for a twin zone's takeover.
var DefaultASG = ASGSize{Min: DefaultRedundancy.MinNodesPerZone, Desired: DefaultRedundancy.MinNodesPerZone, Max: 12}

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

// Scaling is how an auto-scaling group follows load.
type Scaling struct {
	// TargetUtilisation is the target-tracking set point on the edge's own
	// load metric (pipelines in use / pipelines available): 60 % leaves
	// room for a burst of starts (one customer's 20 matches are 40
	// pipelines with their standbys) during the launch delay.
	TargetUtilisation float64
	// LaunchDelay is the time from a scale-out decision to a node in
	// service: EC2 start of a GPU instance, the NVIDIA AMI's boot and the
	// edge's start (an assumption: 3–4 min is typical for g4dn).
	LaunchDelay time.Duration
	// InstanceWarmup is the ASG's instance warmup for target tracking and
	// instance refresh, and HealthCheckGrace its health-check grace period;
	// both cover LaunchDelay.
	InstanceWarmup   time.Duration
	HealthCheckGrace time.Duration
	// RefreshMinHealthyPercentage is the instance refresh's floor: nodes
	// are replaced a tenth at a time.
	RefreshMinHealthyPercentage int
	// EvaluationPeriod is how often the scaling policy re-evaluates
	// (CloudWatch's one-minute metric period).
	EvaluationPeriod time.Duration
}

// DefaultScaling is the scaling zonecast ships with.
var DefaultScaling = Scaling{
	TargetUtilisation:           0.6,
	LaunchDelay:                 210 * time.Second,
	InstanceWarmup:              300 * time.Second,
	HealthCheckGrace:            300 * time.Second,
	RefreshMinHealthyPercentage: 90,
	EvaluationPeriod:            60 * time.Second,
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
	if s.InstanceWarmup < s.LaunchDelay || s.HealthCheckGrace < s.LaunchDelay {
		errs = append(errs, fmt.Errorf("instance warmup %v and health-check grace %v must cover the launch delay %v", s.InstanceWarmup, s.HealthCheckGrace, s.LaunchDelay))
	}
	if s.RefreshMinHealthyPercentage < 50 || s.RefreshMinHealthyPercentage > 100 {
		errs = append(errs, fmt.Errorf("instance refresh minimum healthy %d %% outside 50–100", s.RefreshMinHealthyPercentage))
	}
	return errors.Join(errs...)
}

// NodesFor is how many nodes a zone needs for load pipeline units at the
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
	// StreamsPerNode is how many stream pipelines (decode, 1080p source
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

// VideoEncoderFamilies are the instance families with an NVENC encoder.
var VideoEncoderFamilies = []string{"g4dn", "g5", "g6", "g6e"}

// HasVideoEncoder reports whether an instance type (e.g. "g5.2xlarge")
// belongs to a family with a hardware video encoder.
func HasVideoEncoder(instanceType string) bool {
	family, _, ok := strings.Cut(instanceType, ".")
	if !ok {
		return false
	}
	for _, f := range VideoEncoderFamilies {
		if family == f {
			return true
		}
	}
	return false
}

// LookupInstanceType finds an instance type by name.
func LookupInstanceType(name string) (InstanceType, error) {
	for _, it := range InstanceTypes {
		if it.Name == name {
			return it, nil
		}
	}
	return InstanceType{}, fmt.Errorf("failover: unknown instance type %q", name)
}
