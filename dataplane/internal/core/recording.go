package core

// The node's part in recording: each recorded stream's complete segments
// (every rendition, with their init sections) go to the recorder while this
// node leads the stream, fenced by its lease token; recordings are listed on
// the API and played back from the bucket under /vod/.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/events"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/recording"
	recpolicy "github.com/zonecast/zonecast/policies/recording"
)

// recordingNotifier tells the platform about recordings (recording.ready
// with the playback URL, through its webhook). A nil one tells nobody.
type recordingNotifier interface {
	Emit(ctx context.Context, typ, stream string, data map[string]any)
}

// RecordingsRoute lists a stream's recordings.
const RecordingsRoute = "GET /api/v1/streams/{name}/recordings"

// VODRoute serves recordings from the bucket.
const VODRoute = "/vod/{stream}/{id}/{name...}"

// singleEdgeToken fences a single edge's uploads: no other node can lead
// its streams, so its token never changes.
const singleEdgeToken = 1

// newRecorder starts the node's recorder when the configuration has a
// recording bucket; nil otherwise.
func newRecorder(n *Node) (*recording.Recorder, error) {
	if !n.Config.Recording.Enabled() {
		return nil, nil
	}
	rec, err := recording.New(n.Config.Recording, recording.Options{
		Fence: recording.FenceFunc(n.recordingFence),
		Log:   n.Log,
		Ready: n.recordingReady,
	})
	if err != nil {
		return nil, err
	}
	n.Metrics.Registry.MustRegister(rec)
	return rec, nil
}

// recordingToken is this node's token for writing stream's recording, and
// whether it may: a single edge always may, a cluster node while it leads.
func (n *Node) recordingToken(stream string) (uint64, bool) {
	if n.cluster == nil {
		return singleEdgeToken, true
	}
	return n.cluster.coord.LeadingToken(stream)
}

// recordingFence lets an upload through while no term after the one it
// was written in began: a deposed leader's spool is dropped (its successor
// writes the recording), while a leader whose term ended with the stream
// (it released the lease when the publisher left) still uploads what it
// spooled and closes the recording after the idle grace.
//
// Without Redis the answer is unknown; it is asked again for a while
// rather than dropping what may be the only copy, then the entry is dropped
// (counted as fenced).
func (n *Node) recordingFence(stream string, token uint64) bool {
	if n.cluster == nil {
		return token == singleEdgeToken
	}
	deadline := time.Now().Add(recpolicy.FenceUnknownFor)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), n.cluster.timings.LeaseRenew)
		ok, err := n.cluster.coord.TermCurrent(ctx, stream, token)
		cancel()
		if err == nil {
			return ok
		}
		if time.Now().After(deadline) {
			n.Log.Warn("recording: lease token unknown (Redis unreachable); the entry is dropped", "stream", stream, "err", err)
			return false
		}
		time.Sleep(n.cluster.timings.LeaseRenew)
	}
}

func (n *Node) recordingReady(stream string, e recording.Entry) {
	if n.recordingEvents == nil {
		return
	}
	n.recordingEvents.Emit(context.Background(), string(events.RecordingReady), stream, map[string]any{
		"id": e.ID, "url": e.URL, "start": e.Start, "end": e.End,
		"duration_seconds": e.DurationSeconds, "gaps": e.Gaps,
	})
}

// attachRecording gives a stream its recording follower (with the node's
// recorder), switched on or off; setRecord switches it later.
func (n *Node) attachRecording(w *wiring, record bool) {
	if n.recorder == nil {
		return
	}
	seg := n.Config.HLS.SegmentDuration
	r := &streamRecording{
		name: w.stream.Name(), rec: n.recorder, src: w.packager, token: n.recordingToken,
		on: record, next: map[string]uint64{}, stopWithin: recpolicy.StopWithinSegments * seg,
	}
	w.recording = r
	if n.rewind != nil {
		w.media = n.rewind.Wrap(r.name, w.packager, w.packager)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx, max(n.Config.HLS.PartDuration, 50*time.Millisecond))
	}()
	n.OnClose(func() { cancel(); <-done })
}

// SetRecord switches stream's recording on or off (setRecord); false when
// the node has no such stream.
func (n *Node) SetRecord(stream string, on bool) bool {
	w := n.wiring(stream)
	if w == nil {
		return false
	}
	w.setRecord(on)
	return true
}

// setRecord switches the stream's recording on or off (a configuration or
// catalog change). Off: the segment being cut when it is switched off is
// the last one recorded, then the recording is closed. On: recording
// starts with the next segment. A no-op without a recorder.
func (w *wiring) setRecord(on bool) {
	if w.recording != nil {
		w.recording.set(on)
	}
}

// detachRecording is a stream's removal: recording is switched off (the
// segment being cut is the last recorded, then the recording is closed)
// and the follower ends once that is done.
func (w *wiring) detachRecording() {
	if w.recording != nil {
		w.recording.detach()
	}
}

// recordingSource is a stream's packager as recording reads it.
type recordingSource interface {
	RenditionNames() []string
	Completed(rendition string, msn uint64) []packager.Completed
	State() packager.State
}

// recordingSink is the recorder as one stream's follower writes to it.
type recordingSink interface {
	Write(stream string, token uint64, seg recording.Segment)
	End(stream string)
}

