package loadbalancer

import "net/netip"

// Balancer is one zone's NLB as far as SRT goes: a UDP listener whose
// flows are hashed (5-tuple) over the target group's routable targets and
// stay with their target until it is deregistered or turns unhealthy.
type Balancer struct {
	ARN   string
	Group *TargetGroup
	fw    *forwarder
}

// ListenBalancer starts an NLB listener on addr (UDP host:port, port 0 for
// any) in front of group.
func ListenBalancer(arn, addr string, group *TargetGroup) (*Balancer, error) {
	b := &Balancer{ARN: arn, Group: group}
	fw, err := listenForwarder(addr, func(client, listener netip.AddrPort) (destination, bool) {
		ds := group.routable()
		if len(ds) == 0 {
			return destination{}, false
		}
		return ds[hash5(client, listener)%uint64(len(ds))], true
	})
	if err != nil {
		return nil, err
	}
	b.fw = fw
	group.onEnd(func(id string) { fw.endFlows(func(name string) bool { return name == id }) })
	return b, nil
}

// Addr is the listener's UDP address (what the accelerator or a client
// sends to).
func (b *Balancer) Addr() string { return b.fw.Addr() }

// Healthy reports whether the balancer has a healthy target.
func (b *Balancer) Healthy() bool { return b.Group.Healthy() }

// FlowsTo counts the flows going to target id.
func (b *Balancer) FlowsTo(id string) int { return b.fw.flowsTo(id) }

// Close stops the listener (the group's health checks go on: Close the
// group too).
func (b *Balancer) Close() { b.fw.Close() }
