package packager

import (
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Config is the packaging cadence and storage of a stream.
type Config struct {
	SegmentDuration time.Duration // default 2 s (policies/failover.DefaultTimings)
	PartDuration    time.Duration // default 0.2 s (policies/failover.DefaultTimings)
	WindowSegments  int           // sliding window, default 6 segments
	Dir             string        // optional on-disk copy of every object ("" = memory only)
	// Hold bounds every deliberate wait of a request (a blocking reload,
	// a hinted part, the multivariant playlist at a stream's start); it
	// stays under the CDN's origin response timeout (default: the
	// policy's OriginHold for this cadence, policies/failover).
	Hold time.Duration
	// SlateAfter is how long a rendition's input may be quiet before the
	// playlist goes on with filler (slate.go); 0: never (the playlist
	// stops where the input did). A node takes it from the policy
	// (policies/failover.Timings.SlateAfter).
	SlateAfter time.Duration
}

// DefaultWindowSegments is the sliding window when Config.WindowSegments is 0.
const DefaultWindowSegments = 6

// withDefaults fills the zero fields from the policy defaults.
func (c Config) withDefaults() Config {
	if c.SegmentDuration <= 0 {
		c.SegmentDuration = failover.DefaultTimings.SegmentDuration
	}
	if c.PartDuration <= 0 {
		c.PartDuration = failover.DefaultTimings.PartDuration
	}
	if c.PartDuration > c.SegmentDuration/2 {
		c.PartDuration = c.SegmentDuration / 2
	}
	if c.Hold <= 0 {
		c.Hold = failover.DefaultTimings.ForCadence(c.SegmentDuration, c.PartDuration).OriginHold
	}
	if c.WindowSegments <= 0 {
		c.WindowSegments = DefaultWindowSegments
	}
	return c
}
