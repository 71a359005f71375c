package mpegts

// Timeline turns the input's 33-bit 90 kHz timestamps into one monotonic
// 64-bit timeline: exact across wrap-around (2^33 ticks, about 26.5 h) and
// rebased across discontinuities (a publisher restart with new timestamps, or
// a jump larger than MaxJump), so that the packager never sees time go back.
//
// It is written by hand rather than using mediacommon's TimeDecoder because
// that one follows a jump backwards instead of rebasing it.
type Timeline struct {
	// MaxJump is the largest step (either way) between consecutive
	// timestamps still taken as continuous, in 90 kHz ticks.
	MaxJump int64

	started bool
	prevRaw int64 // last raw 33-bit timestamp
	unwrap  int64 // unwrapped value of prevRaw
	offset  int64 // added to unwrapped values
	maxOut  int64 // largest output so far
	rebase  bool  // next timestamp starts a new timeline
}

const (
	wrap     = int64(1) << 33
	halfWrap = wrap / 2
	// DefaultMaxJump is 10 s: far beyond audio/video interleaving skew.
	DefaultMaxJump = 10 * 90000
	// rebaseGap is where a new timeline starts after the largest output so
	// far: 1 s, more than any audio/video skew of the new input, so that no
	// track of the new input overlaps the old one.
	rebaseGap = 90000
)

// Reset makes the next timestamp start a new timeline just after the last
// one (an explicit discontinuity).
func (t *Timeline) Reset() { t.rebase = true }

// Convert maps a raw 33-bit timestamp to the monotonic timeline. jumped
// reports that this timestamp starts a new timeline (Reset or a jump).
func (t *Timeline) Convert(raw int64) (out int64, jumped bool) {
	raw &= wrap - 1
	maxJump := t.MaxJump
	if maxJump <= 0 {
		maxJump = DefaultMaxJump
	}
	if !t.started {
		// The timeline starts MaxJump above the first raw value, so that
		// no unit accepted as continuous (at most MaxJump earlier) is
		// negative: fMP4 decode times are unsigned.
		t.started = true
		t.prevRaw, t.unwrap = raw, raw
		t.offset = maxJump
		t.maxOut = raw + maxJump
		t.rebase = false
		return t.maxOut, false
	}
	diff := (raw - t.prevRaw) & (wrap - 1)
	if diff >= halfWrap {
		diff -= wrap // a step backwards
	}
	if t.rebase || diff > maxJump || diff < -maxJump {
		t.rebase = false
		t.prevRaw, t.unwrap = raw, raw
		t.offset = t.maxOut + rebaseGap - raw
		t.maxOut += rebaseGap
		return t.maxOut, true
	}
	t.prevRaw = raw
	t.unwrap += diff
	out = t.unwrap + t.offset
	if out > t.maxOut {
		t.maxOut = out
	}
	return out, false
}

// ConvertRelative maps a raw timestamp that belongs with the one last
// converted (such as a PTS beside its DTS) without moving the reference.
func (t *Timeline) ConvertRelative(raw int64) int64 {
	raw &= wrap - 1
	diff := (raw - t.prevRaw) & (wrap - 1)
	if diff >= halfWrap {
		diff -= wrap
	}
	return t.unwrap + diff + t.offset
}
