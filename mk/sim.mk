# The failover simulator (scripts/sim, policies/failover/sim): its default
# scenario, its speed, and its predictions beside the chaos measurements.
# test-policy runs its tests with those of the policy values it models
# (policies/failover, policies/ports); the Pulumi policy pack is
# mk/policy-pack.mk.
POLICY_PKGS := ./policies/failover/... ./policies/ports/... ./scripts/sim/...

TEST_TARGETS  += test-policy
BENCH_TARGETS += bench-sim
CHAOS_TARGETS += chaos-sim

.PHONY: test-policy bench-sim sim chaos-sim chaos-sim-keep

test-policy:
	$(GO) test -count=1 $(POLICY_PKGS)

# The contract scenario, then the engine's speed: events/s and wall seconds
# per run (Go benchmark, three runs).
bench-sim:
	$(GO) run ./scripts/sim -streams 10000 -regions 6 -hours 24 -seed 1 -plots "" -quiet | \
	  grep -E '^(streams|regions|simulated_hours|events|wall_seconds|events_per_second):'
	$(GO) test -run '^$$' -bench 'BenchmarkDefaultScenario' -benchtime 3x ./policies/failover/sim

# The default scenario with its tables, and the plots in docs/.
sim:
	$(GO) run ./scripts/sim -streams 10000 -regions 6 -hours 24 -seed 1

# After chaos-cluster (mk/cluster.mk, earlier in CHAOS_TARGETS): the
# simulator's predictions for the same faults beside the measurements; fails
# when a measurement is outside the predicted range (docs/simulator.md).
CHAOS_MEASURED ?= .cache/chaos-cluster.txt
chaos-sim:
	@test -s $(CHAOS_MEASURED) || { echo "chaos-sim: no measurements in $(CHAOS_MEASURED): run make chaos-cluster first"; exit 1; }
	$(GO) run ./scripts/sim -chaos -chaos-measured $(CHAOS_MEASURED)

# Keep the latest measurements as the simulator's reference
# (scripts/sim TestSimulatorAgreesWithChaos compares against them).
chaos-sim-keep:
	@test -s $(CHAOS_MEASURED) || { echo "chaos-sim-keep: no measurements in $(CHAOS_MEASURED)"; exit 1; }
	{ echo "# make chaos-cluster measurements, kept $$(date -u +%Y-%m-%dT%H:%MZ) at commit $$(git rev-parse --short HEAD)"; cat $(CHAOS_MEASURED); } > scripts/sim/testdata/chaos-measured.txt
	$(GO) test -count=1 -run TestSimulatorAgreesWithChaos ./scripts/sim
