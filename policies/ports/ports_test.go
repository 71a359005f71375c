package ports

import "testing"

func TestPorts(t *testing.T) {
	seen := map[[2]any]string{}
	for _, p := range All {
		key := [2]any{p.Number, p.Protocol}
		if prev, dup := seen[key]; dup {
			t.Errorf("%d/%s used by %q and %q", p.Number, p.Protocol, prev, p.Purpose)
		}
		seen[key] = p.Purpose
		if p.Number < 1 || p.Number > 65535 || (p.Protocol != "udp" && p.Protocol != "tcp") || p.Purpose == "" {
			t.Errorf("bad port %+v", p)
		}
	}
	public := map[Port]bool{}
	for _, p := range PublicPorts() {
		public[p] = true
	}
	// Only ingest and delivery face the world; the relay, Redis and the
	// admin listener never do.
	for _, p := range []Port{SRT, HTTPS, HTTP3} {
		if !public[p] {
			t.Errorf("%s must be public", p.Purpose)
		}
	}
	for _, p := range []Port{Relay, Redis, Admin} {
		if public[p] {
			t.Errorf("%s must stay private", p.Purpose)
		}
	}
}
