package sim

import (
	"slices"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Result is what a run measured.
type Result struct {
	Config Config

	Sessions       int // streams simulated (each lives one match)
	PeakConcurrent int
	Events         uint64
	// LargestBurst is the most streams starting in the same instant (one
	// customer's batch); LargestAudience the biggest stream's viewers.
	LargestBurst    int
	LargestAudience int

	// Per stream, in seconds: playlist stall and media lost (black screen),
	// in the order of Streams.
	StallSeconds []float64
	BlackSeconds []float64
	Streams      []StreamSummary
	// BlackViewerHours weighs each stream's black screen by its audience.
	BlackViewerHours float64
	// CapacityWaits counts streams that found no zone with room (at start
	// or after a failover) and waited for a scale-out; CapacityWaitMax is
	// the longest such wait.
	CapacityWaits   int
	CapacityWaitMax time.Duration
	// UnprotectedStreamHours is the time streams ran without a standby.
	UnprotectedStreamHours float64

	Faults  []FaultResult
	Zones   []ZoneResult
	Samples []Sample

	// ScaleOuts are the durations of scale-out episodes: from the first
	// launch a zone decided while it had none pending until its last
	// launched node was in service.
	ScaleOuts []time.Duration

	PeakViewers      int64
	PeakEgressGbps   float64
	PeakOriginReqPS  float64
	InstanceHours    float64
	CostUSD          float64
	ASGMax           int
	CapacityPerNode  int
	ZoneCount        int
	SimulatedSeconds float64
}

// StreamSummary is one stream's day.
type StreamSummary struct {
	Start, End time.Duration
	Region     string // where it was first placed ("" if never)
	Viewers    int
	Redundant  bool // a backup encoder fed the twin zone
	Stall      time.Duration
	Black      time.Duration
}

// FaultResult is what one scheduled fault did.
type FaultResult struct {
	Spec     FaultSpec
	Target   string // the zone, region or node it struck
	Affected int    // streams whose playlists stalled because of it
	MaxStall time.Duration
	MaxLost  time.Duration
	SumStall time.Duration
	SumLost  time.Duration
	// Bound is the policy's worst case for the fault (failover.WorstCase).
	Bound failover.Bound
}

// MeanStall is the mean stall of the affected streams.
func (f FaultResult) MeanStall() time.Duration {
	if f.Affected == 0 {
		return 0
	}
	return f.SumStall / time.Duration(f.Affected)
}

// ZoneResult is one zone's day.
type ZoneResult struct {
	Name          string
	InstanceHours float64
	CostUSD       float64
	MeanUtil      float64 // over samples, of in-service capacity
	PeakUtil      float64
	PeakNodes     int
}

// Sample is the deployment at one instant.
type Sample struct {
	At        time.Duration
	ZoneUtil  []float64
	ZoneNodes []int
	Live      int // streams being served
	Down      int // streams in a stall at that instant
	Viewers   int64
}

// Percentile returns the p-th percentile (0–100) of xs by nearest rank.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(k, len(s)-1))]
}

// Sum adds xs.
func Sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

// Affected counts the entries above zero.
func Affected(xs []float64) int {
	n := 0
	for _, x := range xs {
		if x > 0 {
			n++
		}
	}
	return n
}
