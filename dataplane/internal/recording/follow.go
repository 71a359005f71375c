package recording

import (
	"context"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// Source is a stream's packager as the recorder reads it.
type Source interface {
	RenditionNames() []string
	Completed(rendition string, msn uint64) []packager.Completed
}

// Follow writes stream's complete segments to the recorder as src
// publishes them, polling every interval, until ctx ends. token is the
// node's lease token of the stream at the time. It starts with everything
// src still holds: a standby that takes over uploads the segments its
// window has, the same numbers the leader may have put already.
//
// Polling, rather than a callback from the packager, keeps the segmenter's
// hot path free of the recorder; one poll per interval costs a lock and a
// walk over the window per rendition.
func (r *Recorder) Follow(ctx context.Context, stream string, src Source, token func() uint64, interval time.Duration) {
	next := map[string]uint64{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, name := range src.RenditionNames() {
			for _, c := range src.Completed(name, next[name]) {
				next[name] = c.MSN + 1
				if c.Gap {
					continue // no media: the recording reports the hole
				}
				r.Write(stream, token(), Segment{
					Rendition: c.Rendition, MSN: c.MSN, Duration: c.Duration, ProgramDateTime: c.ProgramDateTime,
					Discontinuity: c.Discontinuity, Init: c.Init, InitData: c.InitData, Data: c.Data,
					Codecs: c.Codecs, Resolution: c.Resolution, FrameRate: c.FrameRate,
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
