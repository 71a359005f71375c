package transcode

import "sync"

// Capacity counts the ladders this node carries. A stream that finds no
// free slot is still ingested and published source-only (never refused).
type Capacity struct {
	mu    sync.Mutex
	total int
	used  int
	basis string
}

// CapacityReport is what /readyz and /metrics show.
type CapacityReport struct {
	Encoder string `json:"encoder"`
	Total   int    `json:"total"` // ladders the node carries
	Used    int    `json:"used"`
	Free    int    `json:"free"`
	Basis   string `json:"basis"` // how Total was found
}

// NewCapacity starts with total ladders.
func NewCapacity(total int, basis string) *Capacity {
	return &Capacity{total: total, basis: basis}
}

// TryAcquire takes a ladder slot if one is free.
func (c *Capacity) TryAcquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used >= c.total {
		return false
	}
	c.used++
	return true
}

// Release returns a slot.
func (c *Capacity) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used > 0 {
		c.used--
	}
}

// SetTotal replaces the estimate (after calibration). Streams above the
// new total keep their slots; new ones wait for free ones.
func (c *Capacity) SetTotal(total int, basis string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total, c.basis = total, basis
}

// Report returns the counts.
func (c *Capacity) Report() CapacityReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CapacityReport{Total: c.total, Used: c.used, Free: max(c.total-c.used, 0), Basis: c.basis}
}
