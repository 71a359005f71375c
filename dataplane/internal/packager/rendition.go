package packager

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// graceSegments is how many segments stay fetchable after they leave the
// playlist: a player that loaded the playlist just before may still ask.
const graceSegments = 1

// Rendition is one variant of a stream (the source, or a ladder rung): its
// demuxer, segmenter and playlists.
type Rendition struct {
	muxer               *Muxer
	name                string
	log                 *slog.Logger
	segTicks, partTicks int64

	wmu   sync.Mutex // serialises WriteTS, Discontinuity and close
	demux *mpegts.Demuxer

	mu      sync.Mutex // everything below
	changed chan struct{}
	closed  bool
	stats   Stats

	// input session
	tracks     []*mpegts.Track
	seenParams paramSets // parameter sets met before the session started
	sess       *session  // nil until the first keyframe of a session
	needDisc   bool      // the next segment starts after a discontinuity
	// aligned: a resume matched the leader's segments once, so these
	// numbers are the playlist's (a standby serves them); a resume never
	// moves them back after that.
	aligned     bool
	prevKeyRaw  int64 // raw DTS of the previous keyframe (cut rule)
	havePrevKey bool
	// The next keyframe is expected keyInterval after the last one (at
	// DTS lastKeyDTS), and the next part starts at partEnd: together they
	// tell whether the open segment's next part will ever exist (hint).
	keyInterval int64
	lastKeyDTS  int64
	partEnd     int64

	// playlist
	nextMSN         uint64
	discSeq         uint64 // EXT-X-DISCONTINUITY-SEQUENCE of segs[0]
	segs            []*segment
	cur             *segment
	evicted         []*segment // out of the playlist, still fetchable
	lastPDTEnd      time.Time
	curInit         string // name of the current init segment
	curInitData     []byte
	pendingInit     []byte        // the new session's init, until its first segment
	everCut         bool          // a segment was ever started (ladder alignment)
	targetDur       int           // EXT-X-TARGETDURATION, never decreases
	partTarget      time.Duration // PART-TARGET, fixed by the first part
	partTargetTicks int64
	measure         measurement
	// playlistCache holds the rendered classic [0] and LL-HLS [1]
	// playlists until the next change: thousands of viewers' reloads share
	// one rendering.
	playlistCache [2][]byte
	// shift moves the demuxer's timeline onto the leader's (Resume).
	shift int64
	// lastInput is when the last access unit arrived (wall clock), and
	// slate the filler made while the input is quiet (slate.go).
	lastInput time.Time
	slate     slate
	// onPart, when set (benchmarks), runs after each part is published.
	onPart func()
}

func newRendition(s *Muxer, name string) *Rendition {
	r := &Rendition{
		muxer:      s,
		name:       name,
		log:        s.log.With("rendition", name),
		segTicks:   durationToTicks(s.cfg.SegmentDuration),
		partTicks:  durationToTicks(s.cfg.PartDuration),
		changed:    make(chan struct{}),
		targetDur:  targetDuration(s.cfg.SegmentDuration),
		partTarget: s.cfg.PartDuration,
	}
	r.demux = &mpegts.Demuxer{
		OnTracks:     r.onTracks,
		OnAccessUnit: r.onAccessUnit,
		OnError:      r.onDecodeError,
	}
	return r
}

// Name is the rendition's name ("source", "720p", ...).
func (r *Rendition) Name() string { return r.name }

// WriteTS feeds MPEG-TS bytes in any chunking. Garbage and truncated packets
// are counted, logged (rate-limited) and skipped; the error is non-nil only
// once the stream is closed. It never affects other renditions or streams.
func (r *Rendition) WriteTS(p []byte) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.mu.Lock()
	closed := r.closed
	r.stats.BytesIn += uint64(len(p))
	r.mu.Unlock()
	if closed {
		return fmt.Errorf("packager: rendition %s/%s is closed", r.muxer.name, r.name)
	}
	_, err := r.demux.Write(p)
	return err
}

// Discontinuity tells the rendition that its input was cut (publisher gone,
// encoder restart): what was received is published at once, and the next
// segment is marked EXT-X-DISCONTINUITY with a new init segment if needed.
func (r *Rendition) Discontinuity() {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.demux.Reset() // waits for the demuxer goroutine: no callback races below
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endSession()
	r.tracks = nil // idle until the next input's program: nothing to wait for
	r.seenParams = paramSets{}
}

// Listed is the number of complete segments the media playlist lists.
func (r *Rendition) Listed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.segs)
}

// Stats returns the rendition's counters.
func (r *Rendition) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.DecodeErrors = r.demux.DecodeErrors()
	st.Panics = r.demux.Panics()
	return st
}

func (r *Rendition) close() {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.demux.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	var names []string
	for _, s := range append(append(r.evicted, r.segs...), r.cur) {
		if s != nil {
			names = append(names, r.segmentObjects(s)...)
			names = append(names, r.name+"/"+s.initName)
		}
	}
	if r.curInit != "" {
		names = append(names, r.name+"/"+r.curInit)
	}
	r.muxer.store.Delete(names...)
	r.segs, r.evicted, r.cur = nil, nil, nil
	lastDecodeLog.Delete(r)
	r.notifyLocked()
}

var lastDecodeLog sync.Map // rendition → time of its last decode-error log line

func (r *Rendition) onDecodeError(err error) {
	// Rate-limited: a publisher sending garbage must not flood the log.
	t := time.Now()
	if v, ok := lastDecodeLog.Load(r); ok && t.Sub(v.(time.Time)) < 5*time.Second {
		return
	}
	lastDecodeLog.Store(r, t)
	r.log.Warn("bad MPEG-TS input skipped", "err", err, "decode_errors", r.demux.DecodeErrors())
}

func (r *Rendition) notifyLocked() {
	r.playlistCache = [2][]byte{}
	close(r.changed)
	r.changed = make(chan struct{})
}
