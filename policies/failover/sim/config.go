package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Config is one simulated scenario.
type Config struct {
	Seed     uint64
	Streams  int // peak concurrent streams, world-wide
	Regions  []failover.RegionInfo
	Duration time.Duration // simulated time

	Timings  failover.Timings
	Scaling  failover.Scaling
	Instance failover.InstanceType
	// USDPerHour prices an instance-hour (defaults to Instance's price).
	USDPerHour float64
	// ASGMax caps each zone's group; 0 sizes it for the load (the figure a
	// deployment of this size would configure).
	ASGMax int

	// StandbyLoad is what a hot standby costs relative to its leader: 1
	// when it does all of its leader's work (decode, ladder, packaging), as the
	// data plane's hot standby does.
	StandbyLoad float64
	// RedundantShare is the share of streams whose customer sends a backup
	// encoder feed into the twin zone.
	RedundantShare float64

	// Load model.
	MatchMin, MatchMax time.Duration // how long one stream lasts
	Kickoff            time.Duration // matches start on this grid (bursts)
	CustomerBatch      int           // one customer's simultaneous starts
	BatchShare         float64       // share of starts that come in such batches
	MedianViewers      float64
	BigEventShare      float64 // share of streams with a 50,000+ audience
	BigEventMin        int
	BigEventMax        int

	// WindowSegments is the playlists' sliding window (the edge's
	// hls.window_segments, 6 by default): media a new leader held back
	// while it waited for its lease is published late, but no more than a
	// window of it — a longer wait loses the rest.
	WindowSegments int

	// Delivery figures (aggregated per sample, not simulated per request).
	Renditions    int     // ladder renditions incl. source
	AvgBitrateBps float64 // mean bitrate a viewer pulls
	ShieldPOPs    int     // CDN origin-shield locations that each fetch every object once

	SampleEvery time.Duration
	// Routing is what a reconnecting broadcaster goes through; nil means
	// Timings.AWSRouting() (NLB and Global Accelerator).
	Routing *failover.Routing
	// Faults is the schedule; nil with NoFaults false means DefaultFaults.
	Faults   []FaultSpec
	NoFaults bool
}

// FaultSpec is one scheduled fault. Region and Zone index the scenario's
// regions (Zone −1: the busier zone at that moment; Redis faults strike
// the region's one pair, whatever the zone). Node faults strike
// the busiest node of the zone (the worst case), except node losses drawn
// at random by DefaultFaults.
type FaultSpec struct {
	Kind     failover.Fault
	At       time.Duration
	Duration time.Duration // how long the fault lasts (zone, region, Redis, partition, freeze)
	Region   int
	Zone     int
	// Random picks a random in-service node instead of the busiest.
	Random bool
	// Drain, with RollingUpdate, drains the busiest node of the zone (a
	// SIGTERM) without replacing it, as the chaos set-up does.
	Drain bool
}

// DefaultConfig is the default scenario: a Saturday of football, the
// default timings, g4dn.xlarge nodes.
func DefaultConfig(streams, regions int, hours float64, seed uint64) (Config, error) {
	rs, err := failover.DefaultRegions(regions)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Seed: seed, Streams: streams, Regions: rs, Duration: time.Duration(hours * float64(time.Hour)),
		Timings: failover.DefaultTimings, Scaling: failover.DefaultScaling,
		Instance: failover.DefaultInstanceType, USDPerHour: failover.DefaultInstanceType.USDPerHour,
		StandbyLoad: 1, RedundantShare: 0.1,
		MatchMin: 100 * time.Minute, MatchMax: 140 * time.Minute, Kickoff: 15 * time.Minute,
		CustomerBatch: 20, BatchShare: 0.3,
		MedianViewers: 150, BigEventShare: 0.0005, BigEventMin: 50_000, BigEventMax: 250_000,
		WindowSegments: 6,
		Renditions:     4, AvgBitrateBps: 3e6, ShieldPOPs: 1,
		SampleEvery: 5 * time.Minute,
	}, nil
}

