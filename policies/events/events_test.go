package events

import (
	"testing"
	"time"
)

func TestDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Delivery)
		ok   bool
	}{
		{"default", func(*Delivery) {}, true},
		{"horizon under an hour", func(d *Delivery) { d.Horizon = 59 * time.Minute }, false},
		{"backoff too long", func(d *Delivery) { d.MaxBackoff = 30 * time.Minute }, false},
		{"no first retry", func(d *Delivery) { d.FirstRetry = 0 }, false},
		{"lock within margins", func(d *Delivery) { d.LockTTL = 2 * d.ClockMargin }, false},
		{"no timeout", func(d *Delivery) { d.Timeout = 0 }, false},
		{"nothing in flight", func(d *Delivery) { d.MaxInFlight = 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DefaultDelivery
			tc.edit(&d)
			if err := d.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
