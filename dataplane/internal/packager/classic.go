package packager

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	mcmpegts "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
)

// Classic (MPEG-TS) segments are made from the fMP4 segment when first
// asked for, then kept like any segment: a stream whose viewers all use
// LL-HLS holds one copy of its media, not two. The conversion is a pure
// function of the fMP4 bytes, so every node makes the same TS.

// maxAudioPerPES groups consecutive audio frames into one PES, as ffmpeg
// does, to keep the TS overhead down.
const maxAudioPerPES = 6

const tsMask = int64(1)<<33 - 1

type tsSample struct {
	track    *mcmpegts.Track
	video    bool
	h265     bool
	opus     bool
	dts, pts int64 // 90 kHz
	payload  []byte
}

// classicFromFMP4 converts one fMP4 segment, with its init segment, into an
// MPEG-TS segment.
func classicFromFMP4(initData, body []byte) ([]byte, error) {
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(initData)); err != nil {
		return nil, fmt.Errorf("classic segment: init: %w", err)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("classic segment: fMP4: %w", err)
	}
	type trackInfo struct {
		ts        *mcmpegts.Track
		timescale int64
		video     bool
		h265      bool
		opus      bool
	}
	byID := map[int]*trackInfo{}
	var tracks []*mcmpegts.Track
	for _, it := range init.Tracks {
		ti := &trackInfo{timescale: int64(it.TimeScale)}
		switch c := it.Codec.(type) {
		case *mp4codecs.H264:
			ti.ts, ti.video = &mcmpegts.Track{Codec: &tscodecs.H264{}}, true
		case *mp4codecs.H265:
			ti.ts, ti.video, ti.h265 = &mcmpegts.Track{Codec: &tscodecs.H265{}}, true, true
		case *mp4codecs.MPEG4Audio:
			ti.ts = &mcmpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: c.Config}}
		case *mp4codecs.Opus:
			//lint:ignore SA1019 the MPEG-TS Opus codec is still built from the channel count
			ti.ts, ti.opus = &mcmpegts.Track{Codec: &tscodecs.Opus{ChannelCount: c.ChannelCount}}, true
		default:
			continue
		}
		if ti.timescale == 0 {
			return nil, fmt.Errorf("classic segment: track %d has no time scale", it.ID)
		}
		byID[it.ID] = ti
		tracks = append(tracks, ti.ts)
	}
	var samples []tsSample
	for _, p := range parts {
		for _, pt := range p.Tracks {
			ti := byID[pt.ID]
			if ti == nil {
				continue
			}
			t := int64(pt.BaseTime)
			for _, s := range pt.Samples {
				dts := t * 90000 / ti.timescale
				samples = append(samples, tsSample{
					track: ti.ts, video: ti.video, h265: ti.h265, opus: ti.opus,
					dts: dts, pts: dts + int64(s.PTSOffset)*90000/ti.timescale, payload: s.Payload,
				})
				t += int64(s.Duration)
			}
		}
	}
	// Interleave by decode time, as a muxer would.
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].dts < samples[j].dts })

	var buf bytes.Buffer
	buf.Grow(len(body) + len(body)/8)
	w := &mcmpegts.Writer{W: &buf, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		return nil, err
	}
	for i := 0; i < len(samples); {
		s := samples[i]
		if s.video {
			var au h264.AVCC
			if err := au.Unmarshal(s.payload); err != nil {
				return nil, fmt.Errorf("classic segment: %w", err)
			}
			var err error
			if s.h265 {
				err = w.WriteH265(s.track, s.pts&tsMask, s.dts&tsMask, au)
			} else {
				err = w.WriteH264(s.track, s.pts&tsMask, s.dts&tsMask, au)
			}
			if err != nil {
				return nil, err
			}
			i++
			continue
		}
		frames := [][]byte{s.payload}
		j := i + 1
		for ; j < len(samples) && len(frames) < maxAudioPerPES && samples[j].track == s.track; j++ {
			frames = append(frames, samples[j].payload)
		}
		var err error
		if s.opus {
			err = w.WriteOpus(s.track, s.pts&tsMask, frames)
		} else {
			err = w.WriteMPEG4Audio(s.track, s.pts&tsMask, frames)
		}
		if err != nil {
			return nil, err
		}
		i = j
	}
	return buf.Bytes(), nil
}

// classicSegment returns segment msn as MPEG-TS, converting it from fMP4 on
// first use (outside the lock: the segmenter is not held up).
func (r *Rendition) classicSegment(msn uint64) ([]byte, bool) {
	r.mu.Lock()
	seg := r.findSegmentLocked(msn)
	if seg == nil || seg.gap {
		r.mu.Unlock()
		return nil, false
	}
	if seg.ts != nil {
		ts := seg.ts
		r.mu.Unlock()
		return ts, true
	}
	body, initName := seg.fmp4, seg.initName
	r.mu.Unlock()
	init, ok := r.muxer.store.Get(r.name + "/" + initName)
	if !ok {
		return nil, false
	}
	ts, err := classicFromFMP4(init.Data, body)
	if err != nil {
		r.log.Error("classic segment conversion failed", "msn", msn, "err", err)
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.findSegmentLocked(msn) != seg {
		return nil, false // evicted meanwhile: do not leave an orphan object
	}
	if seg.ts == nil {
		seg.ts = ts
		_ = r.muxer.store.Put(r.name+"/"+tsName(msn), ts)
		r.stats.BytesOut += uint64(len(ts))
	}
	return seg.ts, true
}

// findSegmentLocked finds a complete, still fetchable segment.
func (r *Rendition) findSegmentLocked(msn uint64) *segment {
	for _, list := range [][]*segment{r.segs, r.evicted} {
		for _, s := range list {
			if s.msn == msn {
				return s
			}
		}
	}
	return nil
}
