// Package sim is zonecast's failover simulator: a deterministic, seeded
// discrete-event simulation of a global deployment (regions of two zones,
// auto-scaling groups with a launch delay, one Redis pair per region, the NLB target
// health that Global Accelerator follows, the data plane's leases and hot
// standby) under a load model and a fault schedule.
//
// Every failover step is computed from policies/failover's Timings: the
// same values the data plane and the Pulumi programs use, so the simulator
// answers "what do these timings do to viewers" for a deployment far larger
// than one machine can run.
//
// Granularity (see docs/simulator.md): events are per stream start and end,
// per failover of an affected stream, per node launch and termination, per
// fault, plus one auto-scaling tick a minute and one sample every five
// minutes. Health-check probes, lease renewals, segments and viewer
// requests are not events: their effect is computed in closed form from
// the timings and a seeded random phase (where in its cycle a health check
// or a renewal was when the fault struck), and viewer load is aggregated
// per sample. The package is pure: Run returns figures; scripts/sim
// prints and plots them.
package sim
