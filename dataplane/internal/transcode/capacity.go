package transcode

import (
	"math"
	"sync"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Capacity counts the ladders this node carries, in units of the node's
// configured ladder (the one the estimate or calibration measured): a
// stream with a smaller ladder of its own takes a fraction of a slot, a
// larger one more than a slot. A stream that finds no room is still
// ingested and published source-only (never refused).
type Capacity struct {
	mu    sync.Mutex
	total int
	// used is in thousandths of a configured ladder: whole numbers keep
	// acquire and release exact whatever the costs.
	used  int64
	basis string
}

// CapacityReport is what /readyz and /metrics show.
type CapacityReport struct {
	Encoder string `json:"encoder"`
	Total   int    `json:"total"` // ladders the node carries
	Used    int    `json:"used"`  // ladders in use, a partial one counted whole
	Free    int    `json:"free"`  // whole ladders still free
	// Load is the ladders in use, custom ladders counted by their cost.
	Load  float64 `json:"load"`
	Basis string  `json:"basis"` // how Total was found
}

// costUnit is one configured ladder in Capacity.used.
const costUnit = 1000

// NewCapacity starts with total ladders.
func NewCapacity(total int, basis string) *Capacity {
	return &Capacity{total: total, basis: basis}
}

// TryAcquire takes one configured ladder's slot if one is free.
func (c *Capacity) TryAcquire() bool { return c.tryAcquire(costUnit) }

// Release returns one configured ladder's slot.
func (c *Capacity) Release() { c.release(costUnit) }

func (c *Capacity) tryAcquire(units int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used+units > int64(c.total)*costUnit {
		return false
	}
	c.used += units
	return true
}

func (c *Capacity) release(units int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = max(c.used-units, 0)
}

// For is the capacity as a transcoder of ladder l uses it: each acquire
// takes l's cost (LadderCost against base, the configured ladder).
func (c *Capacity) For(l, base config.Ladder) slots {
	return costedSlots{c: c, units: int64(math.Ceil(LadderCost(l, base) * costUnit))}
}

type costedSlots struct {
	c     *Capacity
	units int64
}

func (s costedSlots) TryAcquire() bool { return s.c.tryAcquire(s.units) }
func (s costedSlots) Release()         { s.c.release(s.units) }

// LadderCost is what ladder l costs in configured ladders (base), by
// pixel rate for a 1080p source (ladderCost): a stream's own ladder of
// two small rungs takes a fraction of a slot. A ladder with no base to
// compare to costs one.
func LadderCost(l, base config.Ladder) float64 {
	b := ladderCost(base)
	if b == 0 {
		return 1
	}
	return ladderCost(l) / b
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
	used := int((c.used + costUnit - 1) / costUnit)
	free := int(max(int64(c.total)*costUnit-c.used, 0) / costUnit)
	return CapacityReport{Total: c.total, Used: used, Free: free, Load: float64(c.used) / costUnit, Basis: c.basis}
}
