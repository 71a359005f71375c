# Twin zones (issue 4): Redis-coordinated leases, QUIC hot standby, drain.
CLUSTER_PKGS := ./dataplane/internal/cluster ./dataplane/internal/cluster/redistest/... ./dataplane/internal/relay ./dataplane/internal/viewerproxy

TEST_TARGETS  += test-cluster
CHAOS_TARGETS += chaos-cluster

.PHONY: test-cluster test-cluster-unit test-cluster-faults chaos-cluster run-cluster redistwin certs

redistwin:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/redistwin ./dataplane/internal/cluster/redistest/redistwin

# Mutual-TLS PEM files for the relay (CA + one node certificate): see docs/cluster.md.
certs:
	bash scripts/certs.sh .cache/certs node

test-cluster: test-cluster-unit test-cluster-faults

# Leases, fencing, Sentinel failover, Redis loss, registry, relay: real
# redis-server/redis-sentinel and ffmpeg-made TS.
test-cluster-unit:
	$(GO) vet $(CLUSTER_PKGS) ./dataplane/internal/cluster/chaos
	$(GO) test -race -count=1 -timeout 10m $(CLUSTER_PKGS)

# Real edge processes under faults (a few minutes).
test-cluster-faults: edge
	@mkdir -p .cache
	EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 20m -v ./dataplane/internal/cluster/chaos 2>&1 | tee .cache/cluster-faults.log \
	  | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|CHAOS|_test.go' ; exit $${PIPESTATUS[0]}

# Per fault: longest viewer-visible stall and media lost, in seconds.
chaos-cluster: edge
	@mkdir -p .cache; rm -f .cache/chaos-cluster.txt
	CHAOS_OUT=$(CURDIR)/.cache/chaos-cluster.txt EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 20m -run 'TestFaults' -v ./dataplane/internal/cluster/chaos 2>&1 \
	  | tee .cache/chaos-cluster.log | grep -E '^(--- |ok|FAIL|panic)' ; status=$${PIPESTATUS[0]}; \
	printf '%-30s %8s %14s %12s %14s\n' fault stall_s media_lost_s pdt_gap_s reconnect_s; \
	sed -E 's/.*fault=([^ ]+) stall_s=([^ ]+) media_lost_s=([^ ]+) pdt_gap_s=([^ ]+) longest_segment_s=[^ ]+ broadcaster_reconnect_s=([^ ]+).*/\1 \2 \3 \4 \5/' .cache/chaos-cluster.txt \
	  | while read f s l g r; do printf '%-30s %8s %14s %12s %14s\n' $$f $$s $$l $$g $$r; done; exit $$status

# The local twin-zone set-up (becomes `make run` once it works end to end).
run-cluster: deps edge redistwin
	@BIN=$(BIN) bash scripts/cluster/run.sh
