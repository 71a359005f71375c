package recording

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// uploader empties one stream's spool into the bucket, in order: it decides
// which recording each segment belongs to, puts it, keeps the recording's
// playlists, manifests and index entry up to date, and closes it.
type uploader struct {
	rec    *Recorder
	stream string
	log    *slog.Logger

	cur      *open     // the recording being written; nil between recordings
	lastWarn time.Time // of the last failed-upload line (one per loudEvery)
}

// open is a recording being written.
type open struct {
	entry          Entry
	renditions     map[string]*manifest
	inits          map[string]bool // rendition/init sections put
	end            time.Time       // where its media ends so far
	lastCheckpoint time.Time
	dirty          bool // segments put since the last checkpoint
}

func (u *uploader) run(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		e, ready := u.rec.spool.head(u.stream)
		if e == nil {
			select {
			case <-ctx.Done():
				return
			case <-ready:
				continue
			}
		}
		if age := time.Since(e.Spooled); age > u.rec.cfg.SpoolMaxAge {
			u.rec.drop(e, dropAge)
			u.rec.spool.remove(e)
			continue
		}
		if !u.rec.opts.Fence.Valid(u.stream, e.Token) {
			// Another node leads the stream now and writes its recording.
			u.rec.drop(e, dropFenced)
			u.rec.spool.remove(e)
			u.cur = nil // what this node knew of the recording is stale
			continue
		}
		err := u.process(ctx, e)
		if errors.Is(err, errDropped) {
			u.rec.spool.remove(e)
			continue
		}
		if err == nil {
			if e.Kind == kindSegment {
				u.rec.metrics.uploaded.Inc()
				u.rec.metrics.lag.Observe(time.Since(e.Spooled).Seconds())
			}
			u.rec.spool.remove(e)
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		backoff = min(max(2*backoff, 100*time.Millisecond), u.rec.opts.RetryMax)
		if time.Since(u.lastWarn) >= loudEvery {
			// Every failure is counted; a line per stream says it goes on.
			u.lastWarn = time.Now()
			u.log.Warn("recording: upload failed, kept in the spool", "kind", e.Kind, "rendition", e.Rendition,
				"msn", e.MSN, "retry_in", backoff, "spool_entries", u.rec.spool.Len(), "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// errDropped: the entry was dropped (and counted), not uploaded.
var errDropped = errors.New("recording: entry dropped")

func (u *uploader) process(ctx context.Context, e *entry) error {
	if e.Kind == kindClose {
		return u.closeRecording(ctx)
	}
	init, data, err := u.rec.spool.body(e)
	if err != nil {
		u.log.Error("recording: spooled segment unreadable", "err", err)
		u.rec.drop(e, dropUnreadable)
		return errDropped
	}
	seg := e.segment()
	if u.cur != nil && seg.ProgramDateTime.Sub(u.cur.end) > u.rec.cfg.IdleClose {
		// The stream was idle longer than the grace period and no close
		// came through (this node restarted, or the close was dropped).
		if err := u.finish(ctx, u.cur); err != nil {
			return err
		}
		u.cur = nil
	}
	if u.cur == nil {
		if u.cur, err = u.resolve(ctx, seg); err != nil {
			return err
		}
	}
	c, keys, id := u.cur, u.rec.keys, u.cur.entry.ID
	if seg.Init != "" && len(init) > 0 && !c.inits[seg.Rendition+"/"+seg.Init] {
		if err := u.rec.bucket.put(ctx, keys.Init(u.stream, id, seg.Rendition, seg.Init), "video/mp4", init, nil); err != nil {
			return err
		}
		c.inits[seg.Rendition+"/"+seg.Init] = true
	}
	meta := map[string]string{
		"duration": strconv.FormatInt(int64(seg.Duration), 10),
		"pdt":      seg.ProgramDateTime.UTC().Format(time.RFC3339Nano),
		"init":     seg.Init,
	}
	if seg.Discontinuity {
		meta["disc"] = "1"
	}
	if err := u.rec.bucket.put(ctx, keys.Segment(u.stream, id, seg.Rendition, seg.MSN), "video/mp4", data, meta); err != nil {
		return err
	}
	m := c.rendition(seg.Rendition)
	put := manifestSeg{MSN: seg.MSN, Duration: seg.Duration, PDT: seg.ProgramDateTime, Disc: seg.Discontinuity, Init: seg.Init, Size: int64(len(data))}
	m.add(put)
	u.rec.ledger.put(u.stream, id, seg.Rendition, put)
	if len(seg.Codecs) > 0 {
		m.Codecs, m.Resolution, m.FrameRate = seg.Codecs, seg.Resolution, seg.FrameRate
	}
	if end := seg.End(); end.After(c.end) {
		c.end = end
	}
	c.dirty = true
	if time.Since(c.lastCheckpoint) >= u.rec.opts.CheckpointInterval {
		// A failed checkpoint does not fail the segment, which is in the
		// bucket: the next segment or the close tries again.
		if err := u.checkpoint(ctx, c, false); err != nil {
			u.log.Warn("recording: checkpoint failed", "recording", id, "err", err)
		}
	}
	return nil
}

func (c *open) rendition(name string) *manifest {
	m := c.renditions[name]
	if m == nil {
		m = &manifest{Rendition: name}
		c.renditions[name] = m
	}
	return m
}

// resolve finds the recording seg belongs to: the stream's open recording
// in the index when seg continues it within the grace period (this node
// took over from the leader, or restarted), else a new one. An open
// recording that seg does not continue is closed first.
func (u *uploader) resolve(ctx context.Context, seg Segment) (*open, error) {
	idx, err := u.readIndex(ctx)
	if err != nil {
		return nil, err
	}
	if last := lastOpen(idx); last != nil {
		prev, err := u.load(ctx, *last)
		if err != nil {
			return nil, err
		}
		if d := seg.ProgramDateTime.Sub(prev.end); d <= u.rec.cfg.IdleClose && !seg.ProgramDateTime.Before(prev.entry.Start) {
			u.log.Info("recording: continuing", "recording", prev.entry.ID, "segments", prev.segments())
			u.rec.ledger.load(u.stream, prev, true)
			return prev, nil
		}
		if err := u.finish(ctx, prev); err != nil {
			return nil, err
		}
		if idx, err = u.readIndex(ctx); err != nil {
			return nil, err
		}
	}
	id := newID(seg.ProgramDateTime, idx)
	c := &open{
		entry: Entry{ID: id, State: StateRecording, Start: seg.ProgramDateTime.UTC(), End: seg.ProgramDateTime.UTC(),
			Gaps: []Gap{}, URL: URL(u.stream, id)},
		renditions: map[string]*manifest{},
		inits:      map[string]bool{},
		end:        seg.ProgramDateTime,
	}
	// Listed at once, so that the platform sees the recording begin.
	if err := u.saveEntry(ctx, c.entry); err != nil {
		return nil, err
	}
	c.lastCheckpoint = time.Now()
	u.log.Info("recording: started", "recording", id)
	return c, nil
}

func lastOpen(idx *index) *Entry {
	for i := len(idx.Recordings) - 1; i >= 0; i-- {
		if idx.Recordings[i].State == StateRecording {
			return &idx.Recordings[i]
		}
	}
	return nil
}

func (c *open) segments() int {
	n := 0
	for _, m := range c.renditions {
		n += len(m.Segments)
	}
	return n
}

// load reads an open recording back from the bucket: each rendition's
// manifest as last checkpointed, then the segments put after it (listed,
// and read from their metadata).
func (u *uploader) load(ctx context.Context, e Entry) (*open, error) {
	keys, b := u.rec.keys, u.rec.bucket
	c := &open{entry: e, renditions: map[string]*manifest{}, inits: map[string]bool{}, end: e.End, lastCheckpoint: time.Now()}
	folders, err := b.list(ctx, keys.Recording(u.stream, e.ID), "", "/")
	if err != nil {
		return nil, err
	}
	for _, f := range folders {
		if !strings.HasSuffix(f, "/") {
			continue
		}
		name := path.Base(f)
		m := &manifest{Rendition: name}
		body, found, err := b.get(ctx, keys.Manifest(u.stream, e.ID, name))
		if err != nil {
			return nil, err
		}
		if found {
			if err := json.Unmarshal(body, m); err != nil {
				return nil, fmt.Errorf("manifest of %s/%s: %w", e.ID, name, err)
			}
			m.Rendition = name
		}
		m.checkpointed = len(m.Segments)
		after := ""
		if n := len(m.Segments); n > 0 {
			after = keys.Segment(u.stream, e.ID, name, m.Segments[n-1].MSN)
		}
		tail, err := b.list(ctx, keys.Rendition(u.stream, e.ID, name)+"seg", after, "")
		if err != nil {
			return nil, err
		}
		for _, k := range tail {
			msn, ok := ParseSegmentName(path.Base(k))
			if !ok || m.has(msn) {
				continue
			}
			meta, size, err := b.head(ctx, k)
			if err != nil {
				return nil, err
			}
			s, ok := segFromMeta(msn, size, meta)
			if !ok {
				u.log.Warn("recording: segment without its metadata left out", "key", k)
				continue
			}
			m.add(s)
		}
		c.renditions[name] = m
		if _, end, _ := m.span(); end.After(c.end) {
			c.end = end
		}
	}
	c.dirty = true
	return c, nil
}

func segFromMeta(msn uint64, size int64, meta map[string]string) (manifestSeg, bool) {
	d, err1 := strconv.ParseInt(meta["duration"], 10, 64)
	pdt, err2 := time.Parse(time.RFC3339Nano, meta["pdt"])
	if err1 != nil || err2 != nil {
		return manifestSeg{}, false
	}
	return manifestSeg{MSN: msn, Duration: time.Duration(d), PDT: pdt, Disc: meta["disc"] == "1", Init: meta["init"], Size: size}, true
}

// checkpoint writes the recording's manifests and playlists (VOD when
// closing), its multivariant playlist and its index entry.
func (u *uploader) checkpoint(ctx context.Context, c *open, closing bool) error {
	keys, b, id := u.rec.keys, u.rec.bucket, c.entry.ID
	ms := make([]*manifest, 0, len(c.renditions))
	for _, m := range c.renditions {
		ms = append(ms, m)
	}
	sortRenditions(ms)
	var holes []interval
	var start, end time.Time
	var media time.Duration
	for _, m := range ms {
		if len(m.Segments) == 0 {
			continue
		}
		if c.dirty || closing {
			mb, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := b.put(ctx, keys.Manifest(u.stream, id, m.Rendition), "application/json", mb, nil); err != nil {
				return err
			}
			if err := b.put(ctx, keys.Playlist(u.stream, id, m.Rendition), "application/vnd.apple.mpegurl", m.playlist(closing), nil); err != nil {
				return err
			}
			m.checkpointed = len(m.Segments)
		}
		holes = append(holes, m.gaps()...)
		s, e, d := m.span()
		if start.IsZero() || s.Before(start) {
			start = s
		}
		if e.After(end) {
			end = e
		}
		media = max(media, d)
	}
	if mv, ok := multivariant(ms); ok {
		if err := b.put(ctx, keys.Multivariant(u.stream, id), "application/vnd.apple.mpegurl", mv, nil); err != nil {
			return err
		}
	}
	e := c.entry
	if !start.IsZero() {
		e.Start, e.End = start.UTC(), end.UTC()
	}
	e.DurationSeconds = math.Round(media.Seconds()*1000) / 1000
	e.Gaps = mergeGaps(holes)
	if closing {
		e.State = StateReady
	}
	if err := u.saveEntry(ctx, e); err != nil {
		return err
	}
	c.entry = e
	c.dirty = false
	c.lastCheckpoint = time.Now()
	return nil
}

// finish closes recording c as video on demand.
func (u *uploader) finish(ctx context.Context, c *open) error {
	if err := u.checkpoint(ctx, c, true); err != nil {
		return err
	}
	u.rec.ledger.end(u.stream, c.entry.ID)
	var missing float64
	for _, g := range c.entry.Gaps {
		missing += g.Seconds
	}
	u.rec.metrics.closed.Inc()
	u.rec.metrics.gapSeconds.Add(missing)
	u.log.Info("recording: ready", "recording", c.entry.ID, "duration_seconds", c.entry.DurationSeconds,
		"gaps", len(c.entry.Gaps), "gap_seconds", missing, "url", c.entry.URL)
	if u.rec.opts.Ready != nil {
		u.rec.opts.Ready(u.stream, c.entry)
	}
	return nil
}

// closeRecording ends the stream's recording: the one being written, or
// the one the index says is open (this node restarted before closing it).
func (u *uploader) closeRecording(ctx context.Context) error {
	if u.cur == nil {
		idx, err := u.readIndex(ctx)
		if err != nil {
			return err
		}
		last := lastOpen(idx)
		if last == nil {
			return nil
		}
		if u.cur, err = u.load(ctx, *last); err != nil {
			return err
		}
	}
	if err := u.finish(ctx, u.cur); err != nil {
		return err
	}
	u.cur = nil
	return nil
}
