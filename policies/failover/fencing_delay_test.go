package failover

import (
	"testing"
	"time"
)

func TestSRTDeregistrationDelay(t *testing.T) {
	off := DefaultFencing
	off.Enabled = false
	tests := []struct {
		name    string
		fencing Fencing
		want    time.Duration
	}{
		// A fenced node's flows gain nothing by leaving at once (the live
		// node drops them); a drain loses its broadcasters if they do.
		{"fencing", DefaultFencing, DefaultProvisioning.DeregistrationDelay(DefaultTimings)},
		// Without fencing the drain keeps its broadcasters until it has
		// handed over: poll + drain + exit.
		{"no fencing", off, DefaultProvisioning.DeregistrationDelay(DefaultTimings)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fencing.SRTDeregistrationDelay(DefaultProvisioning, DefaultTimings); got != tt.want {
				t.Fatalf("SRT deregistration delay %v, want %v", got, tt.want)
			}
		})
	}
	if d := off.SRTDeregistrationDelay(DefaultProvisioning, DefaultTimings); d != 75*time.Second {
		t.Fatalf("the drain's delay is %v; docs/provision.md explains 75 s", d)
	}
}
