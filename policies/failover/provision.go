package failover

import (
	"strings"
	"time"
)

// Provisioning holds the values only the infrastructure (provision/ and the
// policy pack) needs: how the accelerator splits traffic, what the
// auto-scaling groups track and which instances can encode in hardware.
type Provisioning struct {
	// TrafficDialPercent is each region's endpoint-group traffic dial (0–100).
	// Every region takes its full share: proximity decides, and a region
	// drained on purpose is dialled down by hand, not by default.
	TrafficDialPercent float64
	// EndpointWeight is each zone's load-balancer weight in its endpoint
	// group (0–255). Both twin zones weigh the same: either can lead.
	EndpointWeight int

	// LoadMetric is the metric the edge publishes to CloudWatch and the
	// auto-scaling groups track (target tracking on a customized metric).
	LoadMetricNamespace string
	LoadMetricName      string
	// LoadMetricDimension names the dimension holding "<region>/<zone>" so
	// that each zone scales on its own nodes only.
	LoadMetricDimension string
	// ScalingTargetLoad is the average load (percent of a node's encode
	// capacity) target tracking aims at. Below 50 % so that the twin zone
	// can absorb a failed zone's streams before it scales out.
	ScalingTargetLoad float64
	// MaxNodesPerZone is the default ceiling of a zone's auto-scaling group
	// (8–10 servers per zone at peak in the architecture this generalises).
	MaxNodesPerZone int
	// InstanceWarmup is how long a new node takes before its load counts
	// (boot, driver, edge start, first /readyz).
	InstanceWarmup time.Duration
	// RefreshMinHealthyPercent and RefreshMaxHealthyPercent make an instance
	// refresh launch a replacement before terminating a node, so a rolling
	// update never lowers a zone's capacity.
	RefreshMinHealthyPercent int
	RefreshMaxHealthyPercent int
	// RefreshCheckpoints pause an instance refresh after that share of the
	// zone was replaced, for RefreshCheckpointDelay, so that a bad release
	// shows itself (the rollback alarm, the operator's eyes) on part of the
	// fleet before the rest is replaced.
	RefreshCheckpoints     []int
	RefreshCheckpointDelay time.Duration
	// RollbackAlarmPeriods of RollbackAlarmPeriod with an unhealthy target
	// in a zone's target group fail a running instance refresh.
	RollbackAlarmPeriods int
	RollbackAlarmPeriod  time.Duration

	// FleetInstanceTypes are the NVENC instance types a zone may launch, in
	// order of preference after the stack's own type: when AWS has no
	// capacity of one GPU type in the zone, the group launches the next
	// rather than stalling. L4 first (two NVENC engines), then A10G, then
	// T4. Never an H100-class type (p5): it has no NVENC at all.
	FleetInstanceTypes []string

	// GroupHealthCheck is the auto-scaling groups' health check type:
	// "EC2", not "ELB". /readyz (the load balancer's check) is readiness:
	// it fails while a node drains or cannot reach Redis, so that no new
	// ingest is sent there. With "ELB" the group would also replace every
	// node the load balancer finds unhealthy: a Redis outage (the region's
	// one, shared by both zones) longer than RedisUnreadyAfter plus two
	// checks would replace both zones' fleets at once, cutting every running stream, for a fault a
	// replacement cannot fix. The group replaces nodes whose instance
	// fails (EC2 status checks); systemd restarts an edge that exits; a
	// release whose nodes never become ready is stopped by the capacity
	// wait (MinElbCapacity counts load-balancer health whatever the type)
	// and by the instance refresh's unhealthy alarm.
	GroupHealthCheck string

	// BootGracePeriod is how long the auto-scaling group ignores a new
	// node's load-balancer health: the GPU AMI's boot, ffmpeg's install
	// when the AMI does not carry it, the edge's download and first
	// /readyz. Longer than InstanceWarmup, which only paces scaling.
	BootGracePeriod time.Duration
	// CapacityWaitTimeout is how long `pulumi up` waits for a new zone's
	// nodes to be healthy behind its load balancer before it fails.
	CapacityWaitTimeout time.Duration

	// DrainPollInterval is how often a node's drain watcher reads its
	// target lifecycle state; DrainStopMargin is what systemd grants the
	// edge beyond the drain deadline to exit.
	DrainPollInterval time.Duration
	DrainStopMargin   time.Duration

	// AbortIncompleteUploadsDays is when the recording bucket drops a
	// multipart upload a node never finished (it died mid-segment): a
	// segment's upload takes seconds, a day is far beyond any retry.
	AbortIncompleteUploadsDays int
}

// DeregistrationDelay is how long the zone's target groups keep a
// deregistered node's flows before closing them. The auto-scaling group
// deregisters a terminating node first and runs the termination hook only
// after this delay, while the node's drain watcher has already seen the
// Terminated target state and SIGTERMed the edge: the flows must outlive
// the watcher's poll, the edge's drain and its exit, so that every led
// stream is handed over before the load balancer cuts a broadcaster.
func (p Provisioning) DeregistrationDelay(t Timings) time.Duration {
	return p.DrainPollInterval + t.DrainDeadline + p.DrainStopMargin
}

// FleetTypes is the instance types of a zone whose stack asks for
// primary: primary first, then the policy's other types.
func (p Provisioning) FleetTypes(primary string) []string {
	out := []string{primary}
	for _, t := range p.FleetInstanceTypes {
		if t != primary {
			out = append(out, t)
		}
	}
	return out
}

// DefaultProvisioning is what zonecast provisions with.
var DefaultProvisioning = Provisioning{
	TrafficDialPercent:         TrafficDialPercent,    // accelerator.go
	EndpointWeight:             DefaultEndpointWeight, // accelerator.go
	LoadMetricNamespace:        "Zonecast/Edge",
	LoadMetricName:             "EncodeLoadPercent",
	LoadMetricDimension:        "Zone",
	ScalingTargetLoad:          45,
	MaxNodesPerZone:            10,
	InstanceWarmup:             180 * time.Second,
	RefreshMinHealthyPercent:   100,
	RefreshMaxHealthyPercent:   200,
	RefreshCheckpoints:         []int{50, 100},
	RefreshCheckpointDelay:     5 * time.Minute,
	RollbackAlarmPeriods:       3,
	RollbackAlarmPeriod:        time.Minute,
	FleetInstanceTypes:         []string{"g6.xlarge", "g5.xlarge", "g4dn.xlarge"},
	GroupHealthCheck:           "EC2",
	BootGracePeriod:            10 * time.Minute,
	CapacityWaitTimeout:        20 * time.Minute,
	DrainPollInterval:          5 * time.Second,
	DrainStopMargin:            10 * time.Second,
	AbortIncompleteUploadsDays: 1,
}

// EncoderFamilies maps the EC2 instance families with an NVIDIA hardware
// video encoder (NVENC) to the number of NVENC engines per GPU.
var EncoderFamilies = map[string]int{
	"g4dn": 1, // T4
	"g5":   1, // A10G
	"g6":   2, // L4
	"g6e":  3, // L40S
}

// InstanceFamily returns the family of an EC2 instance type ("g6" for
// "g6.xlarge").
func InstanceFamily(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	return family
}

// HasHardwareEncoder reports whether instanceType has NVENC.
func HasHardwareEncoder(instanceType string) bool {
	_, ok := EncoderFamilies[InstanceFamily(instanceType)]
	return ok && strings.Contains(instanceType, ".")
}
