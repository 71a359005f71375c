package stream

import "time"

// bitrateMeter measures the incoming bitrate over windows of about a second.
type bitrateMeter struct {
	windowStart time.Time
	bytes       int64
	last        int64 // bits per second of the last full window
	lastWrite   time.Time
}

const meterWindow = time.Second

func (m *bitrateMeter) add(n int, now time.Time) {
	if m.windowStart.IsZero() {
		m.windowStart = now
	}
	if el := now.Sub(m.windowStart); el >= meterWindow {
		m.last = m.bytes * 8 * int64(time.Second) / int64(el)
		m.windowStart = now
		m.bytes = 0
	}
	m.bytes += int64(n)
	m.lastWrite = now
}

// rate is the last window's bitrate; a publisher silent for more than two
// windows is reported at 0.
func (m *bitrateMeter) rate(now time.Time) int64 {
	if m.lastWrite.IsZero() || now.Sub(m.lastWrite) > 2*meterWindow {
		return 0
	}
	return m.last
}
