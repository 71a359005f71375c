# Signed events: signing, the queues (Redis Stream per region, memory on a
# single edge), fenced live-state announcements, retries with back-off, a
# dead node's pending events delivered by its twin (real redis-server), and
# the twin-zone set-up under leader SIGKILL, SIGSTOP, drain and an input
# switch with a receiver checking signatures and each stream's order. The CLI over the
# control API is tested here too. About 2 minutes on a loaded machine.
EVENTS_PKGS := ./dataplane/internal/events/... ./dataplane/e2e/eventstest/... ./policies/events/... ./dataplane/cmd/zonecast/...

TEST_TARGETS += test-events

.PHONY: test-events test-events-unit test-events-faults

test-events: test-events-unit test-events-faults

test-events-unit:
	$(GO) vet $(EVENTS_PKGS)
	$(GO) test -race -count=1 -timeout 5m $(EVENTS_PKGS)

test-events-faults: edge
	EDGE_BIN=$(BIN)/edge $(GO) test -count=1 -timeout 10m -run '^TestEvents$$' -v ./dataplane/e2e/chaos 2>&1 \
	  | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; exit $${PIPESTATUS[0]}

# The operator's CLI over the control API: bin/zonecast (make run has it).
.PHONY: zonecast
run-cluster: zonecast
zonecast:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/zonecast ./dataplane/cmd/zonecast
