# provision/: Pulumi programs (global + regional stacks), the stand-in AWS
# provider for offline previews, and the preview harness. See docs/provision.md.
PROVISION_PKGS := ./provision/...
STACK ?= global
# The policy pack joins every preview once it exists (policies/pack).
POLICY_PACK ?= $(if $(wildcard policies/pack/PulumiPolicy.yaml),policies/pack,)

TEST_TARGETS  += test-provision
BENCH_TARGETS += bench-provision

.PHONY: provision-tools preview render test-provision bench-provision

# bin/pulumi-resource-aws (stand-in provider) and bin/zonecast-preview.
# Quiet, so that `make preview`'s standard output is only the resource lines.
# (`make`/build builds these two; the CLI, minutes cold, only when a preview
# or the tests need it.)
provision-tools:
	@$(GO) build -o $(BIN)/pulumi-resource-aws ./provision/internal/fakeaws/cmd/pulumi-resource-aws
	@$(GO) build -o $(BIN)/zonecast-preview ./provision/cmd/zonecast-preview
	@$(GO) build -o $(BIN)/zonecast-render ./provision/cmd/zonecast-render

build: provision-tools

# make preview STACK=<global|eu-west-1|us-east-1|ap-southeast-1|dev> [POLICY_PACK=path] [PREVIEW_FLAGS="-config k=v -v"]
preview: pulumi-cli provision-tools
	@$(if $(POLICY_PACK),$(MAKE) --no-print-directory -s policy >&2,true)
	@$(BIN)/zonecast-preview -stack $(STACK) $(if $(POLICY_PACK),-policy-pack $(POLICY_PACK),) $(PREVIEW_FLAGS)

# make render STACK=<region stack> [RENDER_FLAGS="-config zonecast:edgeVersion=1.2.3 ..."]
# writes what the program renders for each zone's nodes (user-data.sh,
# edge.env, every SSM parameter the boot script reads) to
# .cache/render/<stack>/<zone>/, through the engine and the stand-in
# provider, secrets at test values (provision/cmd/zonecast-render).
render: pulumi-cli provision-tools
	@$(BIN)/zonecast-render -stack $(STACK) -out $(CURDIR)/.cache/render/$(STACK) $(RENDER_FLAGS)

test-provision: pulumi-cli provision-tools $(if $(POLICY_PACK),policy,)
	$(GO) vet $(PROVISION_PKGS)
	$(GO) test -count=1 -timeout 20m $(PROVISION_PKGS)

bench-provision: pulumi-cli provision-tools
	$(GO) test -count=1 -timeout 60m -run '^$$' -bench . -benchtime 1x ./provision/preview/
