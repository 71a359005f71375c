# The edge release: `make release VERSION=x.y.z` builds edge for linux/amd64
# reproducibly and writes, under $(DIST)/vX.Y.Z/:
#   edge-linux-amd64             the binary (`edge -version` prints X.Y.Z)
#   edge-linux-amd64.sha256      its SHA-256 (sha256sum format)
#   zonecast-edge-component.yaml the EC2 Image Builder component baking it and ffmpeg (provision/ami)
#   BUILD                        how it was built (toolchain, flags)
# and prints the two stack settings that pin it. Reproducible: the same
# source and RELEASE_GO give the same bytes anywhere (no paths, no VCS
# stamp, no build id, no cgo), so anyone can check a published checksum.
# .github/workflows/release.yml runs it on a tag; provision/release's test
# runs it twice and compares (make test).
VERSION    ?=
DIST       ?= dist
RELEASE_GO ?= go1.26.8
RELEASE_DIR = $(DIST)/v$(VERSION)
RELEASE_LDFLAGS = -s -w -buildid= -X main.version=$(VERSION)

.PHONY: release

release:
	@[[ "$(VERSION)" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$$ ]] || \
	  { echo "make release VERSION=x.y.z (a semantic version without the leading v; got '$(VERSION)')" >&2; exit 2; }
	@mkdir -p $(RELEASE_DIR)
	GOTOOLCHAIN=$(RELEASE_GO) CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOFLAGS=-mod=readonly \
	  $(GO) build -trimpath -buildvcs=false -ldflags '$(RELEASE_LDFLAGS)' -o $(RELEASE_DIR)/edge-linux-amd64 ./dataplane/cmd/edge
	@cd $(RELEASE_DIR) && sha256sum edge-linux-amd64 > edge-linux-amd64.sha256
	@$(GO) run ./provision/cmd/zonecast-ami -version $(VERSION) -sha256 $$(cut -d' ' -f1 $(RELEASE_DIR)/edge-linux-amd64.sha256) \
	  > $(RELEASE_DIR)/zonecast-edge-component.yaml
	@printf 'version %s\ntoolchain %s\ntarget linux/amd64 CGO_ENABLED=0\nflags -trimpath -buildvcs=false -ldflags %s\n' \
	  '$(VERSION)' '$(RELEASE_GO)' "'$(RELEASE_LDFLAGS)'" > $(RELEASE_DIR)/BUILD
	@echo "release $(VERSION) in $(RELEASE_DIR); pin it in each regional stack:"
	@echo "  pulumi config set zonecast:edgeVersion $(VERSION)"
	@echo "  pulumi config set zonecast:edgeSha256 $$(cut -d' ' -f1 $(RELEASE_DIR)/edge-linux-amd64.sha256)"
