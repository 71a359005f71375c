// Package failover is zonecast's failover policy as code: the redundancy
// counts, the health-check, lease and drain timings, the topology model and
// the placement rules (closest region → better zone → twin zone →
// second-closest region).
//
// It is pure: no I/O, no clocks, no randomness. The data plane, the Pulumi
// programs, the policy pack and the simulator all import these values so
// that each number lives exactly once.
package failover
