package packager

import (
	"testing"
	"time"
)

func TestCutRegistry(t *testing.T) {
	const seg = 180000 // 2 s in 90 kHz ticks
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mark := func(raw int64, msn uint64, by string) cutMark {
		return cutMark{raw: raw, msn: msn, pdt: t0.Add(ticksToDuration(raw)), by: by}
	}
	for _, tc := range []struct {
		name   string
		record []cutMark
		check  func(t *testing.T, c *cutRegistry)
	}{
		{"the first cut at a grid boundary stands", []cutMark{mark(seg+900, 7, "source"), mark(seg+1800, 9, "720p")},
			func(t *testing.T, c *cutRegistry) {
				if m, ok := c.at(seg + 5000); !ok || m.msn != 7 || m.by != "source" {
					t.Errorf("at = %+v, %v; want the source's mark 7", m, ok)
				}
				if _, ok := c.at(2*seg + 10); ok {
					t.Error("a mark at the next grid boundary, none was recorded")
				}
			}},
		{"siblings near, itself not", []cutMark{mark(seg, 1, "source")},
			func(t *testing.T, c *cutRegistry) {
				if !c.othersNear("720p", seg+9*90000) {
					t.Error("720p does not see the source's cut 9 s away")
				}
				if c.othersNear("720p", seg+11*90000) {
					t.Error("720p sees the source's cut 11 s away")
				}
				if c.othersNear("source", seg) {
					t.Error("the source counts its own cut as a sibling's")
				}
			}},
		{"near across the 33-bit wrap", []cutMark{mark(1<<33-90000, 1, "source")},
			func(t *testing.T, c *cutRegistry) {
				if !c.othersNear("720p", 90000) {
					t.Error("720p does not see the source's cut 2 s away across the wrap")
				}
			}},
		{"a rendition's program date-times by number", []cutMark{mark(0, 4, "source"), mark(seg, 5, "source"), mark(2*seg, 6, "source")},
			func(t *testing.T, c *cutRegistry) {
				pdts, ok := c.by("source", 4, 6)
				if !ok || len(pdts) != 3 || !pdts[1].Equal(t0.Add(2*time.Second)) {
					t.Errorf("by(4..6) = %v, %v", pdts, ok)
				}
				if _, ok := c.by("source", 4, 7); ok {
					t.Error("by(4..7) found segment 7, never cut")
				}
				if _, ok := c.by("720p", 4, 4); ok {
					t.Error("by found a segment of a rendition that cut none")
				}
			}},
		{"bounded: the oldest cuts are forgotten", func() []cutMark {
			var ms []cutMark
			for i := range maxCuts + 10 {
				ms = append(ms, mark(int64(i)*seg, uint64(i), "source"))
			}
			return ms
		}(),
			func(t *testing.T, c *cutRegistry) {
				if _, ok := c.at(0); ok {
					t.Error("the first cut is still known past the bound")
				}
				if _, ok := c.at(int64(maxCuts+9) * seg); !ok {
					t.Error("the newest cut is not known")
				}
				if len(c.ring) != maxCuts || len(c.marks) != maxCuts {
					t.Errorf("%d indexes and %d marks kept, want %d", len(c.ring), len(c.marks), maxCuts)
				}
			}},
		{"reset forgets everything", []cutMark{mark(seg, 1, "source")},
			func(t *testing.T, c *cutRegistry) {
				c.reset()
				if _, ok := c.at(seg); ok {
					t.Error("a cut is known after reset")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCutRegistry(2 * time.Second)
			for _, m := range tc.record {
				c.record(m)
			}
			tc.check(t, &c)
		})
	}
}
