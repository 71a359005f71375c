// Package recording holds the numbers of a node's part in recording: how
// long a switched-off recording waits for the segment being cut, and how
// long an upload waits to learn whether its lease term still holds.
//
// It is pure, like policies/failover: no I/O, no clocks.
package recording

import "time"

// StopWithinSegments bounds, in segment durations, how long a recording
// switched off (or a stream removed) waits for the segment being cut to
// complete before it is closed without it: the publisher may have left.
// Three: one to finish the open segment, two for a segment stretched by a
// late keyframe.
const StopWithinSegments = 3

// FenceUnknownFor bounds how long an upload made after this node's lease
// term ended waits for Redis to say whether a later term began. Waiting
// keeps what may be the only copy of a segment through a Redis failover
// (Sentinel promotes a replica within tens of seconds); past it the entry
// is dropped and counted as fenced, and the recording's gap is reported.
const FenceUnknownFor = time.Minute
