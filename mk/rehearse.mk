# The rehearsal (dataplane/e2e/rehearse): what the Pulumi program renders for
# a region's nodes, run here. Two releases are built as `make release` builds
# them (the first pinned in the rendering, the second for the rolling
# update), the region stack is rendered with that pin and the rehearsal's
# test stream, and two zones of two nodes run it in network namespaces
# (root). See docs/provision.md, "Rehearsal".
REHEARSE_STACK ?= eu-west-1
REHEARSE_V1    ?= 1.0.0-rehearsal.1
REHEARSE_V2    ?= 1.0.0-rehearsal.2
REHEARSE_DIST  := $(CURDIR)/.cache/rehearse/dist
REHEARSE_OUT   := $(CURDIR)/.cache/render/$(REHEARSE_STACK)
# The stack gives each zone its own Redis replication group, so the twin
# zones' nodes never meet in one registry (no twin-zone standby, no viewer
# proxy across zones). Until provision gives a region one registry, the
# rehearsal points both zones' endpoints at one Redis and says so;
# REHEARSE_ONE_REDIS= rehearses the stack exactly as rendered (it fails).
REHEARSE_ONE_REDIS ?= 1

TEST_TARGETS += rehearse

.PHONY: rehearse

rehearse: pulumi-cli provision-tools
	@$(MAKE) --no-print-directory -s release VERSION=$(REHEARSE_V1) DIST=$(REHEARSE_DIST) >/dev/null
	@$(MAKE) --no-print-directory -s release VERSION=$(REHEARSE_V2) DIST=$(REHEARSE_DIST) >/dev/null
	$(BIN)/zonecast-render -stack $(REHEARSE_STACK) -out $(REHEARSE_OUT) \
	  -config zonecast:edgeVersion=$(REHEARSE_V1) \
	  -config zonecast:edgeSha256=$$(cut -d' ' -f1 $(REHEARSE_DIST)/v$(REHEARSE_V1)/edge-linux-amd64.sha256) \
	  -config zonecast:streams=cam1:correct-horse-battery
	REHEARSE_RENDER=$(REHEARSE_OUT) REHEARSE_ONE_REDIS=$(REHEARSE_ONE_REDIS) \
	  REHEARSE_EDGE_1=$(REHEARSE_DIST)/v$(REHEARSE_V1)/edge-linux-amd64 \
	  REHEARSE_EDGE_2=$(REHEARSE_DIST)/v$(REHEARSE_V2)/edge-linux-amd64 REHEARSE_VERSION_2=$(REHEARSE_V2) \
	  $(GO) test -count=1 -v -timeout 10m ./dataplane/e2e/rehearse/
