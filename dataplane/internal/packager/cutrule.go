package packager

// The cut rule. Segments start on keyframes, and whether a keyframe starts a
// new segment is a pure function of the input's own timestamps, so that two
// nodes fed the same TS (leader and hot standby) cut identical segments no
// matter when each of them started:
//
//	a keyframe with raw DTS k, whose previous keyframe had raw DTS p, starts
//	a new segment iff a multiple of the segment duration D (in 90 kHz ticks,
//	counted from raw DTS 0) lies in (p, k] — that is, it is the first
//	keyframe at or after a target time n·D. When the 33-bit clock wraps
//	(k < p) the keyframe starts a segment too (0 is a multiple of D).
//
// The first keyframe of an input session (start, reconnect, discontinuity)
// always starts a segment. Parts are cut inside a segment relative to its
// first keyframe (see partDue), hence identical on both nodes too.

// startsSegment is the cut rule: prevKey and key are raw 33-bit DTS values of
// consecutive keyframes, segTicks the segment duration in 90 kHz ticks.
func startsSegment(prevKey, key, segTicks int64) bool {
	if key < prevKey { // the 33-bit clock wrapped (or went back)
		return true
	}
	return key/segTicks != prevKey/segTicks
}

// partDue reports whether the open part, which started at partStart, is
// complete once it holds a sample starting at dts and lasting dur (all in
// 90 kHz ticks on the monotonic timeline).
func partDue(partStart, dts, dur, partTicks int64) bool {
	return dts+dur-partStart >= partTicks
}
