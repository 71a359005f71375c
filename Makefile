# zonecast — set-up is two commands: `make run` and `make test`.
# Each area of the project adds its own targets in mk/*.mk:
#   TEST_TARGETS  += its tests (run by `make test`)
#   BENCH_TARGETS += its benchmarks (run by `make bench`)
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
export PATH := $(BIN):/usr/local/go/bin:$(PATH)

TEST_TARGETS  :=
BENCH_TARGETS :=
CHAOS_TARGETS :=

.PHONY: all deps build run test check bench chaos clean
all: build

deps:
	@bash scripts/deps.sh

include $(sort $(wildcard mk/*.mk))

# `make check` (mk/check.mk: gofmt, go vet, staticcheck) runs first.
# Each target's wall time is printed, so that the 30-minute budget of a
# clean clone can be read off any run's log.
test: deps
	@set -e; for t in check $(TEST_TARGETS); do echo "=== make $$t"; s=$$SECONDS; \
	  $(MAKE) --no-print-directory $$t; echo "=== make $$t took $$((SECONDS-s)) s"; done

bench: deps
	@set -e; for t in $(BENCH_TARGETS); do echo "=== make $$t"; $(MAKE) --no-print-directory $$t; done

chaos: deps
	@set -e; for t in $(CHAOS_TARGETS); do echo "=== make $$t"; $(MAKE) --no-print-directory $$t; done

clean:
	rm -rf $(BIN) .cache
