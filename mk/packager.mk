# Packaging: MPEG-TS demux, HLS/LL-HLS packager, segment store.
#   make test-packager   unit + real-media tests (ffmpeg/ffprobe), race detector, a brief TS-demux fuzz run
#   make bench-packager  per-stream packaging cost: ns and allocations per TS packet, against demux alone
PACKAGER_PKGS := ./dataplane/internal/packager/... ./dataplane/internal/store/... ./dataplane/internal/protocols/mpegts/...

TEST_TARGETS  += test-packager
BENCH_TARGETS += bench-packager

.PHONY: test-packager test-packager-unit test-packager-fuzz bench-packager

test-packager: test-packager-unit test-packager-fuzz

test-packager-unit:
	$(GO) vet $(PACKAGER_PKGS)
	$(GO) test -race -count=1 -timeout 10m $(PACKAGER_PKGS)

# Fuzz budget as a count: duration budgets hit golang/go#75804 (see mk/edge.mk).
# Minimisation is capped: by default it can stall a short run for a minute.
test-packager-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDemux$$' -fuzztime 60000x -fuzzminimizetime 2000x ./dataplane/internal/protocols/mpegts

bench-packager:
	@mkdir -p .cache
	$(GO) test -run '^$$' -bench 'Demux|Packager|ClassicSegment|Playlist' -benchtime 10x -count 1 ./dataplane/internal/packager | tee .cache/bench-packager.txt
	$(GO) test -run '^$$' -bench 'PartLatency|RealTimeStreams' -benchtime 1x -count 1 ./dataplane/internal/packager | tee -a .cache/bench-packager.txt
