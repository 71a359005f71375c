package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// session is one stream's life as the load model draws it.
type session struct {
	start, end time.Duration
	loc        failover.Location
	viewers    int32
	redundant  bool
}

// regionShares weighs the catalogue's regions by audience (the first ones
// are the busiest markets); regions past the list weigh 0.08.
var regionShares = []float64{0.22, 0.22, 0.12, 0.14, 0.16, 0.10, 0.08}

// saturday is the share of a region's peak concurrency by local hour on a
// match day: quiet nights, kick-offs from late morning, a peak in the early
// evening.
var saturday = [][2]float64{{0, 0.05}, {6, 0.02}, {9, 0.15}, {12, 0.5}, {15, 0.9}, {18, 1.0}, {21, 0.8}, {23, 0.3}, {24, 0.05}}

func profile(localHour float64) float64 {
	h := math.Mod(localHour, 24)
	if h < 0 {
		h += 24
	}
	for i := 1; i < len(saturday); i++ {
		if h <= saturday[i][0] {
			a, b := saturday[i-1], saturday[i]
			return a[1] + (b[1]-a[1])*(h-a[0])/(b[0]-a[0])
		}
	}
	return saturday[len(saturday)-1][1]
}

// demand returns each region's target concurrency at t, scaled so that
// the world-wide peak over the simulated time is c.Streams.
type demand struct {
	share  []float64
	offset []float64 // hours east of UTC, from longitude
	scale  float64
}

func newDemand(c Config) demand {
	d := demand{share: make([]float64, len(c.Regions)), offset: make([]float64, len(c.Regions))}
	sum := 0.0
	for i, r := range c.Regions {
		s := 0.08
		if i < len(regionShares) {
			s = regionShares[i]
		}
		d.share[i] = s
		sum += s
		d.offset[i] = math.Round(r.Location.Lon / 15)
	}
	for i := range d.share {
		d.share[i] /= sum
	}
	peak := 0.0
	for t := time.Duration(0); t <= max(c.Duration, 24*time.Hour); t += time.Minute {
		total := 0.0
		for i := range d.share {
			total += d.raw(i, t)
		}
		peak = max(peak, total)
	}
	d.scale = float64(c.Streams) / peak
	return d
}

func (d demand) raw(region int, t time.Duration) float64 {
	return d.share[region] * profile(t.Hours()+d.offset[region])
}

func (d demand) at(region int, t time.Duration) float64 { return d.scale * d.raw(region, t) }

// generateSessions draws every stream of the scenario. Matches start on the
// kick-off grid (from three hours before the simulated day, so the day
// starts with matches running); at each kick-off a region starts as many
// as it takes to reach its target concurrency, partly in one customer's
// batches that start in the same second. Sessions that ended before 0 are
// dropped; the others start no earlier than 0.
func generateSessions(c Config, rng *rand.Rand) []session {
	d := newDemand(c)
	var out []session
	warm := -3 * time.Hour
	for ri, reg := range c.Regions {
		var ends []time.Duration // ends of this region's drawn sessions (unsorted; counted per kick-off)
		for k := warm; k < c.Duration; k += c.Kickoff {
			active := 0
			kept := ends[:0]
			for _, e := range ends {
				if e > k {
					active++
					kept = append(kept, e)
				}
			}
			ends = kept
			want := int(math.Round(d.at(ri, k+c.Kickoff/2))) - active
			for want > 0 {
				batch := 1 + rng.IntN(4)
				if rng.Float64() < c.BatchShare {
					batch = c.CustomerBatch
				}
				batch = min(batch, want)
				want -= batch
				// One customer's batch: one instant, one country.
				t0 := k + time.Duration(rng.Int64N(int64(6*time.Minute))) - 3*time.Minute
				base := jitter(reg.Location, 6, rng)
				for range batch {
					length := c.MatchMin + time.Duration(rng.Int64N(int64(c.MatchMax-c.MatchMin)+1))
					s := session{start: t0, end: t0 + length, loc: jitter(base, 1, rng),
						viewers: drawViewers(c, rng), redundant: rng.Float64() < c.RedundantShare}
					ends = append(ends, s.end)
					if s.end <= 0 {
						continue
					}
					s.start = max(s.start, 0)
					s.end = min(s.end, c.Duration)
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func jitter(l failover.Location, deg float64, rng *rand.Rand) failover.Location {
	return failover.Location{
		Lat: math.Max(-89, math.Min(89, l.Lat+(rng.Float64()*2-1)*deg)),
		Lon: math.Max(-179.9, math.Min(179.9, l.Lon+(rng.Float64()*2-1)*deg)),
	}
}

// drawViewers: a log-normal audience around the median, and now and then
// a big event of 50,000+.
func drawViewers(c Config, rng *rand.Rand) int32 {
	if rng.Float64() < c.BigEventShare {
		return int32(c.BigEventMin + rng.IntN(c.BigEventMax-c.BigEventMin+1))
	}
	v := c.MedianViewers * math.Exp(1.5*rng.NormFloat64())
	return int32(math.Min(v, float64(c.BigEventMin-1)))
}
