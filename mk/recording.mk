# Recording to S3: the recorder (spool, uploads, VOD close, index) against a
# real S3-API server, Versity's versitygw, built from the Go module proxy in
# its own tools module (tools/versitygw) like the Pulumi CLI and staticcheck.
#   make versitygw        build bin/versitygw (about 6 minutes cold on two cores)
#   make test-recording   the recorder's tests and the S3 harness's (race detector),
#                         then the node's recording end to end (dataplane/e2e/recording:
#                         twin zones with Redis, a leader SIGKILLed, S3 away, hls.js,
#                         ffprobe; recording switched off mid-event)
#                         (with the rewind playlist in Chromium: needs `make deps`)
#   make bench-recording  cost and lag figures of recording (see dataplane/internal/recording/bench_test.go)
RECORDING_PKGS := ./dataplane/internal/recording/... ./dataplane/e2e/s3server/... ./policies/rewind/...

TEST_TARGETS  += test-recording
BENCH_TARGETS += bench-recording

.PHONY: versitygw test-recording bench-recording

versitygw: $(BIN)/versitygw

$(BIN)/versitygw: tools/versitygw/go.mod tools/versitygw/go.sum tools/versitygw/tools.go
	@mkdir -p $(BIN)
	@echo "building versitygw (v1.8.0) into $@: about 6 minutes on a cold cache" >&2
	@cd tools/versitygw && $(GO) build -o $@ github.com/versity/versitygw/cmd/versitygw
	@touch $@

test-recording: versitygw edge
	$(GO) vet $(RECORDING_PKGS) ./dataplane/e2e/recording/
	VERSITYGW_BIN=$(BIN)/versitygw $(GO) test -race -count=1 -timeout 15m $(RECORDING_PKGS)
	@mkdir -p .cache
	@set -o pipefail; EDGE_BIN=$(BIN)/edge VERSITYGW_BIN=$(BIN)/versitygw $(GO) test -count=1 -timeout 15m -v ./dataplane/e2e/recording/ 2>&1 \
		| tee .cache/recording-e2e.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|_test.go:'

# Figures only: printed, and kept in .cache/bench-recording.txt.
# The recorder alone (cost, lag, the spool's drain after an outage), then the
# real edge with the same streams passthrough and recorded.
bench-recording: versitygw edge
	@mkdir -p .cache
	@set -o pipefail; { VERSITYGW_BIN=$(BIN)/versitygw $(GO) test -run '^$$' -bench 'Recording' -benchtime 1x -count 1 -timeout 30m ./dataplane/internal/recording; \
	  EDGE_BIN=$(BIN)/edge VERSITYGW_BIN=$(BIN)/versitygw $(GO) test -run '^$$' -bench 'RecordingNode' -benchtime 1x -count 1 -timeout 30m ./dataplane/e2e/recording; } \
	  | tee .cache/bench-recording.txt
