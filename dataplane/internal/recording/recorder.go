// Package recording writes recorded streams to an S3 bucket: every segment
// of every rendition, the init sections, the playlists that reference them
// and a per-stream index of recordings, closed as video on demand when the
// stream goes idle.
//
// Live delivery never waits for it: Write only queues the segment, a spool
// on local disk holds what S3 has not taken yet (bounded in bytes and age),
// and one uploader per stream empties it in order. Uploads are fenced by the
// stream's lease token, and object keys depend only on the stream, the
// recording, the rendition and the media sequence number, so that a leader
// and its standby write the same objects and a takeover neither duplicates
// nor skips a segment.
package recording

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Options are what the node hands the recorder besides its configuration.
type Options struct {
	// Fence says whether an upload may still be made; nil: Unfenced.
	Fence Fence
	// Client reaches the bucket; nil: one from NewClient with the
	// configuration's region and endpoint.
	Client *s3.Client
	Log    *slog.Logger
	// CheckpointInterval is how often an open recording's playlists,
	// manifests and index entry are brought up to date in the bucket; 0:
	// DefaultCheckpointInterval.
	CheckpointInterval time.Duration
	// RetryMax caps the back-off between attempts while S3 fails; 0:
	// DefaultRetryMax.
	RetryMax time.Duration
	// Ready, when set, is told of each recording this node closed as
	// video on demand (the node emits recording.ready with its URL).
	Ready func(stream string, e Entry)
}

// DefaultCheckpointInterval: a successor continuing a recording lists and
// reads the segments put since the last checkpoint, so it stays short; each
// checkpoint rewrites the playlists, so it is not every segment.
const DefaultCheckpointInterval = 30 * time.Second

// DefaultRetryMax bounds how long after S3 comes back the spool starts
// draining.
const DefaultRetryMax = 5 * time.Second

// queueDepth is how many writes may wait for the spool's disk writer before
// new ones are dropped: a burst of every rendition of every stream at once
// fits.
const queueDepth = 256

// Recorder records streams into one bucket.
type Recorder struct {
	cfg     config.Recording
	opts    Options
	keys    Keys
	spool   *Spool
	bucket  *bucket
	metrics *metrics
	log     *slog.Logger
	// ledger is what the rewind playlist serves; nil with rewind off.
	ledger *ledger

	in     chan job
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	streams   map[string]*writerState
	uploaders map[string]*uploader
	lastLoud  map[string]time.Time // last loud log line per drop reason
}

// writerState is what Write knows of a stream: when it last wrote, for the
// idle close.
type writerState struct {
	lastWrite time.Time
	token     uint64
	open      bool // written since the last close
}

// job is one entry on its way to the spool.
type job struct {
	e          *entry
	init, data []byte
}

// New opens the spool (uploading what a previous run left in it) and starts
// the recorder. Close stops it.
func New(cfg config.Recording, opts Options) (*Recorder, error) {
	if !cfg.Enabled() {
		return nil, errors.New("recording: no bucket configured")
	}
	if opts.Fence == nil {
		opts.Fence = Unfenced
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	spool, err := OpenSpool(cfg.SpoolDir, int64(cfg.SpoolMax))
	if err != nil {
		return nil, err
	}
	client := opts.Client
	if client == nil {
		if client, err = NewClient(context.Background(), cfg.Region, cfg.Endpoint); err != nil {
			return nil, fmt.Errorf("recording: S3 client: %w", err)
		}
	}
	r := &Recorder{
		cfg:       cfg,
		opts:      opts,
		keys:      Keys{Prefix: cfg.Prefix},
		spool:     spool,
		metrics:   newMetrics(spool),
		log:       opts.Log.With("component", "recording"),
		in:        make(chan job, queueDepth),
		streams:   map[string]*writerState{},
		uploaders: map[string]*uploader{},
		lastLoud:  map[string]time.Time{},
	}
	r.bucket = &bucket{client: client, name: cfg.Bucket, metrics: r.metrics}
	if cfg.Rewind > 0 {
		r.ledger = newLedger(cfg.Rewind)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(2)
	go r.spoolWriter()
	go r.idleCloser()
	for _, st := range spool.Streams() {
		r.log.Info("uploading what the spool kept from a previous run", "stream", st)
		r.startUploader(st)
	}
	return r, nil
}

// Describe and Collect make the recorder a Prometheus collector of its
// metrics.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range r.metrics.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	for _, c := range r.metrics.collectors() {
		c.Collect(ch)
	}
}

// Write hands one complete segment of stream to the recorder, written while
// this node held the stream's lease with token. It never blocks: when the
// spool is full or its writer behind, the segment is dropped, counted and
// logged, and live delivery goes on.
func (r *Recorder) Write(stream string, token uint64, seg Segment) {
	now := time.Now()
	r.mu.Lock()
	st := r.streams[stream]
	if st == nil {
		st = &writerState{}
		r.streams[stream] = st
	}
	st.lastWrite, st.token, st.open = now, token, true
	r.mu.Unlock()

	e := &entry{
		Kind: kindSegment, Stream: stream, Token: token, Spooled: now,
		Rendition: seg.Rendition, MSN: seg.MSN, Duration: seg.Duration, ProgramDateTime: seg.ProgramDateTime,
		Discontinuity: seg.Discontinuity, Init: seg.Init, InitLen: len(seg.InitData), DataLen: len(seg.Data),
		Codecs: seg.Codecs, Resolution: seg.Resolution, FrameRate: seg.FrameRate,
	}
	// Every entry carries its init section (a kilobyte or two): the
	// uploader decides which recording a segment lands in, and each
	// recording needs its own copy.
	r.enqueue(job{e: e, init: seg.InitData, data: seg.Data})
}

