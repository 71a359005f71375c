# Twin zones: Redis-coordinated leases, QUIC hot standby, drain; the
# end-to-end fault suite (dataplane/e2e/chaos) and the local set-up.
CLUSTER_PKGS := ./dataplane/internal/cluster ./dataplane/internal/awsfence ./dataplane/e2e/redistest/... ./dataplane/internal/relay ./dataplane/internal/viewerproxy

TEST_TARGETS  += test-cluster
CHAOS_TARGETS += chaos-cluster

.PHONY: test-cluster test-cluster-unit test-cluster-faults chaos-cluster run-cluster redistwin certs

redistwin:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/redistwin ./dataplane/e2e/redistest/redistwin

# Mutual-TLS PEM files for the relay (CA + one node certificate): see docs/cluster.md.
certs:
	bash scripts/certs.sh .cache/certs node

test-cluster: test-cluster-unit test-cluster-faults

# Leases, fencing (and fast fencing's AWS calls against httptest stand-ins of
# the wire APIs), Sentinel failover, Redis loss, registry, relay, the
# takeover grid over timing sets: real redis-server/redis-sentinel and
# ffmpeg-made TS, under the race detector. The takeover grid then runs
# alone and without it: it measures stalls against the timings that ship,
# and the detector's several-fold slow-down on two cores shared with other
# test binaries is not what ships (it broke the grid's bounds on old and
# new code alike). Its runs mostly wait: -parallel lets them overlap.
test-cluster-unit:
	$(GO) vet $(CLUSTER_PKGS) ./dataplane/e2e/chaos
	$(GO) test -race -count=1 -timeout 10m -parallel 64 -skip '^TestTakeoverGrid$$' $(CLUSTER_PKGS)
	$(GO) test -count=1 -timeout 10m -parallel 64 -run '^TestTakeoverGrid$$' ./dataplane/internal/cluster

# Real edge processes under faults: the basic ones at the shipped timings,
# every other fault at the local timings, two faults at a time (each has a
# set-up of its own and uses about a quarter of a core; about 5 minutes).
# `make chaos` runs every fault at both timings, one at a time. The faults
# through the CDN are test-cdn-chaos's (mk/cdn.mk), the events' through the
# faults test-events's (mk/events.mk).
test-cluster-faults: edge
	@mkdir -p .cache; rm -f .cache/cluster-faults.txt
	CHAOS_SHIPPED=basic CHAOS_LOCAL=unshipped CHAOS_OUT=$(CURDIR)/.cache/cluster-faults.txt EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 30m -parallel 2 -skip '^(TestCDNFaults|TestEvents|TestRoutingFaults)$$' -v ./dataplane/e2e/chaos 2>&1 | tee .cache/cluster-faults.log \
	  | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|CHAOS|_test.go' ; status=$${PIPESTATUS[0]}; \
	bash scripts/cluster/chaos-table.sh .cache/cluster-faults.txt; exit $$status

# Per timing profile and fault: longest viewer-visible stall and media
# lost, in seconds (every fault at the local and at the shipped timings).
chaos-cluster: edge
	@mkdir -p .cache; rm -f .cache/chaos-cluster.txt
	CHAOS_OUT=$(CURDIR)/.cache/chaos-cluster.txt EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 45m -parallel 1 -run 'TestFaults' -v ./dataplane/e2e/chaos 2>&1 \
	  | tee .cache/chaos-cluster.log | grep -E '^(--- |ok|FAIL|panic)' ; status=$${PIPESTATUS[0]}; \
	bash scripts/cluster/chaos-table.sh .cache/chaos-cluster.txt; exit $$status

# The local twin-zone set-up (`make run`).
run-cluster: deps edge redistwin versitygw
	@BIN=$(BIN) bash scripts/cluster/run.sh
