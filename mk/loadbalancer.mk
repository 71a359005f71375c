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
