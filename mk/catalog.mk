# The stream catalog: the Stream record, its DynamoDB store, the handshake
# resolver and its policy, the control API's handler, all against the local
# DynamoDB-API server (dynalite, installed by scripts/deps.sh); then the edge
# binary on it with real ffmpeg publishers (dataplane/e2e/catalog). The
# config sections are tested with the config package (mk/edge.mk).
CATALOG_PKGS := ./dataplane/internal/catalog/... ./dataplane/internal/api/... ./dataplane/e2e/dynalite/... ./policies/catalog/...
# A stream's settings applied by the node: its ladder (capacity by cost, the
# change at a segment boundary, renditions retired), its latency mode
# (classic only), with real ffmpeg.
# The record's settings as they take effect (TestCapacityByLadderCost,
# TestClassicOnly, TestRetain, TestAtNextCut, TestStreamLadder,
# TestCatalogWiring) are tested in their own packages' targets, under the
# race detector: test-transcode, test-packager and test-edge (core).

TEST_TARGETS  += test-catalog
BENCH_TARGETS += bench-catalog

.PHONY: test-catalog test-catalog-unit test-catalog-e2e bench-catalog

test-catalog: test-catalog-unit test-catalog-e2e

# CRUD, conflicts, validation, create_table, freshness across two
# resolvers, the store going away, the flood guard, the API's statuses,
# the settings a node applies (ladder cost and change, classic only):
# about 40 s.
test-catalog-unit:
	$(GO) vet $(CATALOG_PKGS) ./dataplane/e2e/catalog/...
	$(GO) test -race -count=1 -timeout 5m $(CATALOG_PKGS)

# The edge binary on dynalite: created through one node and published on
# another, rotation, deletion cutting the publisher and ending the
# playlists, the catalog killed (known streams publish and fail over,
# unknown ones refused with a reason), an unknown-name flood, a PATCH of
# a live stream's ladder (new renditions from a boundary, the old one
# retired, hls.js in Chromium going on from it: needs `make deps`; on a
# leader and its standby alike) and a
# "standard" stream serving classic HLS only: about a minute and a half. -v output goes to .cache/catalog-e2e.log.
test-catalog-e2e: edge
	@mkdir -p .cache
	@set -o pipefail; EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 10m -v ./dataplane/e2e/catalog/ 2>&1 \
	  | tee .cache/catalog-e2e.log | grep -vE '^\s+time=|^=== (RUN|NAME|PAUSE|CONT)'

# Creations/s into a table of BENCH_CATALOG_STREAMS streams, then the
# handshake lookup p50/p99: static list, resolver from memory, resolver miss;
# creations/s through the control API; the catalog reads/s of a node with
# 500 live streams (its rechecks, simulated on its resolver).
# 100,000 streams take a few minutes to create. Report in
# .cache/bench-catalog.md.
BENCH_CATALOG_STREAMS ?= 100000
bench-catalog:
	@mkdir -p .cache
	$(GO) run ./dataplane/e2e/catalog/bench -streams $(BENCH_CATALOG_STREAMS) -out .cache/bench-catalog.md