// streamRecording follows one stream's packager and writes its complete
// segments to the recorder while this node leads it.
//
// It advances only while it leads: a standby keeps its position where it
// was (the start, or where it last led), so that when it takes over it
// writes everything its window still holds. Numbers the dead leader put
// already are written again under the same keys (harmless, the recording
// lists each number once), and numbers it had not put yet are filled from
// this copy; what neither had is a gap the recording reports.
type streamRecording struct {
	name  string
	rec   recordingSink
	src   recordingSource
	token func(stream string) (uint64, bool)
	// stopWithin bounds how long a switched-off recording waits for the
	// segment being cut to complete (the stream may have stopped).
	stopWithin time.Duration

	mu   sync.Mutex
	on   bool
	next map[string]uint64 // per rendition: the next number to write
	// stop, once switched off, is per rendition the first number not to
	// write; the recording is closed when every rendition reached it, or
	// at stopBy. nil: no stop pending.
	stop   map[string]uint64
	stopBy time.Time
	// detached: the stream is being removed; the follower ends once no
	// stop is pending.
	detached bool
}

// run polls the packager every interval until ctx ends. Polling, rather
// than a callback from the packager, keeps the segmenter's hot path free of
// recording; the packager keeps complete segments for a window and its
// grace, far longer than one interval.
func (r *streamRecording) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if r.poll(time.Now()) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll writes what completed since the last poll; true once the follower
// is detached and done.
func (r *streamRecording) poll(now time.Time) (done bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { done = r.detached && r.stop == nil }()
	if !r.on && r.stop == nil {
		return
	}
	token, leading := r.token(r.name)
	if !leading {
		if r.stop != nil && !now.Before(r.stopBy) {
			r.stop = nil // the leader closes the recording
		}
		return
	}
	for _, name := range r.src.RenditionNames() {
		limit, limited := uint64(0), false
		if r.stop != nil {
			if limit, limited = r.stop[name]; !limited {
				continue // appeared after the switch-off
			}
		}
		for _, c := range r.src.Completed(name, r.next[name]) {
			if limited && c.MSN >= limit {
				break
			}
			r.next[name] = c.MSN + 1
			if c.Gap {
				continue // no media: the recording reports the hole
			}
			r.rec.Write(r.name, token, recording.Segment{
				Rendition: c.Rendition, MSN: c.MSN, Duration: c.Duration, ProgramDateTime: c.ProgramDateTime,
				Discontinuity: c.Discontinuity, Init: c.Init, InitData: c.InitData, Data: c.Data,
				Codecs: c.Codecs, Resolution: c.Resolution, FrameRate: c.FrameRate,
			})
		}
	}
	if r.stop != nil && (r.reachedStop() || !now.Before(r.stopBy)) {
		r.stop = nil
		r.rec.End(r.name)
	}
	return
}

func (r *streamRecording) reachedStop() bool {
	for name, limit := range r.stop {
		if r.next[name] < limit {
			return false
		}
	}
	return true
}

// boundary is, per rendition, the number of the first segment that starts
// after now: the one after the segment being cut.
func (r *streamRecording) boundary() map[string]uint64 {
	st := r.src.State()
	out := make(map[string]uint64, len(st.Renditions))
	for name, rs := range st.Renditions {
		b := rs.NextMSN
		if rs.Open != nil {
			b = rs.Open.MSN + 1
		}
		out[name] = b
	}
	return out
}

func (r *streamRecording) detach() {
	r.set(false)
	r.mu.Lock()
	r.detached = true
	r.mu.Unlock()
}

func (r *streamRecording) set(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.detached {
		return
	}
	if on == r.on {
		return
	}
	r.on = on
	b := r.boundary()
	if on {
		r.stop = nil
		for name, msn := range b {
			r.next[name] = max(r.next[name], msn)
		}
		return
	}
	r.stop, r.stopBy = b, time.Now().Add(r.stopWithin)
}

// recordingsHandler: GET /api/v1/streams/{name}/recordings lists the
// stream's recordings from the bucket's index (any node can answer).
func (n *Node) recordingsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		list, err := n.recorder.Recordings(r.Context(), name)
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			n.Log.Warn("recordings: index unreadable", "stream", name, "err", err)
			http.Error(w, "recordings unavailable: "+err.Error(), http.StatusBadGateway)
			return
		}
		if len(list) == 0 && n.wiring(name) == nil {
			http.Error(w, "no such stream", http.StatusNotFound)
			return
		}
		if list == nil {
			list = []recording.Entry{}
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(list)
	})
}

// vodHandler serves /vod/<stream>/<id>/<name> from the bucket, with the
// packager's headers for recorded media.
func (n *Node) vodHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			packager.ServeError(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := r.PathValue("name")
		body, found, err := n.recorder.VODObject(r.Context(), r.PathValue("stream"), r.PathValue("id"), name)
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			n.Log.Warn("vod: bucket read failed", "path", r.URL.Path, "err", err)
			packager.ServeError(w, "recording unavailable", http.StatusBadGateway)
		case err != nil:
			return
		case !found:
			packager.ServeError(w, "not found", http.StatusNotFound)
		default:
			packager.ServeVOD(w, r, name, body)
		}
	})
}
