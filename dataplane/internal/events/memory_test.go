package events

import "testing"

func TestMemoryLiveState(t *testing.T) {
	// The memory queue checks no lease; the holder only names the switch's
	// new leader.
	runLiveSteps(t, NewMemory(100), "s", func(h string) *Fence { return &Fence{Holder: h} })
}
