package failover

import (
	"time"

	"github.com/zonecast/zonecast/policies/ports"
)

// TrafficDialPercent is the traffic dial of every region's endpoint group
// on every accelerator listener. Always 100: failover between regions is
// left to Global Accelerator's proximity rule (a group with no healthy
// endpoint sends to the nearest other group), which needs no dial change
// and no DNS change. Lowering a dial is an operator's manual tool (for
// example to empty a region before maintenance), never policy.
const TrafficDialPercent = 100.0

// DefaultEndpointWeight is the weight of each zone's load balancer in its
// region's endpoint group: both zones equal (128 is also Global
// Accelerator's own default), so new ingests split evenly between twin
// zones and a zone with no healthy target gets none.
const DefaultEndpointWeight = 128

// MaxEndpointWeight is the largest weight Global Accelerator accepts.
const MaxEndpointWeight = 255

// EndpointWeight is the weight zone z of region r should carry when
// weights follow free capacity (an operator or controller may apply it;
// provision ships DefaultEndpointWeight): 0 for a zone that does not
// accept or whose region's Redis is down (its nodes' /readyz fails then),
// otherwise proportional to its free capacity, at least 1.
func EndpointWeight(r Region, z int) int {
	if z < 0 || z >= len(r.Zones) || !r.Redis.Available() || !r.Zones[z].Accepting() {
		return 0
	}
	maxFree := 0
	for _, o := range r.Zones {
		maxFree = max(maxFree, o.Free())
	}
	w := MaxEndpointWeight * r.Zones[z].Free() / maxFree
	return max(1, w)
}

// Client affinity of the accelerator listeners. SRT uses SOURCE_IP so that
// a broadcaster's reconnection (a new source port) lands on the same zone's
// load balancer as before while that zone is healthy; HTTP needs none.
const (
	SRTClientAffinity  = "SOURCE_IP"
	HTTPClientAffinity = "NONE"
)

// HealthCheck is a load-balancer or accelerator health check in the units
// AWS takes.
type HealthCheck struct {
	Protocol           string // "HTTPS", "HTTP" or "TCP"
	Port               int
	Path               string
	IntervalSeconds    int
	TimeoutSeconds     int
	HealthyThreshold   int
	UnhealthyThreshold int
}

// NLBHealthCheck is the health check of every NLB target group (SRT over
// UDP and HTTP/3 over UDP are checked over HTTPS on the delivery port,
// since NLB cannot check UDP). Global Accelerator judges NLB endpoints by
// exactly this target health. The timeout is one second under the
// interval so that a slow answer counts as a failure before the next check.
func (t Timings) NLBHealthCheck() HealthCheck {
	iv := int(t.NLBHealthCheckInterval / time.Second)
	return HealthCheck{
		Protocol:           "HTTPS",
		Port:               ports.HTTPS.Number,
		Path:               t.NLBHealthCheckPath,
		IntervalSeconds:    iv,
		TimeoutSeconds:     max(2, iv-1),
		HealthyThreshold:   t.NLBHealthyThreshold,
		UnhealthyThreshold: t.NLBUnhealthyThreshold,
	}
}

// NLBDeregistrationDelaySeconds is the target groups' deregistration delay:
// as long as a drain may take, so that a draining node's established flows
// are not cut before it has handed them over.
func (t Timings) NLBDeregistrationDelaySeconds() int {
	return int(t.DrainDeadline / time.Second)
}

// GAHealthCheck is the endpoint-group health check. Global Accelerator
// applies it only to EC2 and Elastic IP endpoints (NLB endpoints are judged
// by the NLB's target health), but provision sets it so that the group is
// consistent if an EC2 endpoint is ever added.
func (t Timings) GAHealthCheck() HealthCheck {
	return HealthCheck{
		Protocol:           "HTTPS",
		Port:               ports.HTTPS.Number,
		Path:               t.NLBHealthCheckPath,
		IntervalSeconds:    int(t.GAHealthCheckInterval / time.Second),
		HealthyThreshold:   t.GAThreshold,
		UnhealthyThreshold: t.GAThreshold,
	}
}
