# The viewer path through a CDN: the Varnish stand-in rendered from the
# distribution the global stack declares (provision/global: Distribution,
# VCL), and the tests that run players through it against two live edges.
# See docs/cdn.md.
CDN_PKGS := ./dataplane/e2e/cdn/...

TEST_TARGETS  += test-cdn test-cdn-chaos
CHAOS_TARGETS += chaos-cdn

.PHONY: test-cdn test-cdn-chaos chaos-cdn cdn-vcl run-cdn cdn-standin

# `make run` puts the stand-in in front of the local twin zones.
cdn-standin:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/cdn-standin ./dataplane/e2e/cdn/standin
run-cluster: cdn-standin

# Collapsing per response kind, blocking reloads, playlist freshness,
# failover (5xx, frozen, refused), the origin secret: about 30 s.
test-cdn:
	$(GO) vet $(CDN_PKGS)
	$(GO) test -count=1 -timeout 5m -v $(CDN_PKGS) 2>&1 | grep -E '^(\s*--- |PASS|FAIL|ok|panic)|_test.go'; exit $${PIPESTATUS[0]}

# The viewer-visible faults of the chaos suite (dataplane/e2e/chaos,
# TestCDNFaults) at the shipped timings, with the viewers behind the
# stand-in: an LL-HLS reader and hls.js in Chromium through it, an LL-HLS
# reader straight at the nodes beside them. The table has both paths' stall
# and media lost per fault (about 3 minutes).
chaos-cdn: edge
	@mkdir -p .cache; rm -f .cache/chaos-cdn.txt
	CHAOS_OUT=$(CURDIR)/.cache/chaos-cdn.txt EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 20m -run '^TestCDNFaults$$' -v ./dataplane/e2e/chaos 2>&1 \
	  | tee .cache/chaos-cdn.log | grep -E '^(\s*--- |ok|FAIL|panic)|_test.go' ; status=$${PIPESTATUS[0]}; \
	bash scripts/cdn/chaos-table.sh .cache/chaos-cdn.txt; exit $$status

# `make test`'s subset of it: the leader's SIGKILL (its zone lost) through
# the stand-in (about 45 s).
test-cdn-chaos: edge
	@mkdir -p .cache; rm -f .cache/test-cdn-chaos.txt
	CHAOS_OUT=$(CURDIR)/.cache/test-cdn-chaos.txt EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 10m -run '^TestCDNFaults$$/^sigkill-leader$$' -v ./dataplane/e2e/chaos 2>&1 \
	  | tee .cache/test-cdn-chaos.log | grep -E '^(\s*--- |ok|FAIL|panic)|_test.go' ; status=$${PIPESTATUS[0]}; \
	bash scripts/cdn/chaos-table.sh .cache/test-cdn-chaos.txt; exit $$status

# Renders the stand-in's VCL (never written by hand) for origins at
# CDN_PRIMARY and CDN_SECONDARY; the origin secret from ZONECAST_CDN_SECRET.
CDN_PRIMARY   ?= 127.0.0.1:8080
CDN_SECONDARY ?= 127.0.0.1:8082
cdn-vcl:
	@$(GO) run ./dataplane/e2e/cdn/standin -primary $(CDN_PRIMARY) -secondary $(CDN_SECONDARY) -vcl .cache/cdn/zonecast.vcl

# The stand-in on 127.0.0.1:8090 in front of two running edges.
run-cdn: deps
	$(GO) run ./dataplane/e2e/cdn/standin -primary $(CDN_PRIMARY) -secondary $(CDN_SECONDARY) -listen 127.0.0.1:8090

# The viewer fan-out benchmark: N LL-HLS viewers (blocking reload on each
# preload hint, every part) of one 720p stream, straight at one edge, then
# through the stand-in in front of two; about 7 minutes. VIEWERS, WINDOW
# and WARMUP shorten or lengthen it; PROFILE=1 also writes a CPU profile of
# the edge at the largest N to .cache/bench-viewers/edge.pprof. The
# markdown report goes to .cache/bench-viewers.md (docs/benchmarks.md
# copies it by hand, with the date). The viewer client's own test runs in
# make test (test-viewers).
VIEWERS ?= 100,500,1000,2000
WINDOW  ?= 15s
WARMUP  ?= 4s
BENCH_TARGETS += bench-viewers
TEST_TARGETS  += test-viewers

.PHONY: bench-viewers test-viewers
bench-viewers: edge
	@mkdir -p .cache
	$(if $(PROFILE),$(GO) build -tags pprof -o $(BIN)/edge-pprof ./dataplane/cmd/edge,)
	$(GO) run ./dataplane/e2e/viewers/bench -edge $(BIN)/edge$(if $(PROFILE),-pprof,) -viewers $(VIEWERS) -window $(WINDOW) -warmup $(WARMUP) \
	  $(if $(PROFILE),-profile .cache/bench-viewers/edge.pprof,) -out .cache/bench-viewers.md

# The viewer client against a real ffmpeg-fed packager: about 10 s.
test-viewers:
	$(GO) vet ./dataplane/e2e/viewers/...
	$(GO) test -count=1 -timeout 2m ./dataplane/e2e/viewers/...
