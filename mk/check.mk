# The checks that run first in `make test`: formatting, go vet and
# staticcheck over the whole module (the transcode end-to-end suite's build
# tag included). staticcheck is built from the Go module proxy in its own
# tools module (tools/staticcheck), like the Pulumi CLI.
.PHONY: check staticcheck

staticcheck: $(BIN)/staticcheck

$(BIN)/staticcheck: tools/staticcheck/go.mod tools/staticcheck/go.sum tools/staticcheck/tools.go
	@mkdir -p $(BIN)
	@cd tools/staticcheck && $(GO) build -o $@ honnef.co/go/tools/cmd/staticcheck
	@touch $@

check: staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e_transcode ./dataplane/e2e/edge
	$(BIN)/staticcheck ./...
	$(BIN)/staticcheck -tags e2e_transcode ./dataplane/e2e/edge
