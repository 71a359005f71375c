// Package rewind holds the numbers of the rewind (DVR) playlist: how far
// back viewers may seek into a live stream, and how much of that playlist a
// player's reload may skip.
//
// It is pure, like policies/failover: no I/O, no clocks.
package rewind

import (
	"fmt"
	"time"
)

// DefaultWindow is how far back a recorded stream can be rewound when the
// configuration does not say: a football match's half plus its break, so
// that a viewer tuning in late can still see the kick-off.
const DefaultWindow = 2 * time.Hour

// MinWindow is the shortest window worth a second playlist: anything
// shorter is already covered by the live playlist and a player's buffer.
const MinWindow = time.Minute

// MaxWindow bounds the window because a player fetches the full rewind
// playlist once when it tunes in (later reloads are delta updates): six
// hours of two-second segments is about 10,800 entries, near a megabyte of
// playlist, and the node keeps as many entries per rendition in memory.
const MaxWindow = 6 * time.Hour

// SkipBoundaryTargets is the rewind playlist's CAN-SKIP-UNTIL in target
// durations: six, the smallest RFC 8216bis §4.4.3.8 allows, so that a delta
// update carries as little as the protocol permits (a player may ask for
// one while its copy is younger than half of it, three segments).
const SkipBoundaryTargets = 6

// Validate checks a configured window (zero turns rewind off).
func Validate(window time.Duration) error {
	if window == 0 {
		return nil
	}
	if window < MinWindow || window > MaxWindow {
		return fmt.Errorf("rewind window %v must be 0 (off) or between %v and %v", window, MinWindow, MaxWindow)
	}
	return nil
}
