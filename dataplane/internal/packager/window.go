package packager

// slideWindow keeps WindowSegments segments in the playlist and frees what
// fell out of the grace period.
func (r *Rendition) slideWindow() {
	for len(r.segs) > r.muxer.cfg.WindowSegments {
		old := r.segs[0]
		r.segs = r.segs[1:]
		// The sequence counts the discontinuity tags that left the playlist.
		if old.disc {
			r.discSeq++
		}
		r.evicted = append(r.evicted, old)
	}
	for len(r.evicted) > graceSegments {
		old := r.evicted[0]
		r.evicted = r.evicted[1:]
		r.muxer.store.Delete(r.segmentObjects(old)...)
		if !r.initInUse(old.initName) {
			r.muxer.store.Delete(r.name + "/" + old.initName)
		}
	}
}

func (r *Rendition) initInUse(name string) bool {
	if name == r.curInit {
		return true
	}
	for _, list := range [][]*segment{r.evicted, r.segs} {
		for _, s := range list {
			if s.initName == name {
				return true
			}
		}
	}
	return false
}

func (r *Rendition) segmentObjects(s *segment) []string {
	names := []string{r.name + "/" + segName(s.msn), r.name + "/" + tsName(s.msn)}
	for _, p := range s.parts {
		names = append(names, r.name+"/"+partName(s.msn, p.index))
	}
	return names
}
