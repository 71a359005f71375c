# The load balancer stand-in (dataplane/e2e/loadbalancer): an NLB and a
# Global Accelerator endpoint group as far as SRT goes, with the ELB and
# accelerator APIs the nodes' fencing calls, proved with aws-sdk-go-v2's
# clients. See docs/loadbalancer.md. The tests mostly wait for the shipped
# health check (5 s interval): -parallel lets them overlap (about 25 s).
LB_PKGS := ./dataplane/e2e/loadbalancer/...

TEST_TARGETS += test-loadbalancer

.PHONY: test-loadbalancer

test-loadbalancer:
	$(GO) vet $(LB_PKGS)
	$(GO) test -count=1 -timeout 3m -parallel 16 $(LB_PKGS)

# The chaos suite's production-routing rows (dataplane/e2e/chaos,
# TestRoutingFaults): node SIGKILL, leader freeze and zone loss with the
# broadcaster (srt-live-transmit, libsrt's defaults) behind the stand-in,
# at the shipped timings, without and with fast fencing; stall and media
# lost per row next to the simulator's worst case (about 8 minutes).
# CHAOS_FENCING=no|yes runs one variant.
CHAOS_TARGETS += chaos-routing

.PHONY: chaos-routing

chaos-routing: edge
	@mkdir -p .cache; rm -f .cache/chaos-routing.txt
	CHAOS_OUT=$(CURDIR)/.cache/chaos-routing.txt EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 30m -run '^TestRoutingFaults$$' -v ./dataplane/e2e/chaos 2>&1 \
	  | tee .cache/chaos-routing.log | grep -E '^(\s*--- |ok|FAIL|panic)|_test.go' ; status=$${PIPESTATUS[0]}; \
	bash scripts/cluster/chaos-table.sh .cache/chaos-routing.txt; exit $$status

# How fast SRT callers (srt-live-transmit, ffmpeg) get media to a node
# again after their listener dies or freezes and the load balancer moves
# their flow, per setting (dataplane/e2e/encoders; docs/encoders.md has
# the figures): about 4 minutes.
BENCH_TARGETS += bench-encoders

.PHONY: bench-encoders

bench-encoders:
	@mkdir -p .cache; rm -f .cache/encoders.txt
	ENCODERS_OUT=$(CURDIR)/.cache/encoders.txt $(GO) test -count=1 -timeout 20m -run '^$$' -bench 'EncoderReconnect' -benchtime 1x ./dataplane/e2e/encoders \
	  | grep -E '^(Benchmark|ok|FAIL|panic)|_test.go' ; status=$${PIPESTATUS[0]}; \
	printf '\n%-18s %-34s %-7s %10s %13s\n' caller settings fault noticed_s media_back_s; \
	sed -E 's/^ENCODER caller=([^ ]+) settings=([^ ]+) fault=([^ ]+) noticed_s=([^ ]+) media_back_s=([^ ]+)$$/\1 \2 \3 \4 \5/' .cache/encoders.txt \
	  | while read -r c s f n m; do printf '%-18s %-34s %-7s %10s %13s\n' "$$c" "$$s" "$$f" "$$n" "$$m"; done; exit $$status
