package transcode

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Settings are what every Transcoder of a node shares (the Manager fills
// them from the configuration and the probe).
type Settings struct {
	FFmpeg       string // resolved executable
	Encoder      ProbeResult
	Preset       string
	VAAPIDevice  string
	Ladder       config.Ladder
	AudioAlways  bool // re-encode AAC too
	AudioBitrate int
	Segment      time.Duration // the packager's segment duration (the keyframe grid)
	StallTimeout time.Duration
	StartTimeout time.Duration
	MaxLag       time.Duration
	RestartMin   time.Duration
	RestartMax   time.Duration
	// BehindLimit consecutive restarts for falling behind demote the stream
	// to source-only for DemoteFor (0: never demote): a node that cannot
	// carry a ladder in real time must not restart it forever.
	BehindLimit int
	DemoteFor   time.Duration
	QueueBytes  int
	// Backpressure makes WriteTS wait for room instead of dropping: only
	// for benchmarks that feed a file as fast as ffmpeg takes it (ingest
	// must never wait, so production leaves it off).
	Backpressure bool
}

// Causes of an ffmpeg run's end (metric label values).
const (
	CauseExit          = "exit"          // ffmpeg exited on its own
	CauseStall         = "stall"         // no output for stall_timeout while input flowed
	CauseStart         = "start"         // no first output within start_timeout
	CauseBehind        = "behind"        // output more than max_lag behind input
	CauseSpawn         = "spawn"         // ffmpeg could not be started
	CauseDiscontinuity = "discontinuity" // the source was cut (publisher gone/replaced): fresh start, no back-off
	CauseClosed        = "closed"
)

// failureCauses are the causes counted as restarts.
var failureCauses = []string{CauseExit, CauseStall, CauseStart, CauseBehind, CauseSpawn}

// chunk is a transcoder-owned copy of source TS (whole packets only).
type chunk struct {
	data  []byte
	key   keyframe // the first keyframe start in data (At -1: none)
	psi   []byte
	epoch uint64
}

// Transcoder runs the ladder of one stream. It is a stream.Sink:
// WriteTS and Discontinuity are called from one goroutine, never block and
// never fail the caller.
type Transcoder struct {
	name  string
	set   Settings
	out   Outputs
	slots slots
	log   *slog.Logger

	// Ingest side. Two callers may write: the stream's subscription (a
	// local publisher) and, on a cluster standby, the relay; they take
	// turns, and each turn only scans and queues.
	inMu sync.Mutex
	scan *tsScanner

	epoch     atomic.Uint64
	queue     chan chunk
	queued    atomic.Int64 // bytes in queue
	accepting atomic.Bool
	lastInput atomic.Int64 // unix nanos of the last WriteTS
	inPTS     atomic.Int64 // latest source video PTS
	inPTSOK   atomic.Bool

	srcMu    sync.Mutex
	src      SourceInfo
	srcEpoch uint64
	srcOK    bool

	discCh    chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	finished  chan struct{}

	// Counters and state for metrics and Status.
	droppedBytes atomic.Uint64 // input lost because ffmpeg did not keep up
	skippedBytes atomic.Uint64 // input ignored while no ffmpeg ran (back-off, over capacity)
	restarts     sync.Map      // cause → *atomic.Uint64
	running      atomic.Bool
	pid          atomic.Int64 // ffmpeg's pid while it runs
	sourceOnly   atomic.Bool
	demotions    atomic.Uint64 // times the ladder was dropped for not keeping real time
	lagNanos     atomic.Int64
	clock        atomic.Pointer[outputClock] // the current run's output times (health.go)
	onFailure    atomic.Pointer[func(cause string)]

	// The source's keyframe interval, measured once per epoch (supervisor only).
	gop      int64
	gopEpoch uint64
	gopKnown bool

	stMu      sync.Mutex
	outputs   []Output
	state     string
	lastCause string
	args      []string
	sinks     map[string]Sink
}

// Status is a snapshot of a transcoder for the API, metrics and tests.
type Status struct {
	Stream       string
	State        string // waiting, running, backoff, source-only
	Source       SourceInfo
	Outputs      []Output
	Running      bool
	PID          int // ffmpeg's, while running
	SourceOnly   bool
	Demotions    uint64 // times the ladder was dropped for not keeping real time
	Restarts     map[string]uint64
	LastCause    string
	DroppedBytes uint64
	SkippedBytes uint64
	Lag          time.Duration
	Args         []string // ffmpeg's command line of the current (or last) run
}

// NewTranscoder starts a transcoder outside a Manager (benchmarks, tools):
// set must name a probed encoder and c is the capacity it draws from.
func NewTranscoder(name string, set Settings, out Outputs, c *Capacity, log *slog.Logger) *Transcoder {
	if log == nil {
		log = slog.Default()
	}
	return newTranscoder(name, set, out, c, log)
}

// newTranscoder starts the supervisor of one stream.
func newTranscoder(name string, set Settings, out Outputs, s slots, log *slog.Logger) *Transcoder {
	queueChunks := set.QueueBytes / 1316
	if queueChunks < 64 {
		queueChunks = 64
	}
	t := &Transcoder{
		name:     name,
		set:      set,
		out:      out,
		slots:    s,
		log:      log.With("stream", name),
		scan:     newTSScanner(),
		queue:    make(chan chunk, queueChunks),
		discCh:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
		sinks:    map[string]Sink{},
		state:    "waiting",
	}
	for _, c := range failureCauses {
		t.restarts.Store(c, new(atomic.Uint64))
	}
	t.scan.onKeyHead = t.onKeyHead
	// Accept from birth: the supervisor's first wait for a keyframe drains
	// the queue, and nothing written before it starts is skipped.
	t.accepting.Store(true)
	go t.supervise()
	return t
}

// WriteTS copies the chunk into the transcoder's bounded queue. It never
// blocks: when ffmpeg does not keep up, the chunk is dropped and counted.
func (t *Transcoder) WriteTS(p []byte) error {
	t.inMu.Lock()
	defer t.inMu.Unlock()
	t.lastInput.Store(time.Now().UnixNano())
	accepting := t.accepting.Load()
	var buf []byte
	if accepting {
		buf = make([]byte, 0, len(p)+tsPacketSize)
	}
	data, key := t.scan.scan(p, buf, accepting)
	if t.scan.havePTS {
		t.inPTS.Store(t.scan.videoPTS)
		t.inPTSOK.Store(true)
	}
	if !accepting {
		t.skippedBytes.Add(uint64(len(p)))
		return nil
	}
	if len(data) == 0 {
		return nil
	}
	c := chunk{data: data, key: key, epoch: t.epoch.Load()}
	if key.At >= 0 {
		c.psi = append(append([]byte(nil), t.scan.pat...), t.scan.pmt...)
	}
	if t.set.Backpressure {
		select {
		case t.queue <- c:
			t.queued.Add(int64(len(data)))
		case <-t.done:
		}
		return nil
	}
	if t.queued.Load()+int64(len(data)) > int64(t.set.QueueBytes) {
		t.droppedBytes.Add(uint64(len(data)))
		return nil
	}
	select {
	case t.queue <- c:
		t.queued.Add(int64(len(data)))
	default:
		t.droppedBytes.Add(uint64(len(data)))
	}
	return nil
}

// Discontinuity: the source was cut (publisher gone or replaced). ffmpeg is
// restarted on the new input, whose size is read again.
func (t *Transcoder) Discontinuity() {
	t.inMu.Lock()
	defer t.inMu.Unlock()
	t.scan = newTSScanner()
	t.scan.onKeyHead = t.onKeyHead
	t.inPTSOK.Store(false)
	t.epoch.Add(1)
	select {
	case t.discCh <- struct{}{}:
	default:
	}
}

// onKeyHead runs on the ingest goroutine for each keyframe's head.
func (t *Transcoder) onKeyHead(head []byte, streamType byte) {
	info, ok := parseKeyHead(head, streamType)
	if !ok {
		return
	}
	info.HasAudio = t.scan.audioPID >= 0
	info.AudioAAC = t.scan.audioType == streamTypeAAC
	t.srcMu.Lock()
	t.src, t.srcOK, t.srcEpoch = info, true, t.epoch.Load()
	t.srcMu.Unlock()
}

// source returns the source's description if it was read in the current epoch.
func (t *Transcoder) source() (SourceInfo, bool) {
	t.srcMu.Lock()
	defer t.srcMu.Unlock()
	return t.src, t.srcOK && t.srcEpoch == t.epoch.Load()
}

// Close stops ffmpeg and releases the capacity the stream held.
func (t *Transcoder) Close() {
	t.closeOnce.Do(func() { close(t.done) })
	<-t.finished
}

// Status returns a snapshot.
func (t *Transcoder) Status() Status {
	src, _ := t.source()
	st := Status{
		Stream:       t.name,
		Source:       src,
		Running:      t.running.Load(),
		PID:          int(t.pid.Load()),
		SourceOnly:   t.sourceOnly.Load(),
		Demotions:    t.demotions.Load(),
		Restarts:     map[string]uint64{},
		DroppedBytes: t.droppedBytes.Load(),
		SkippedBytes: t.skippedBytes.Load(),
		Lag:          time.Duration(t.lagNanos.Load()),
	}
	t.restarts.Range(func(k, v any) bool {
		st.Restarts[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	t.stMu.Lock()
	st.State, st.LastCause = t.state, t.lastCause
	st.Outputs = append([]Output(nil), t.outputs...)
	st.Args = append([]string(nil), t.args...)
	t.stMu.Unlock()
	return st
}

func (t *Transcoder) setState(s string) {
	t.stMu.Lock()
	t.state = s
	t.stMu.Unlock()
}

// supervise is the stream's one long-lived goroutine: wait for a keyframe
// and the source's size, run ffmpeg, restart it with back-off.
func (t *Transcoder) supervise() {
	defer close(t.finished)
	holding := false
	defer func() {
		t.accepting.Store(false)
		if holding {
			t.slots.Release()
		}
	}()
	backoff := t.set.RestartMin
	behindRun := 0 // consecutive runs that ended for falling behind
	warnedCapacity, warnedSmall := false, false
	for {
		t.setState("waiting")
		t.accepting.Store(true)
		pending, ok := t.awaitStart()
		if !ok {
			return
		}
		src, _ := t.source()
		outputs := SelectOutputs(t.set.Ladder, src)
		if len(outputs) == 0 {
			if !warnedSmall {
				t.log.Warn("source is smaller than every rung of the ladder: publishing the source rendition only", "source", src.String())
				warnedSmall = true
			}
			t.sourceOnly.Store(true)
			if !t.idle(0) {
				return
			}
			continue
		}
		if !holding {
			if !t.slots.TryAcquire() {
				if !warnedCapacity {
					t.log.Warn("transcode capacity exhausted: stream published source-only until a ladder slot frees", "source", src.String())
					warnedCapacity = true
				}
				t.sourceOnly.Store(true)
				t.setState("source-only")
				if !t.idle(5 * time.Second) {
					return
				}
				continue
			}
			holding = true
			if warnedCapacity {
				t.log.Info("transcode capacity available again: starting the ladder")
			}
		}
		t.sourceOnly.Store(false)
		plan := Plan{
			Candidate:    candidateOf(t.set.Encoder),
			Scaler:       t.set.Encoder.Scaler,
			Preset:       t.set.Preset,
			VAAPIDevice:  t.set.VAAPIDevice,
			Source:       src,
			Outputs:      outputs,
			AudioCopy:    src.AudioAAC && !t.set.AudioAlways,
			AudioBitrate: t.set.AudioBitrate,
			Grid: gridParams{
				Segment:  t.set.Segment,
				FirstPTS: pending[0].key.PTS,
				GOP:      t.gop,
				Delta:    ptsDiff(pending[0].key.PTS, pending[0].key.DTS),
			},
		}
		t.stMu.Lock()
		t.outputs = outputs
		t.stMu.Unlock()
		started := time.Now()
		cause := t.runOnce(plan, pending)
		t.stMu.Lock()
		t.lastCause = cause
		t.stMu.Unlock()
		switch cause {
		case CauseClosed:
			return
		case CauseDiscontinuity:
			// The publisher went away or was replaced: give the ladder slot
			// back, so that an idle stream does not hold one; the next
			// start takes one again (or runs source-only).
			t.slots.Release()
			holding = false
			backoff = t.set.RestartMin
			continue
		}
		if v, ok := t.restarts.Load(cause); ok {
			v.(*atomic.Uint64).Add(1)
		}
		if time.Since(started) > 30*time.Second {
			backoff = t.set.RestartMin
		}
		if cause == CauseBehind {
			behindRun++
		} else {
			behindRun = 0
		}
		if t.set.BehindLimit > 0 && behindRun >= t.set.BehindLimit {
			t.log.Warn("ffmpeg cannot keep real time: stream published source-only, ladder slot freed",
				"behind_restarts", behindRun, "retry_in", t.set.DemoteFor)
			t.slots.Release()
			holding = false
			behindRun = 0
			backoff = t.set.RestartMin
			t.sourceOnly.Store(true)
			t.demotions.Add(1)
			t.setState("source-only")
			t.failed(CauseDemoted)
			// A new publisher (discontinuity) ends the demotion early: its
			// source may be smaller.
			if !t.idle(t.set.DemoteFor) {
				return
			}
			continue
		}
		t.setState("backoff")
		t.log.Warn("ffmpeg restarting after back-off", "cause", cause, "backoff", backoff)
		if !t.idle(backoff) {
			return
		}
		backoff = min(2*backoff, t.set.RestartMax)
	}
}

// idle stops accepting input and waits for d (0: until a discontinuity),
// a discontinuity or Close. It reports false on Close.
func (t *Transcoder) idle(d time.Duration) bool {
	t.accepting.Store(false)
	t.drain()
	var timer <-chan time.Time
	if d > 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		timer = tm.C
	}
	select {
	case <-t.done:
		return false
	case <-t.discCh:
	case <-timer:
	}
	t.drain()
	return true
}

// drain empties the queue.
func (t *Transcoder) drain() {
	for {
		select {
		case c := <-t.queue:
			t.queued.Add(-int64(len(c.data)))
		default:
			return
		}
	}
}

// awaitStart discards input up to a keyframe of the current epoch, then
// keeps what follows until the source's SPS has been read and, at the
// first start of an epoch, the source's GOP measured (three keyframes, or
// 2·segment+1 s at most). It returns the chunks to feed first, the first
// one starting with PAT, PMT and the keyframe.
func (t *Transcoder) awaitStart() ([]chunk, bool) {
	var pending []chunk
	var keys []int64
	var firstAt time.Time
	size := 0
	gopWait := 2*t.set.Segment + time.Second
	for {
		select {
		case <-t.done:
			return nil, false
		case <-t.discCh:
			pending, keys, size = nil, nil, 0
			continue
		case c := <-t.queue:
			t.queued.Add(-int64(len(c.data)))
			epoch := t.epoch.Load()
			if c.epoch != epoch {
				continue
			}
			if len(pending) == 0 {
				if c.key.At < 0 {
					continue
				}
				c.data = append(c.psi, c.data[c.key.At:]...)
				c.key.At = len(c.psi)
				firstAt = time.Now()
			}
			if c.key.At >= 0 {
				keys = append(keys, c.key.PTS)
			}
			pending = append(pending, c)
			size += len(c.data)
			_, srcOK := t.source()
			measured := t.gopEpoch == epoch && t.gopKnown
			if srcOK && !measured && (len(keys) >= 3 || time.Since(firstAt) > gopWait) {
				t.gop, t.gopEpoch, t.gopKnown = regularGOP(keys), epoch, true
				t.log.Info("source keyframe interval", "gop_ms", t.gop/90, "regular", t.gop > 0)
				measured = true
			}
			if srcOK && measured {
				return pending, true
			}
			if size > startBufferMax {
				// No SPS in this much after a keyframe: wait for the next one.
				t.log.Warn("no decodable SPS after a keyframe; waiting for the next", "bytes", size)
				pending, keys, size = nil, nil, 0
			}
		}
	}
}

// startBufferMax bounds what awaitStart keeps while it reads the SPS and
// measures the GOP (2·segment+1 s of source at most: 32 MiB is 50 Mb/s).
const startBufferMax = 32 << 20

// regularGOP returns the keyframe interval (90 kHz) if the keyframes seen
// are evenly spaced (within a millisecond), else 0.
func regularGOP(keys []int64) int64 {
	if len(keys) < 3 {
		return 0
	}
	d1, d2 := ptsDiff(keys[1], keys[0]), ptsDiff(keys[2], keys[1])
	if d1 <= 0 || d1-d2 > 90 || d2-d1 > 90 {
		return 0
	}
	return d1
}

func candidateOf(r ProbeResult) Candidate {
	c, ok := LookupCandidate(r.Encoder)
	if !ok {
		c, _ = LookupCandidate("libx264")
	}
	return c
}
