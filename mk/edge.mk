# The single-node edge: build, run, tests and benchmarks. config/... (the
# whole node's configuration, transcode keys included) is tested here only.
EDGE_PKGS := ./dataplane/cmd/edge/... ./dataplane/internal/config/... ./dataplane/internal/ingest/... \
             ./dataplane/internal/stream/... ./dataplane/internal/origin/... ./dataplane/internal/metrics/... \
             ./dataplane/internal/core/... ./dataplane/e2e/edge/bench

TEST_TARGETS  += test-edge
BENCH_TARGETS += bench-edge

.PHONY: edge run run-edge test-edge test-edge-unit test-edge-e2e test-edge-fuzz bench-edge

edge:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/edge ./dataplane/cmd/edge

# `make run` is the twin-zone set-up (mk/cluster.mk); the single edge stays
# available as `make run-edge`.
run: run-cluster

run-edge: deps edge
	@BIN=$(BIN) bash scripts/edge/run.sh

test-edge: test-edge-unit test-edge-fuzz test-edge-e2e

test-edge-unit:
	$(GO) vet $(EDGE_PKGS)
	$(GO) test -race -count=1 $(EDGE_PKGS)

# Each fuzz target runs briefly; `go test -fuzz` takes one target at a time.
# Budgets are counts (Nx), not durations: with a duration, Go 1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" when the
# deadline races a busy worker (golang/go#75804, fixed in Go 1.27).
test-edge-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseStreamID$$' -fuzztime 200000x ./dataplane/internal/ingest/srt

# -v output goes to .cache/edge-e2e.log; the terminal gets results and failures.
test-edge-e2e: edge
	@mkdir -p .cache
	@set -o pipefail; EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 15m -v ./dataplane/e2e/edge/ 2>&1 \
	  | tee .cache/edge-e2e.log | grep -vE '^\s+time=|^=== (RUN|NAME|PAUSE|CONT)'

# Latency (75 s run) and passthrough cost with 1/8/32/64 publishers; about
# 5 minutes. The markdown report goes to .cache/bench-edge.md (copied into
# docs/benchmarks.md by hand, with the date).
bench-edge: edge
	$(GO) run ./dataplane/e2e/edge/bench -edge $(BIN)/edge -out .cache/bench-edge.md
