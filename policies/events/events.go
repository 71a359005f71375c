// Package events holds the numbers of the signed events' delivery: how
// often a refused event is tried again, for how long, and how long one
// attempt may take. Validate ties them to the promise made to receivers.
//
// It is pure, like policies/failover: no I/O, no clocks.
package events

import (
	"errors"
	"fmt"
	"time"
)

// MinHorizon is the promise: an event the receiver refuses or cannot be
// reached for is tried again for at least this long before it is given up.
const MinHorizon = time.Hour

// Delivery is the deliverer's policy.
type Delivery struct {
	// FirstRetry is the wait after the first failed attempt; each further
	// failure doubles it (with jitter) up to MaxBackoff.
	FirstRetry time.Duration
	MaxBackoff time.Duration
	// Horizon is how long after it was emitted an event keeps being tried;
	// past it, it is counted failed and dropped so that the stream's later
	// events are not held behind it for ever.
	Horizon time.Duration
	// Timeout bounds one POST: a receiver slower than this counts as a
	// failure (it may still have taken the event: ids make that harmless).
	Timeout time.Duration
	// LockTTL is how long a region's deliverer lock lives without renewal:
	// a dead deliverer's pending events are taken over by another node
	// this long after its death at the latest.
	LockTTL time.Duration
	// ClockMargin: a deliverer stops posting this long before its lock's
	// expiry on its own clock, so that two deliverers never post at once
	// (which could swap two events of one stream at the receiver).
	ClockMargin time.Duration
	// MaxInFlight bounds the events a deliverer holds in memory.
	MaxInFlight int
	// Retain bounds the entries kept in a region's queue (delivered ones
	// are trimmed as they are acknowledged; this caps a backlog whose
	// receiver has been gone for long).
	Retain int64
}

// DefaultDelivery is what every node runs.
var DefaultDelivery = Delivery{
	FirstRetry:  time.Second,
	MaxBackoff:  5 * time.Minute,
	Horizon:     24 * time.Hour,
	Timeout:     10 * time.Second,
	LockTTL:     5 * time.Second,
	ClockMargin: time.Second,
	MaxInFlight: 10_000,
	Retain:      1_000_000,
}

// Validate checks that the numbers keep the retry promise.
func (d Delivery) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.FirstRetry <= 0 || d.MaxBackoff < d.FirstRetry {
		bad("FirstRetry %v must be positive and at most MaxBackoff %v", d.FirstRetry, d.MaxBackoff)
	}
	if d.Horizon < MinHorizon {
		bad("Horizon %v is shorter than the promised %v", d.Horizon, MinHorizon)
	}
	// Several tries must fit in the promise, not one long wait.
	if d.MaxBackoff > MinHorizon/6 {
		bad("MaxBackoff %v leaves fewer than six tries within %v", d.MaxBackoff, MinHorizon)
	}
	if d.Timeout <= 0 {
		bad("Timeout %v must be positive", d.Timeout)
	}
	if d.ClockMargin <= 0 || d.LockTTL <= 2*d.ClockMargin {
		bad("LockTTL %v must exceed twice ClockMargin %v", d.LockTTL, d.ClockMargin)
	}
	if d.MaxInFlight < 1 || d.Retain < int64(d.MaxInFlight) {
		bad("MaxInFlight %d must be positive and Retain %d at least as large", d.MaxInFlight, d.Retain)
	}
	return errors.Join(errs...)
}
