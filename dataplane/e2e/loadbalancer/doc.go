// Package loadbalancer is the local stand-in for what stands between a
// broadcaster and the nodes in production: a zone's Network Load Balancer
// (Balancer, its SRT TargetGroup) and the region's Global Accelerator
// endpoint group (Accelerator), with the control APIs the nodes call to
// fence a dead node or zone (ELB: AWS's Query/XML protocol; Accelerator:
// JSON 1.1), so that the real aws-sdk-go-v2 clients are what runs.
//
// What it does as AWS does:
//   - UDP flows are hashed on their 5-tuple over the healthy targets and
//     stay with their target (sticky) until it is deregistered, turns
//     unhealthy while another target is healthy, or the flow is idle for
//     UDPIdleTimeout; the client's next packet is then a new flow.
//   - Targets are health-checked with the target group's check
//     (failover.Timings.NLBHealthCheck: HTTPS GET /readyz every 5 s,
//     healthy after 2 passes, unhealthy after 2 failures, 200–399 passes,
//     certificates not verified), a first check at registration.
//   - With no healthy target the group fails open: new flows go to every
//     registered target, existing flows stay.
//   - Deregistration with connection termination and no delay (the SRT
//     group's attributes) ends the target's flows at once; with a delay
//     the target drains (no new flows) first.
//   - A dead target is silent: its ICMP errors are not passed on.
//   - The accelerator weighs endpoints; weight 0 sends no new flows there;
//     an endpoint whose NLB has no healthy target gets new flows until the
//     traffic shift has passed; with no healthy endpoint it fails open.
//     UpdateEndpointGroup's list replaces the group's endpoints.
//
// How it differs (docs/loadbalancer.md has the list):
//   - No client IP preservation: targets see the stand-in's address as the
//     source (the NLB preserves it for UDP). Nothing in SRT ingest depends
//     on it.
//   - One forwarder per zone and no cross-zone balancing; no NLB nodes per
//     zone and no DNS: the accelerator addresses a zone's stand-in
//     directly.
//   - The API calls take effect at once: AWS's control plane takes about a
//     second to act on a deregistration and seconds for a weight change
//     (the budgets failover.Fencing.Deregistration and WeightShift). The
//     traffic shift after an endpoint turns unhealthy is modelled as a
//     fixed delay (Timings.GATrafficShift), AWS's is "about 30 s".
//   - Instance ids resolve to whole addresses given to the ELB
//     (Instance), not to an EC2 instance's IP and the target's port.
//   - No authentication (SigV4 is ignored) and no IAM: the policy that
//     limits a node to its own region's groups is not exercised here.
//   - Only the three ELB actions and two accelerator operations the nodes
//     use; only UDP listeners.
package loadbalancer
