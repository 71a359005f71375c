package recording

import (
	"context"
	"net/http"
	"path"
	"strings"
	"time"
)

// A node that serves a stream it does not upload (the standby of a twin
// pair serves the same playlists as the leader) learns the recorded past
// from the bucket: the open recording once, then every few seconds the
// segments listed after the last it knows. The leader's own uploads feed
// its ledger directly and it never reads.

// follower is one stream's reading of the bucket.
type follower struct {
	busy bool
	last time.Time // of the last read
}

// firstReadWait bounds how long the first rewind request for a stream
// waits for the bucket: long enough to list an open recording, short
// enough that a player tuning in is answered with the live edge when S3
// is slow.
const firstReadWait = 2 * time.Second

// catchUp brings stream's ledger up to date from the bucket unless this
// node uploads the stream; every is how often (less than the live window,
// so that the listed past always meets the live edge).
func (rw *Rewind) catchUp(req *http.Request, stream string, every time.Duration) {
	id, _, local := rw.ledger.tails(stream)
	if time.Since(local) < 3*every {
		return // this node's uploader keeps it
	}
	rw.mu.Lock()
	f := rw.followers[stream]
	if f == nil {
		f = &follower{}
		rw.followers[stream] = f
	}
	if f.busy || time.Since(f.last) < every {
		rw.mu.Unlock()
		return
	}
	f.busy = true
	rw.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		err := rw.rec.readBucket(ctx, stream)
		rw.mu.Lock()
		f.busy, f.last = false, time.Now()
		rw.mu.Unlock()
		if err != nil {
			// At most one line per stream and interval: a slow bucket
			// leaves the rewind playlist with what it had.
			rw.rec.log.Warn("rewind: reading the recording from the bucket failed", "stream", stream, "err", err)
		}
	}()
	if id != "" {
		return // the playlist is served with what is known meanwhile
	}
	t := time.NewTimer(firstReadWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-req.Context().Done():
	}
}

// readBucket updates stream's ledger with what the bucket holds of its open
// recording.
func (r *Recorder) readBucket(ctx context.Context, stream string) error {
	u := &uploader{rec: r, stream: stream, log: r.log.With("stream", stream)}
	idx, err := u.readIndex(ctx)
	if err != nil {
		return err
	}
	e := lastOpen(idx)
	id, last, _ := r.ledger.tails(stream)
	if e == nil {
		if id != "" {
			r.ledger.end(stream, id) // closed: its window went with it
		}
		return nil
	}
	keys, b := r.keys, r.bucket
	if id == e.ID {
		folders, err := b.list(ctx, keys.Recording(stream, id), "", "/")
		if err != nil {
			return err
		}
		known := true
		for _, f := range folders {
			if _, ok := last[path.Base(f)]; strings.HasSuffix(f, "/") && !ok {
				known = false // a rendition started: read it whole below
			}
		}
		if known {
			for name, msn := range last {
				tail, err := b.list(ctx, keys.Rendition(stream, id, name)+"seg", keys.Segment(stream, id, name, msn), "")
				if err != nil {
					return err
				}
				var segs []manifestSeg
				for _, k := range tail {
					n, ok := ParseSegmentName(path.Base(k))
					if !ok {
						continue
					}
					meta, size, err := b.head(ctx, k)
					if err != nil {
						return err
					}
					if s, ok := segFromMeta(n, size, meta); ok {
						segs = append(segs, s)
					}
				}
				r.ledger.merge(stream, id, name, segs)
			}
			return nil
		}
	}
	c, err := u.load(ctx, *e)
	if err != nil {
		return err
	}
	r.ledger.load(stream, c, false)
	return nil
}
