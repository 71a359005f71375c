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
}

// DefaultProvisioning is what zonecast provisions with.
var DefaultProvisioning = Provisioning{
	TrafficDialPercent:       TrafficDialPercent,    // accelerator.go
	EndpointWeight:           DefaultEndpointWeight, // accelerator.go
	LoadMetricNamespace:      "Zonecast/Edge",
	LoadMetricName:           "EncodeLoadPercent",
	LoadMetricDimension:      "Zone",
	ScalingTargetLoad:        45,
	MaxNodesPerZone:          10,
	InstanceWarmup:           180 * time.Second,
	RefreshMinHealthyPercent: 100,
	RefreshMaxHealthyPercent: 200,
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
