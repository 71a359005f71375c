# Hardware-first transcoding: encoder probe, ffmpeg supervisor,
# aligned ladder, capacity. See docs/transcoding.md.
TRANSCODE_PKGS := ./dataplane/internal/transcode/... ./dataplane/e2e/transcode/bench

TEST_TARGETS  += test-transcode
BENCH_TARGETS += bench-transcode

.PHONY: test-transcode test-transcode-unit test-transcode-fuzz test-transcode-e2e bench-transcode encoders

# Probe with fake ffmpeg on PATH, the supervisor and ladder with the real
# ffmpeg over pipes (ffprobe on every rendition), SIGKILL/SIGSTOP restarts,
# capacity; then the scanner fuzz target; then the edge end to end (SRT
# publisher, ffprobe against the multivariant playlist, hls.js switching,
# SIGKILL/SIGSTOP through the daemon). About 3–4 minutes.
test-transcode: test-transcode-unit test-transcode-fuzz test-transcode-e2e

test-transcode-unit:
	$(GO) vet $(TRANSCODE_PKGS) ./dataplane/internal/core/
	$(GO) test -race -count=1 -timeout 10m $(TRANSCODE_PKGS)

# Fuzz budget as a count: duration budgets hit golang/go#75804 (see mk/edge.mk).
test-transcode-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzTSScanner$$' -fuzztime 200000x ./dataplane/internal/transcode

# Built with -tags e2e_transcode: the test lives beside the edge's e2e
# tests to reuse their daemon/browser helpers, without slowing their run.
test-transcode-e2e: edge
	@mkdir -p .cache
	@set -o pipefail; EDGE_BIN=$(BIN)/edge $(GO) test -tags e2e_transcode -count=1 -timeout 10m -run 'TestTranscode' -v ./dataplane/e2e/edge/ 2>&1 \
	  | tee .cache/transcode-e2e.log | grep -vE '^\s+time=|^=== (RUN|NAME|PAUSE|CONT)'

# zonecast's ladder against the same ladder by a plain ffmpeg command line,
# real-time factor and CPU, and how many default ladders this machine
# carries. Report in .cache/bench-transcode.md (copied into
# docs/transcoding.md by hand, with the date).
bench-transcode:
	@mkdir -p .cache
	$(GO) run ./dataplane/e2e/transcode/bench -out .cache/bench-transcode.md

# What `edge -encoders` prints on this machine.
encoders: edge
	$(BIN)/edge -encoders
