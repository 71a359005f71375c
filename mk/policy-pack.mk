# zonecast policy pack (policies/pack): a Go analyzer plugin for the Pulumi CLI.
#   make policy            builds bin/pulumi-analyzer-policy-zonecast (found by the CLI on PATH for the pack
#                          directory policies/pack, runtime: zonecast) and bin/zonecast-policy-pack (the same
#                          binary, for `--policy-pack bin/zonecast-policy-pack`)
#   make policy-install    also installs it into the Pulumi plugin cache ($PULUMI_HOME or ~/.pulumi)
#   make test-policy-pack  rules, gRPC, plugin-process and end-to-end tests (pulumi policy analyze, pulumi preview)
#   make bench-policy-pack whole-stack check time
POLICY_PLUGIN  := $(BIN)/pulumi-analyzer-policy-zonecast
POLICY_EXEC    := $(BIN)/zonecast-policy-pack
POLICY_VERSION := $(shell sed -n 's/^version: *//p' policies/pack/PulumiPolicy.yaml)

TEST_TARGETS  += test-policy-pack
BENCH_TARGETS += bench-policy-pack

.PHONY: policy policy-install test-policy-pack bench-policy-pack

policy:
	@mkdir -p $(BIN)
	$(GO) build -o $(POLICY_PLUGIN) ./policies/pack/cmd/pulumi-analyzer-policy-zonecast
	@cp -f $(POLICY_PLUGIN) $(POLICY_EXEC)

policy-install: policy
	@dir="$${PULUMI_HOME:-$$HOME/.pulumi}/plugins/analyzer-policy-zonecast-v$(POLICY_VERSION)"; \
	mkdir -p "$$dir" && cp -f $(POLICY_PLUGIN) "$$dir/" && echo "installed into $$dir"

# The end-to-end tests need bin/pulumi (make pulumi-cli) and, for the
# preview, provision's stand-in provider and harness (make provision-tools).
test-policy-pack: policy pulumi-cli provision-tools
	$(GO) vet ./policies/pack/...
	$(GO) test -count=1 -timeout 15m ./policies/pack/...

bench-policy-pack:
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 200x ./policies/pack/rules/
