# The rehearsal (dataplane/e2e/rehearse): what the Pulumi program renders for
# a region's nodes, run here. Two releases are built as `make release` builds
# them (the first pinned in the rendering, the second for the rolling
# update), the region stack is rendered with that pin, and two zones of two
# nodes run it in network namespaces (root), the stream created through a
# node's control API. See docs/provision.md, "Rehearsal".
REHEARSE_STACK ?= eu-west-1
REHEARSE_V1    ?= 1.0.0-rehearsal.1
REHEARSE_V2    ?= 1.0.0-rehearsal.2
REHEARSE_DIST  := $(CURDIR)/.cache/rehearse/dist
REHEARSE_OUT   := $(CURDIR)/.cache/render/$(REHEARSE_STACK)

TEST_TARGETS += rehearse

.PHONY: rehearse

rehearse: pulumi-cli provision-tools versitygw
	@$(MAKE) --no-print-directory -s release VERSION=$(REHEARSE_V1) DIST=$(REHEARSE_DIST) >/dev/null
	@$(MAKE) --no-print-directory -s release VERSION=$(REHEARSE_V2) DIST=$(REHEARSE_DIST) >/dev/null
	$(BIN)/zonecast-render -stack $(REHEARSE_STACK) -out $(REHEARSE_OUT) \
	  -config zonecast:edgeVersion=$(REHEARSE_V1) \
	  -config zonecast:edgeSha256=$$(cut -d' ' -f1 $(REHEARSE_DIST)/v$(REHEARSE_V1)/edge-linux-amd64.sha256)
	REHEARSE_RENDER=$(REHEARSE_OUT) \
	  REHEARSE_EDGE_1=$(REHEARSE_DIST)/v$(REHEARSE_V1)/edge-linux-amd64 \
	  REHEARSE_EDGE_2=$(REHEARSE_DIST)/v$(REHEARSE_V2)/edge-linux-amd64 REHEARSE_VERSION_2=$(REHEARSE_V2) \
	  $(GO) test -count=1 -v -timeout 10m ./dataplane/e2e/rehearse/
