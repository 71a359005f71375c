package sim

// End-of-run accounting and the periodic samples.

func (e *engine) finish() {
	for i := range e.streams {
		s := &e.streams[i]
		if s.down {
			e.closeOutage(s, e.now)
		}
		e.setProtected(s)
		home := ""
		if s.home >= 0 {
			home = e.c.Regions[s.home].Name
		}
		e.res.Streams = append(e.res.Streams, StreamSummary{Start: s.start, End: s.end, Region: home,
			Viewers: int(s.viewers), Redundant: s.redundant, Stall: s.stall, Black: s.black})
		e.res.StallSeconds = append(e.res.StallSeconds, s.stall.Seconds())
		e.res.BlackSeconds = append(e.res.BlackSeconds, s.black.Seconds())
	}
	for _, z := range e.flat {
		for slot := range z.nodes {
			if z.nodes[slot].live {
				z.instanceSeconds += (e.now - z.nodes[slot].launchedAt).Seconds()
			}
		}
		zr := ZoneResult{Name: z.name, InstanceHours: z.instanceSeconds / 3600, PeakUtil: z.peakUtil, PeakNodes: z.peakNodes}
		zr.CostUSD = zr.InstanceHours * e.c.USDPerHour
		if z.utilSamples > 0 {
			zr.MeanUtil = z.utilSum / float64(z.utilSamples)
		}
		e.res.Zones = append(e.res.Zones, zr)
		e.res.InstanceHours += zr.InstanceHours
		e.res.CostUSD += zr.CostUSD
	}
	e.res.SimulatedSeconds = e.c.Duration.Seconds()
}

func (e *engine) sample() {
	smp := Sample{At: e.now, Live: e.live, Down: e.downNow, Viewers: e.viewers}
	for _, z := range e.flat {
		used, capacity := e.w.load(z)
		u := 0.0
		if capacity > 0 {
			u = float64(used) / float64(capacity)
		}
		nodes := e.w.liveNodes(z)
		smp.ZoneUtil = append(smp.ZoneUtil, u)
		smp.ZoneNodes = append(smp.ZoneNodes, nodes)
		z.utilSum += u
		z.utilSamples++
		z.peakUtil = max(z.peakUtil, u)
		z.peakNodes = max(z.peakNodes, nodes)
	}
	e.res.Samples = append(e.res.Samples, smp)
	e.res.PeakViewers = max(e.res.PeakViewers, e.viewers)
	e.res.PeakEgressGbps = max(e.res.PeakEgressGbps, float64(e.viewers)*e.c.AvgBitrateBps/1e9)
	// Each shield POP fetches every part and every blocking playlist
	// reload of every rendition once.
	reqs := float64(e.live*e.c.Renditions*e.c.ShieldPOPs) * 2 / e.c.Timings.PartDuration.Seconds()
	e.res.PeakOriginReqPS = max(e.res.PeakOriginReqPS, reqs)
}
