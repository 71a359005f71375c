package transcode

import (
	"fmt"
	"time"
)

// The keyframe grid.
//
// The packager starts a segment at a keyframe iff a multiple of the segment
// duration D, counted from raw 33-bit DTS 0, lies between it and the previous
// keyframe (packager/cutrule.go). With -copyts the ladder keeps the source's
// timestamps and, without B-frames, a ladder frame's DTS is its PTS; the
// ladder's keyframes are forced (by timestamp, see keyframeExpr) where the
// packager must cut, so every rendition gets the same segments, on any node
// that transcodes the same TS, whenever its ffmpeg started.
//
// ffmpeg 5.1 evaluates the expression with t = seconds since the first frame
// this encoder received (forced_kf_ref_pts). The transcoder splices ffmpeg's
// input at a keyframe, so that first frame's PTS is known (firstPTS) and
// t+firstPTS is the raw clock again; mod() folds the 33-bit wrap, where the
// packager also cuts.

// ptsWrapSeconds is the period of the 33-bit 90 kHz clock.
const ptsWrapSeconds = float64(int64(1)<<33) / 90000

// gridParams are what the expression needs to reproduce the source's cuts.
type gridParams struct {
	Segment  time.Duration
	FirstPTS int64 // PTS of the keyframe ffmpeg's input starts with (90 kHz)
	// GOP is the source's keyframe interval in 90 kHz ticks when it is
	// regular (0: unknown or irregular); Delta is PTS−DTS of the source's
	// keyframes (its B-frame delay).
	GOP   int64
	Delta int64
}

// keyframeExpr is the -force_key_frames argument.
//
// With a regular source GOP the ladder's keyframes go exactly where the
// packager cuts the source rendition: at the first source keyframe whose
// DTS reaches n·D. For a frame at time u the expression takes the latest
// source keyframe at or before u, v = first + G·floor((u−first)/G), and
// forces a keyframe when v−Delta enters a new segment bucket. Every
// rendition, the source included, then has the same segments. Without a
// regular GOP it falls back to the pure time grid (u itself): the ladder
// renditions agree with each other, the source is cut at its own keyframes.
func keyframeExpr(g gridParams) string {
	d := g.Segment.Seconds()
	f := float64(g.FirstPTS) / 90000
	cutTime := func(x string) string { return fmt.Sprintf("%s+%.9f", x, f) }
	if g.GOP > 0 {
		gop := float64(g.GOP) / 90000
		delta := float64(g.Delta) / 90000
		cutTime = func(x string) string {
			return fmt.Sprintf("%.9f+%.9f*floor(%s/%.9f+1e-6)", f-delta, gop, x, gop)
		}
	}
	// bucket(x) = floor(mod(cut time, wrap)/D + ε): ε (a millionth of a
	// segment, well under a 90 kHz tick) keeps a time exactly on n·D in
	// bucket n despite floating-point rounding.
	bucket := func(x string) string {
		return fmt.Sprintf("floor(mod(%s,%.9f)/%.9f+1e-6)", cutTime(x), ptsWrapSeconds, d)
	}
	return fmt.Sprintf("expr:if(isnan(prev_forced_t),1,not(eq(%s,%s)))", bucket("t"), bucket("prev_forced_t"))
}

// gridBucket is the packager's bucket of a raw 90 kHz timestamp (tests and
// the output check use it).
func gridBucket(ts int64, segment time.Duration) int64 {
	return ts / (segment.Microseconds() * 90 / 1000)
}
