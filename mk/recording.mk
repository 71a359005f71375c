# Recording to S3: the recorder (spool, uploads, VOD close, index) against a
# real S3-API server, Versity's versitygw, built from the Go module proxy in
# its own tools module (tools/versitygw) like the Pulumi CLI and staticcheck.
#   make versitygw        build bin/versitygw (about 6 minutes cold on two cores)
#   make test-recording   the recorder's tests and the S3 harness's, race detector
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

test-recording: versitygw
	$(GO) vet $(RECORDING_PKGS)
	VERSITYGW_BIN=$(BIN)/versitygw $(GO) test -race -count=1 -timeout 15m $(RECORDING_PKGS)

# Figures only: printed, and kept in .cache/bench-recording.txt.
bench-recording: versitygw
	@mkdir -p .cache
	VERSITYGW_BIN=$(BIN)/versitygw $(GO) test -run '^$$' -bench 'Recording' -benchtime 1x -count 1 -timeout 30m ./dataplane/internal/recording | tee .cache/bench-recording.txt