// Validate refuses scenarios the simulator cannot run honestly.
func (c Config) Validate() error {
	var errs []error
	if c.Streams < 1 {
		errs = append(errs, fmt.Errorf("streams %d: need at least one", c.Streams))
	}
	if len(c.Regions) < 1 {
		errs = append(errs, errors.New("no region"))
	}
	if c.Duration < time.Hour {
		errs = append(errs, fmt.Errorf("duration %v: simulate at least an hour", c.Duration))
	}
	if c.Duration > 14*24*time.Hour {
		errs = append(errs, fmt.Errorf("duration %v: at most two weeks", c.Duration))
	}
	if err := c.Timings.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("timings: %w", err))
	}
	routing := c.Timings.AWSRouting()
	if c.Routing != nil {
		routing = *c.Routing
	}
	if err := routing.Fencing.Validate(c.Timings); err != nil {
		errs = append(errs, fmt.Errorf("fencing: %w", err))
	}
	if err := c.Scaling.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("scaling: %w", err))
	}
	if c.Instance.StreamsPerNode < 1 {
		errs = append(errs, fmt.Errorf("instance %q runs no stream", c.Instance.Name))
	}
	if c.StandbyLoad < 0 || c.StandbyLoad > 1 || c.RedundantShare < 0 || c.RedundantShare > 1 || c.BatchShare < 0 || c.BatchShare > 1 {
		errs = append(errs, errors.New("standby load, redundant share and batch share must be within 0–1"))
	}
	if c.WindowSegments < 1 {
		errs = append(errs, fmt.Errorf("window of %d segments", c.WindowSegments))
	}
	if c.MatchMin <= 0 || c.MatchMax < c.MatchMin || c.Kickoff <= 0 || c.SampleEvery <= 0 {
		errs = append(errs, errors.New("match length, kickoff grid and sample period must be positive"))
	}
	for i, f := range c.Faults {
		if f.Region < 0 || f.Region >= len(c.Regions) || f.Zone < -1 || f.Zone >= failover.DefaultRedundancy.ZonesPerRegion {
			errs = append(errs, fmt.Errorf("fault %d (%v): region %d zone %d out of range", i, f.Kind, f.Region, f.Zone))
		}
		if f.At < 0 || f.At >= c.Duration {
			errs = append(errs, fmt.Errorf("fault %d (%v) at %v outside the simulated %v", i, f.Kind, f.At, c.Duration))
		}
	}
	return errors.Join(errs...)
}

// DefaultFaults is the default schedule, placed on the default day so that
// the big faults strike regions near their peak: a node loss about every
// hour somewhere, a Redis primary loss, both Redis of a region for a minute,
// the busiest node cut from Redis for 30 s, a rolling update of a whole region, a partition and a freeze of the
// busiest node, a zone lost for half an hour and a region lost for 45
// minutes. Times scale with the simulated duration.
func DefaultFaults(c Config, nodeLossTimes []time.Duration) []FaultSpec {
	at := func(h float64) time.Duration { return time.Duration(h / 24 * float64(c.Duration)) }
	n := len(c.Regions)
	r := func(i int) int { return i % n }
	fs := []FaultSpec{
		{Kind: failover.RedisPrimaryLoss, At: at(2), Duration: 10 * time.Minute, Region: r(0), Zone: -1},
		{Kind: failover.RedisPairLoss, At: at(4), Duration: time.Minute, Region: r(1), Zone: -1},
		{Kind: failover.RedisPartition, At: at(6), Duration: 30 * time.Second, Region: r(2), Zone: -1},
		{Kind: failover.RollingUpdate, At: at(8), Region: r(0), Zone: -1},
		{Kind: failover.Partition, At: at(11), Duration: 30 * time.Second, Region: r(4), Zone: -1},
		{Kind: failover.LeaderFreeze, At: at(13), Duration: 20 * time.Second, Region: r(0), Zone: -1},
		{Kind: failover.ZoneLoss, At: at(16), Duration: 30 * time.Minute, Region: r(0), Zone: -1},
		{Kind: failover.RegionLoss, At: at(20), Duration: 45 * time.Minute, Region: r(1), Zone: 0},
		{Kind: failover.LeaderFreeze, At: at(22), Duration: 3 * time.Second, Region: r(1), Zone: -1},
	}
	for i, t := range nodeLossTimes {
		fs = append(fs, FaultSpec{Kind: failover.NodeLoss, At: t, Region: i % n, Zone: -1, Random: true})
	}
	return fs
}
