package packager

import "testing"

func TestStartsSegment(t *testing.T) {
	const d = 180000 // 2 s
	const wrap = int64(1) << 33
	for _, tc := range []struct {
		name      string
		prev, key int64
		want      bool
	}{
		{"keyframes 1 s apart, no boundary between", 216000, 306000, false},
		{"first keyframe at or after 2 s", 126000, 216000, true},
		{"keyframe exactly on the boundary", 90000, 180000, true},
		{"previous exactly on the boundary", 180000, 270000, false},
		{"GOP longer than a segment", 100000, 500000, true},
		{"33-bit wrap", wrap - 1000, 2000, true},
		{"same keyframe time", 360000, 360000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := startsSegment(tc.prev, tc.key, d); got != tc.want {
				t.Errorf("startsSegment(%d, %d) = %v, want %v", tc.prev, tc.key, got, tc.want)
			}
		})
	}
}

func TestPartDue(t *testing.T) {
	for _, tc := range []struct {
		name                string
		start, dts, dur, pt int64
		want                bool
	}{
		{"sixth frame at 30 fps completes 0.2 s", 0, 15000, 3000, 18000, true},
		{"fifth frame does not", 0, 12000, 3000, 18000, false},
		{"29.97 fps: sixth frame ends past 0.2 s", 0, 15015, 3003, 18000, true},
		{"25 fps: fifth frame", 0, 14400, 3600, 18000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := partDue(tc.start, tc.dts, tc.dur, tc.pt); got != tc.want {
				t.Errorf("partDue = %v, want %v", got, tc.want)
			}
		})
	}
}
