package packager

import (
	"strconv"
	"time"
)

// segment is one media segment: its LL-HLS parts, its fMP4 and TS bodies.
type segment struct {
	msn         uint64
	startDTS    int64 // monotonic timeline, 90 kHz
	rawStartDTS int64 // as in the input (33 bits)
	pdt         time.Time
	duration    time.Duration // set when complete
	disc        bool          // EXT-X-DISCONTINUITY before it
	initName    string        // its EXT-X-MAP
	parts       []*part
	fmp4        []byte // parts concatenated: the segment's fMP4 body
	ts          []byte // the classic segment, set when complete
	complete    bool
	frames      int  // video frames, for the measured frame rate
	grew        bool // the body was reallocated: earlier parts hold old arrays
	gap         bool // EXT-X-GAP: a number this rendition has no media for
	filler      bool // the slate's (slate.go): no input keyframe starts it
}

// part is one LL-HLS partial segment.
type part struct {
	index       int
	duration    time.Duration
	independent bool
	from, to    int // its bytes in the segment's body
}

func segName(msn uint64) string  { return "seg" + strconv.FormatUint(msn, 10) + ".m4s" }
func tsName(msn uint64) string   { return "seg" + strconv.FormatUint(msn, 10) + ".ts" }
func initName(msn uint64) string { return "init" + strconv.FormatUint(msn, 10) + ".mp4" }
func partName(msn uint64, i int) string {
	return "part" + strconv.FormatUint(msn, 10) + "." + strconv.Itoa(i) + ".m4s"
}

// ticksToDuration converts 90 kHz ticks.
func ticksToDuration(t int64) time.Duration {
	return time.Duration(t) * time.Second / 90000
}

func durationToTicks(d time.Duration) int64 {
	return int64(d * 90000 / time.Second)
}