// End closes stream's recording after what was written so far (the stream
// was deleted or its recording switched off).
func (r *Recorder) End(stream string) {
	r.mu.Lock()
	st := r.streams[stream]
	if st == nil || !st.open {
		r.mu.Unlock()
		return
	}
	st.open = false
	token := st.token
	r.mu.Unlock()
	r.enqueueClose(stream, token)
}

func (r *Recorder) enqueueClose(stream string, token uint64) bool {
	return r.enqueue(job{e: &entry{Kind: kindClose, Stream: stream, Token: token, Spooled: time.Now()}})
}

// enqueue reserves room in the spool and queues j for its writer, or drops it.
func (r *Recorder) enqueue(j job) bool {
	j.e.size = int64(len(j.init)+len(j.data)) + entryOverhead
	if !r.spool.reserve(j.e.size) {
		r.drop(j.e, dropSpoolFull)
		return false
	}
	select {
	case r.in <- j:
		return true
	default:
		r.spool.release(j.e.size)
		r.drop(j.e, dropQueueFull)
		return false
	}
}

// loudEvery spaces the error lines of one drop reason: every drop is
// counted, and an operator sees a line at least this often while it lasts.
const loudEvery = 10 * time.Second

// drop counts a segment that will not be recorded and says so loudly.
func (r *Recorder) drop(e *entry, reason string) {
	if e.Kind != kindSegment {
		if reason != dropFenced {
			r.log.Error("recording close dropped: the recording stays open until a node closes it", "stream", e.Stream, "reason", reason)
		}
		return
	}
	r.metrics.dropped.WithLabelValues(reason).Inc()
	r.mu.Lock()
	loud := time.Since(r.lastLoud[reason]) >= loudEvery
	if loud {
		r.lastLoud[reason] = time.Now()
	}
	r.mu.Unlock()
	if loud {
		r.log.Error("recording: segment dropped, the recording will have a gap", "stream", e.Stream,
			"rendition", e.Rendition, "msn", e.MSN, "reason", reason,
			"spool_bytes", r.spool.Bytes(), "spool_max", int64(r.cfg.SpoolMax))
	}
}

// spoolWriter puts queued entries on disk, in the order they were written.
func (r *Recorder) spoolWriter() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case j := <-r.in:
			if err := r.spool.append(j.e, j.init, j.data); err != nil {
				r.spool.release(j.e.size)
				r.log.Error("recording: spool write failed", "dir", r.cfg.SpoolDir, "err", err)
				r.drop(j.e, dropSpoolWrite)
				continue
			}
			r.startUploader(j.e.Stream)
		}
	}
}

// idleCloser closes the recording of every stream that wrote nothing for
// idle_close.
func (r *Recorder) idleCloser() {
	defer r.wg.Done()
	t := time.NewTicker(max(r.cfg.IdleClose/8, 50*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			type due struct {
				stream string
				token  uint64
			}
			var closing []due
			r.mu.Lock()
			for name, st := range r.streams {
				if st.open && now.Sub(st.lastWrite) >= r.cfg.IdleClose {
					closing = append(closing, due{name, st.token})
				}
			}
			r.mu.Unlock()
			for _, d := range closing {
				if r.enqueueClose(d.stream, d.token) {
					r.mu.Lock()
					if st := r.streams[d.stream]; st != nil && now.Sub(st.lastWrite) >= r.cfg.IdleClose {
						st.open = false
					}
					r.mu.Unlock()
				}
			}
		}
	}
}

func (r *Recorder) startUploader(stream string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uploaders[stream] != nil || r.ctx.Err() != nil {
		return
	}
	u := &uploader{rec: r, stream: stream, log: r.log.With("stream", stream)}
	r.uploaders[stream] = u
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		u.run(r.ctx)
	}()
}

// Recordings lists stream's recordings from the bucket's index, oldest
// first (any node can: the index lives in the bucket).
func (r *Recorder) Recordings(ctx context.Context, stream string) ([]Entry, error) {
	u := &uploader{rec: r, stream: stream}
	idx, err := u.readIndex(ctx)
	if err != nil {
		return nil, err
	}
	return idx.Recordings, nil
}

// Drain waits until the spool is empty (everything uploaded or dropped),
// or ctx ends.
func (r *Recorder) Drain(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if len(r.in) == 0 && r.spool.Len() == 0 && r.spool.Bytes() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("recording: %d entries still spooled: %w", r.spool.Len(), ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops the recorder. What is spooled stays on disk for the next run.
func (r *Recorder) Close() {
	r.cancel()
	r.wg.Wait()
	// Writes still queued for the disk writer are given back.
	for {
		select {
		case j := <-r.in:
			r.spool.release(j.e.size)
		default:
			return
		}
	}
}
