package mpegts

import "testing"

func TestTimeline(t *testing.T) {
	const w = int64(1) << 33
	for _, tc := range []struct {
		name   string
		in     []int64
		reset  int // index before which Reset is called (-1: never)
		want   []int64
		jumped []bool
	}{
		{"steady", []int64{1000, 4000, 7000}, -1, []int64{1000, 4000, 7000}, []bool{false, false, false}},
		{"wrap", []int64{w - 3000, w - 1, 2999, 5999}, -1, []int64{w - 3000, w - 1, w + 2999, w + 5999}, []bool{false, false, false, false}},
		{"audio slightly behind video", []int64{90000, 87000, 93000}, -1, []int64{90000, 87000, 93000}, []bool{false, false, false}},
		{"small step back across the wrap", []int64{5, w - 100, 200}, -1, []int64{5, -100, 200}, []bool{false, false, false}},
		{"jump forward rebased", []int64{1000, 4000, 4000 + 3600*90000, 4000 + 3600*90000 + 3000}, -1,
			[]int64{1000, 4000, 4000 + 90000, 4000 + 93000}, []bool{false, false, true, false}},
		{"jump back rebased", []int64{900000, 903000, 1000, 4000}, -1,
			[]int64{900000, 903000, 993000, 996000}, []bool{false, false, true, false}},
		{"reset rebases even when continuous", []int64{1000, 4000, 7000, 10000}, 2,
			[]int64{1000, 4000, 94000, 97000}, []bool{false, false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tl Timeline
			for i, raw := range tc.in {
				if i == tc.reset {
					tl.Reset()
				}
				got, j := tl.Convert(raw & (w - 1))
				got -= DefaultMaxJump // the timeline starts MaxJump above the first value
				if got != tc.want[i] || j != tc.jumped[i] {
					t.Errorf("step %d: Convert(%d) = %d, %v; want %d, %v", i, raw, got, j, tc.want[i], tc.jumped[i])
				}
			}
		})
	}
}
