# The Pulumi CLI, built from the Go module proxy in its own tools module
# (tools/pulumi) so that github.com/pulumi/pulumi/pkg/v3 never enters the main
# go.mod. The build takes 5–12 minutes cold on two cores; the binary is kept in
# $(BIN) and rebuilt only when missing or older than the tools module.
# It reports an empty version: Automation API callers set SkipVersionCheck.
.PHONY: pulumi-cli
pulumi-cli: $(BIN)/pulumi

$(BIN)/pulumi: tools/pulumi/go.mod tools/pulumi/go.sum tools/pulumi/tools.go
	@mkdir -p $(BIN)
	@echo "building the Pulumi CLI (v3.259.0) into $@: 5–12 minutes on a cold cache" >&2
	@cd tools/pulumi && $(GO) build -o $@ github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	@touch $@
