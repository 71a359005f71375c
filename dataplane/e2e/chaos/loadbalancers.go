package chaos

import (
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/loadbalancer"
	"github.com/zonecast/zonecast/policies/failover"
)

// LoadBalancers is production's routing in front of a harness's nodes,
// stood in for locally (package loadbalancer): per zone an NLB whose SRT
// target group holds the zone's nodes (connection termination on
// deregistration, no deregistration delay, the target group's shipped
// health check), the region's accelerator over the zones' NLBs with the
// SRT listener's source-IP affinity and the timings' traffic shift, and
// the ELB and accelerator APIs on loopback for the nodes' fencing.
type LoadBalancers struct {
	ELB            *loadbalancer.ELB
	ELBURL         string
	Groups         map[string]*loadbalancer.TargetGroup // by zone
	NLBs           map[string]*loadbalancer.Balancer    // by zone
	Accelerator    *loadbalancer.Accelerator
	AcceleratorURL string
	// EndpointGroup is the accelerator endpoint group's ARN.
	EndpointGroup string
	timings       failover.Timings
}

// The stand-in's ARNs (region "local", as the harness's nodes).
func groupARN(zone string) string {
	return "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/zc-srt-" + zone + "/0"
}

func nlbARN(zone string) string {
	return "arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/net/zc-" + zone + "/0"
}

const endpointGroupARN = "arn:aws:globalaccelerator::000000000000:accelerator/zc/listener/srt/endpoint-group/local"

// StartLoadBalancers starts the stand-in for zones at the timings t, with
// no targets yet (Register adds the nodes once they run).
func StartLoadBalancers(tb testing.TB, t failover.Timings, zones ...string) *LoadBalancers {
	tb.Helper()
	lb := &LoadBalancers{ELB: loadbalancer.NewELB(), Groups: map[string]*loadbalancer.TargetGroup{},
		NLBs: map[string]*loadbalancer.Balancer{}, EndpointGroup: endpointGroupARN, timings: t}
	var endpoints []loadbalancer.Endpoint
	for _, z := range zones {
		g := loadbalancer.NewTargetGroup(groupARN(z), t.NLBHealthCheck())
		g.DeregistrationDelay, g.TerminateOnDeregistration = 0, true // the SRT group's attributes
		tb.Cleanup(g.Close)
		lb.ELB.AddGroup(g)
		b, err := loadbalancer.ListenBalancer(nlbARN(z), "127.0.0.1:0", g)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(b.Close)
		lb.Groups[z], lb.NLBs[z] = g, b
		endpoints = append(endpoints, loadbalancer.Endpoint{Balancer: b, Weight: failover.MaxEndpointWeight})
	}
	acc, err := loadbalancer.ListenAccelerator(endpointGroupARN, "local", "127.0.0.1:0", failover.SRTClientAffinity,
		t.GATrafficShift, t.GAHealthCheck(), endpoints...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(acc.Close)
	lb.Accelerator = acc
	elbSrv := httptest.NewServer(lb.ELB)
	tb.Cleanup(elbSrv.Close)
	accSrv := httptest.NewServer(acc)
	tb.Cleanup(accSrv.Close)
	lb.ELBURL, lb.AcceleratorURL = elbSrv.URL, accSrv.URL
	return lb
}

// FencingEnv is the fencing configuration of a node of zone, pointed at
// the stand-in (dummy credentials: the stand-in ignores signatures).
func (lb *LoadBalancers) FencingEnv(zone string) []string {
	return []string{
		"ZONECAST_FENCING_ENABLED=true",
		"ZONECAST_FENCING_TARGET_GROUPS=" + groupARN(zone),
		"ZONECAST_FENCING_ENDPOINT=" + nlbARN(zone),
		"ZONECAST_FENCING_ENDPOINT_GROUP=" + endpointGroupARN,
		"ZONECAST_FENCING_ELB_URL=" + lb.ELBURL,
		"ZONECAST_FENCING_ACCELERATOR_URL=" + lb.AcceleratorURL,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Register makes the nodes the stand-in's instances (the node id is the
// instance id, as node.id is in production) and registers each in its
// zone's target group, as the auto-scaling group does; health checks ask
// the node's /readyz over plain HTTP (the local nodes run without TLS;
// path, interval and thresholds are the shipped check's).
func (lb *LoadBalancers) Register(nodes ...*Node) {
	for _, n := range nodes {
		inst := loadbalancer.Instance{ID: n.ID, Traffic: n.SRT, Health: "http://" + n.HTTP + lb.timings.NLBHealthCheckPath}
		lb.ELB.AddInstance(inst)
		_, p, _ := net.SplitHostPort(n.SRT)
		port, _ := strconv.Atoi(p)
		lb.Groups[n.Zone].Register(inst, int32(port))
	}
}

// WaitHealthy waits until every registered node is healthy.
func (lb *LoadBalancers) WaitHealthy(nodes ...*Node) error {
	within := time.Duration(lb.timings.NLBHealthyThreshold+2) * lb.timings.NLBHealthCheckInterval
	for _, n := range nodes {
		if err := lb.Groups[n.Zone].WaitState(n.ID, loadbalancer.StateHealthy, within); err != nil {
			return err
		}
	}
	return nil
}

// SourceIn is a loopback source address whose flows the accelerator sends
// to zone (source-IP affinity): a broadcaster bound to it lands there.
func (lb *LoadBalancers) SourceIn(zone string) (string, error) {
	for i := 2; i < 255; i++ {
		a := netip.AddrFrom4([4]byte{127, 0, 0, byte(i)})
		if lb.Accelerator.EndpointFor(a) == nlbARN(zone) {
			return a.String(), nil
		}
	}
	return "", fmt.Errorf("no loopback address hashes to zone %s", zone)
}

// StandInRouting is the stand-in's routing for the simulator's prediction:
// production's (NLB health checks, the accelerator's traffic shift, a
// dead target silent, the reconnection forwarded to the standby), which
// the stand-in reproduces at the same timings, with the nodes' fast
// fencing or without. The prediction is the slate-less one: the rows
// measure when the broadcast's own media resumes.
func StandInRouting(t failover.Timings, fencing bool) failover.Routing {
	r := t.AWSRouting()
	r.Name, r.Slate = "stand-in", false
	if !fencing {
		r = r.WithoutFencing()
	}
	return r
}
