package chaos

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Profile is one set of timings the suite runs a fault at: the nodes'
// packaging cadence (from which every edge derives its failover clocks,
// failover.Timings.ForCadence) and the broadcaster's encoder and SRT sender.
type Profile struct {
	// Name is "local" or "shipped".
	Name string
	// Timings are what the nodes run with and what the simulator predicts
	// from: the nodes get SegmentDuration and PartDuration as their hls
	// settings (as provision renders them), the broadcaster's sender uses
	// SRTPeerIdleTimeout, SRTConnectTimeout and BroadcasterRetry.
	Timings failover.Timings
	// GOP is the broadcaster's keyframe interval.
	GOP time.Duration
}

// Segment and Part are the profile's packaging cadence.
func (p Profile) Segment() time.Duration { return p.Timings.SegmentDuration }

// Part is the LL-HLS part duration.
func (p Profile) Part() time.Duration { return p.Timings.PartDuration }

// Local is the local twin-zone set-up's (make run): 1 s segments, a 1 s GOP
// and a sender that notices a dead node within a second.
var Local = Profile{Name: "local", Timings: failover.LocalTimings, GOP: time.Second}

// Shipped is what provision renders for a region stack's nodes
// (failover.DefaultTimings: 2 s segments, 200 ms parts, every other edge
// setting at its default; an edge at that cadence runs with DefaultTimings
// unchanged) with a broadcaster as encoders ship: a GOP of one segment, and
// libsrt's own peer-idle (5 s) and connection (3 s) timeouts.
var Shipped = Profile{Name: "shipped", Timings: failover.DefaultTimings, GOP: failover.DefaultTimings.SegmentDuration}

// Profiles are the profiles named by CHAOS_TIMINGS ("local", "shipped",
// or both, comma-separated; unset: both).
func Profiles() ([]Profile, error) {
	v := os.Getenv("CHAOS_TIMINGS")
	if v == "" {
		return []Profile{Local, Shipped}, nil
	}
	var out []Profile
	for _, name := range strings.Split(v, ",") {
		switch strings.TrimSpace(name) {
		case Local.Name:
			out = append(out, Local)
		case Shipped.Name:
			out = append(out, Shipped)
		default:
			return nil, fmt.Errorf("CHAOS_TIMINGS: unknown profile %q (want local, shipped or both)", name)
		}
	}
	return out, nil
}
