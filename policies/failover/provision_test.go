package failover

import (
	"testing"
	"time"
)

// TestProvisioningFitsAWSAndTheDrain checks the infrastructure numbers
// against the limits AWS puts on them and against the drain they serve.
func TestProvisioningFitsAWSAndTheDrain(t *testing.T) {
	p, tm := DefaultProvisioning, DefaultTimings
	delay := p.DeregistrationDelay(tm)
	checks := []struct {
		name string
		ok   bool
	}{
		// NLB target groups accept 0–3600 s.
		{"deregistration delay within 0–3600 s", delay >= 0 && delay <= time.Hour},
		// The flows must outlive the watcher's poll, the drain and the exit.
		{"deregistration delay covers poll + drain + exit", delay >= p.DrainPollInterval+tm.DrainDeadline+p.DrainStopMargin},
		// The hook is the net under a watcher that missed the state change.
		{"lifecycle hook covers a drain started in the hook", tm.LifecycleHookTimeout >= p.DrainPollInterval+tm.DrainDeadline+p.DrainStopMargin},
		{"boot grace at least the warm-up", p.BootGracePeriod >= p.InstanceWarmup},
		{"capacity wait at least the boot grace", p.CapacityWaitTimeout >= p.BootGracePeriod},
		// AWS caps a checkpoint delay at 172800 s.
		{"checkpoint delay within 0–48 h", p.RefreshCheckpointDelay > 0 && p.RefreshCheckpointDelay <= 48*time.Hour},
		{"refresh launches before it terminates", p.RefreshMinHealthyPercent == 100 && p.RefreshMaxHealthyPercent > 100 && p.RefreshMaxHealthyPercent <= 200},
		{"rollback alarm periods", p.RollbackAlarmPeriods >= 1 && p.RollbackAlarmPeriod >= time.Minute},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
	last := 0
	for _, cp := range p.RefreshCheckpoints {
		if cp <= last || cp > 100 {
			t.Errorf("checkpoints %v must rise and stay within 1–100", p.RefreshCheckpoints)
		}
		last = cp
	}
	if last != 100 {
		t.Errorf("checkpoints %v must end at 100 to replace every node", p.RefreshCheckpoints)
	}
}

func TestFleetTypesAreNVENCOnly(t *testing.T) {
	tests := []struct {
		primary string
		want    []string
	}{
		{"g6.xlarge", []string{"g6.xlarge", "g5.xlarge", "g4dn.xlarge"}},
		{"g4dn.xlarge", []string{"g4dn.xlarge", "g6.xlarge", "g5.xlarge"}},
		{"g6e.2xlarge", []string{"g6e.2xlarge", "g6.xlarge", "g5.xlarge", "g4dn.xlarge"}},
	}
	for _, tt := range tests {
		got := DefaultProvisioning.FleetTypes(tt.primary)
		if len(got) != len(tt.want) {
			t.Fatalf("FleetTypes(%s) = %v, want %v", tt.primary, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("FleetTypes(%s) = %v, want %v", tt.primary, got, tt.want)
			}
			if !HasHardwareEncoder(got[i]) {
				t.Errorf("%s has no NVENC", got[i])
			}
		}
	}
	for _, h100 := range []string{"p5.48xlarge", "p5e.48xlarge", "p4d.24xlarge"} {
		if HasHardwareEncoder(h100) {
			t.Errorf("%s counted as an NVENC type; its GPU has no video encoder", h100)
		}
	}
}
