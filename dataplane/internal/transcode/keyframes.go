package transcode

import (
	"fmt"
	"time"
)

// The keyframe grid.
//
// The packager starts a segment at a keyframe iff a multiple of the segment
// duration D, counted from raw 33-bit DTS 0, lies between it and the previous
// keyframe (docs/packaging.md, packager/cutrule.go). For every rendition to
// have the same segments, the ladder's keyframes are forced at the first
// frame at or after each n·D of the raw clock: with -copyts the ladder keeps
// the source's timestamps, and without B-frames a ladder frame's DTS is its
// PTS, so the packager cuts each rendition at the same instants, on any node
// that transcodes the same TS, whenever its ffmpeg started.
//
// ffmpeg 5.1 evaluates the expression with t = seconds since the first frame
// this encoder received (forced_kf_ref_pts). The transcoder splices ffmpeg's
// input at a keyframe, so that first frame's PTS is known (firstPTS) and
// t+firstPTS is the raw clock again; mod() folds the 33-bit wrap, where the
// packager also cuts.

// ptsWrapSeconds is the period of the 33-bit 90 kHz clock.
const ptsWrapSeconds = float64(int64(1)<<33) / 90000

// keyframeExpr is the -force_key_frames argument for a segment duration and
// the PTS (90 kHz) of the first frame ffmpeg will encode.
func keyframeExpr(segment time.Duration, firstPTS int64) string {
	d := segment.Seconds()
	f := float64(firstPTS) / 90000
	// bucket(x) = floor(mod(x + first, wrap)/D + ε): ε (a fifth of a
	// 90 kHz tick) keeps a frame exactly on n·D in bucket n despite
	// floating-point rounding.
	bucket := func(x string) string {
		return fmt.Sprintf("floor(mod(%s+%.9f,%.9f)/%.9f+1e-6)", x, f, ptsWrapSeconds, d)
	}
	return fmt.Sprintf("expr:if(isnan(prev_forced_t),1,not(eq(%s,%s)))", bucket("t"), bucket("prev_forced_t"))
}

// gridBucket is the packager's bucket of a raw 90 kHz timestamp (tests and
// the output check use it).
func gridBucket(ts int64, segment time.Duration) int64 {
	return ts / (segment.Microseconds() * 90 / 1000)
}
