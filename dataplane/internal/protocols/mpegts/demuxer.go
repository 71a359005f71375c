package mpegts

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"

	mcmpegts "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mccodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
)

// Demuxer is a push-based MPEG-TS demuxer. Write, Reset and Close must not
// be called concurrently with each other; callbacks run on the demuxer's own
// goroutine, one at a time, in input order.
//
// mediacommon's Reader pulls from an io.Reader and needs the PMT (and the
// first AAC frame) before it can start, so each input session runs it on a
// goroutine fed through an io.Pipe: Write returns once the reader has taken
// all the bytes, which gives natural back-pressure.
type Demuxer struct {
	// OnTracks is called with the supported tracks each time a program is
	// found (at start and after every Reset).
	OnTracks func(tracks []*Track)
	// OnAccessUnit receives every access unit of a supported track.
	OnAccessUnit func(au *AccessUnit)
	// OnError receives non-fatal decode errors (garbage, truncated packets,
	// undecodable PES, a recovered decoder panic).
	OnError func(err error)

	timeline Timeline
	pw       *io.PipeWriter
	done     chan struct{}
	jumped   bool // a Reset happened: flag the next unit

	decodeErrors atomic.Uint64
	panics       atomic.Uint64
	units        atomic.Uint64
	mu           sync.Mutex // guards timeline/jumped between Reset and callbacks
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("mpegts: demuxer closed")

// DecodeErrors counts garbage, truncated packets and undecodable units.
func (d *Demuxer) DecodeErrors() uint64 { return d.decodeErrors.Load() }

// Panics counts recovered panics (in the decoder or in a callback): each is
// a bug to fix, survived so that one stream's input cannot take down others.
func (d *Demuxer) Panics() uint64 { return d.panics.Load() }

// Units counts delivered access units.
func (d *Demuxer) Units() uint64 { return d.units.Load() }

// Write feeds TS bytes in any chunking.
func (d *Demuxer) Write(p []byte) (int, error) {
	written := 0
	for attempt := 0; len(p) > 0; attempt++ {
		if d.pw == nil {
			d.start()
		}
		n, err := d.pw.Write(p)
		written += n
		p = p[n:]
		if err == nil {
			break
		}
		if errors.Is(err, ErrClosed) {
			return written, err
		}
		// The session died (the reader gave up on bad input or panicked):
		// start a new one with the rest of the bytes.
		d.stop()
		if attempt > 3 {
			// Do not spin on one chunk that kills every session.
			d.decodeError(fmt.Errorf("dropped %d bytes after repeated demuxer failures: %w", len(p), err))
			return written + len(p), nil
		}
	}
	return written, nil
}

// Reset ends the current input session: the next bytes are a new input
// (a new publisher or encoder) whose timestamps start a new timeline.
func (d *Demuxer) Reset() {
	d.stop()
	d.mu.Lock()
	d.timeline.Reset()
	d.jumped = true
	d.mu.Unlock()
}

// Close stops the demuxer's goroutine.
func (d *Demuxer) Close() { d.stop() }

func (d *Demuxer) stop() {
	if d.pw == nil {
		return
	}
	d.pw.Close()
	<-d.done
	d.pw, d.done = nil, nil
}

func (d *Demuxer) start() {
	pr, pw := io.Pipe()
	d.pw = pw
	d.done = make(chan struct{})
	go d.run(pr, d.done)
}

func (d *Demuxer) decodeError(err error) {
	d.decodeErrors.Add(1)
	if d.OnError != nil {
		d.OnError(err)
	}
}

func (d *Demuxer) run(pr *io.PipeReader, done chan struct{}) {
	defer close(done)
	err := d.session(pr)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		d.decodeError(err)
	}
	// Unblock a pending Write with the session's fate.
	if err == nil {
		err = io.EOF
	}
	pr.CloseWithError(err)
}

func (d *Demuxer) session(pr io.Reader) (err error) {
	defer func() {
		if v := recover(); v != nil {
			d.panics.Add(1)
			err = fmt.Errorf("mpegts: panic on bad input (recovered): %v\n%s", v, debug.Stack())
		}
	}()
	r := &mcmpegts.Reader{R: pr}
	if err = r.Initialize(); err != nil {
		return fmt.Errorf("mpegts: no usable program: %w", err)
	}
	r.OnDecodeError(d.decodeError)

	var tracks []*Track
	for _, mt := range r.Tracks() {
		t := d.bind(r, mt)
		if t != nil {
			tracks = append(tracks, t)
		}
	}
	if len(tracks) == 0 {
		d.decodeError(fmt.Errorf("mpegts: program has no H.264, H.265, AAC or Opus track"))
	}
	if d.OnTracks != nil {
		d.OnTracks(tracks)
	}
	for {
		if err = r.Read(); err != nil {
			return err
		}
	}
}

// bind registers the callback of one mediacommon track; nil when the codec
// is not supported.
func (d *Demuxer) bind(r *mcmpegts.Reader, mt *mcmpegts.Track) *Track {
	t := &Track{PID: mt.PID}
	switch c := mt.Codec.(type) {
	case *mccodecs.H264:
		t.Codec = CodecH264
		r.OnDataH264(mt, func(pts, dts int64, au [][]byte) error {
			d.video(t, pts, dts, au)
			return nil
		})
	case *mccodecs.H265:
		t.Codec = CodecH265
		r.OnDataH265(mt, func(pts, dts int64, au [][]byte) error {
			d.video(t, pts, dts, au)
			return nil
		})
	case *mccodecs.MPEG4Audio:
		t.Codec = CodecAAC
		cfg := c.Config
		t.AAC = &cfg
		r.OnDataMPEG4Audio(mt, func(pts int64, aus [][]byte) error {
			d.audio(t, pts, aus)
			return nil
		})
	case *mccodecs.Opus:
		t.Codec = CodecOpus
		//lint:ignore SA1019 Desc is nil for some muxers: the channel count is the fallback
		t.OpusChannels = c.ChannelCount
		if c.Desc != nil {
			t.OpusChannels = c.Desc.ChannelCount()
		}
		r.OnDataOpus(mt, func(pts int64, packets [][]byte) error {
			d.audio(t, pts, packets)
			return nil
		})
	default:
		return nil
	}
	return t
}

func (d *Demuxer) video(t *Track, pts, dts int64, au [][]byte) {
	if len(au) == 0 {
		return
	}
	d.mu.Lock()
	out, jumped := d.timeline.Convert(dts)
	outPTS := d.timeline.ConvertRelative(pts)
	jumped = jumped || d.jumped
	d.jumped = false
	d.mu.Unlock()
	if outPTS < out { // PTS before DTS is invalid: keep the unit decodable
		outPTS = out
	}
	d.deliver(&AccessUnit{Track: t, PTS: outPTS, DTS: out, RawDTS: dts & (wrap - 1), Discontinuity: jumped, NALUs: au})
}

func (d *Demuxer) audio(t *Track, pts int64, frames [][]byte) {
	if len(frames) == 0 {
		return
	}
	d.mu.Lock()
	out, jumped := d.timeline.Convert(pts)
	jumped = jumped || d.jumped
	d.jumped = false
	d.mu.Unlock()
	d.deliver(&AccessUnit{Track: t, PTS: out, DTS: out, RawDTS: pts & (wrap - 1), Discontinuity: jumped, Frames: frames})
}

func (d *Demuxer) deliver(au *AccessUnit) {
	d.units.Add(1)
	if d.OnAccessUnit != nil {
		d.OnAccessUnit(au)
	}
}
