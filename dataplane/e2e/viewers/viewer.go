// Package viewers is an LL-HLS viewer written the way hls.js follows a live
// stream, for the viewer fan-out benchmark (make bench-viewers): it tunes in
// with a plain playlist request, takes the init section, starts
// PART-HOLD-BACK behind the newest part, then blocks on the playlist for the
// part each EXT-X-PRELOAD-HINT names (_HLS_msn/_HLS_part) and fetches every
// part the answer lists, in order.
//
// hls.js itself needs a browser; thousands of them do not fit on one
// machine, and what the origin sees (one blocking reload and one part per
// part, per viewer) is the same.
package viewers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// Viewer follows one stream.
type Viewer struct {
	// URL is the stream's multivariant playlist.
	URL string
	// Client fetches; one per viewer, as each browser has its own
	// connections.
	Client *http.Client
	Record Record

	buf bytes.Buffer // the last answer's body, reused: thousands of viewers share two cores
}

// Run follows the stream until ctx ends. Errors are counted and retried
// after a part's pause, as a player would.
func (v *Viewer) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := v.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		v.Record.failed(err)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// follow tunes in and follows until an error.
func (v *Viewer) follow(ctx context.Context) error {
	mediaURL, err := v.variant(ctx)
	if err != nil {
		return err
	}
	m, _, err := v.media(ctx, mediaURL, "")
	if err != nil {
		return err
	}
	if m.Map == nil || m.ServerControl == nil || !m.ServerControl.CanBlockReload || m.PartInf == nil {
		return errors.New("not an LL-HLS playlist (EXT-X-MAP, CAN-BLOCK-RELOAD, EXT-X-PART-INF)")
	}
	if _, err := v.fetch(ctx, mediaURL.ResolveReference(&url.URL{Path: m.Map.URI})); err != nil {
		return err
	}
	parts, err := listedParts(m)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return errors.New("no part listed")
	}
	// Start PART-HOLD-BACK (three part targets) behind the newest part.
	holdBack := 3
	if m.ServerControl.PartHoldBack != nil {
		holdBack = max(1, int(*m.ServerControl.PartHoldBack/m.PartInf.PartTarget))
	}
	start := max(0, len(parts)-holdBack)
	v.Record.mu.Lock()
	v.Record.last = Position{parts[start].pos.MSN, parts[start].pos.Part - 1}
	v.Record.mu.Unlock()
	for {
		if err := v.fetchParts(ctx, mediaURL, parts); err != nil {
			return err
		}
		next, err := hinted(m)
		if err != nil {
			return err
		}
		q := url.Values{"_HLS_msn": {strconv.Itoa(next.MSN)}, "_HLS_part": {strconv.Itoa(next.Part)}}
		var at time.Time
		m, at, err = v.media(ctx, mediaURL, q.Encode())
		if err != nil {
			return err
		}
		if parts, err = listedParts(m); err != nil {
			return err
		}
		v.sample(parts, next, at)
	}
}

// sample records how long after the asked part's availability the
// blocking reload was answered.
func (v *Viewer) sample(parts []part, asked Position, at time.Time) {
	r := &v.Record
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range parts {
		if p.pos == asked {
			r.samples = append(r.samples, Sample{At: at, Extra: at.Sub(p.available)})
			return
		}
	}
	// The hint named the part after a segment's last: the answer holds
	// the next segment's first part instead (same wait, same meaning).
	for _, p := range parts {
		if asked.before(p.pos) {
			r.samples = append(r.samples, Sample{At: at, Extra: at.Sub(p.available)})
			return
		}
	}
	r.misses++
}

// fetchParts fetches, in order, every listed part after the last fetched;
// when the next one has left the playlist, it jumps to the newest.
func (v *Viewer) fetchParts(ctx context.Context, base *url.URL, parts []part) error {
	v.Record.mu.Lock()
	last := v.Record.last
	v.Record.mu.Unlock()
	i := 0
	for i < len(parts) && !last.before(parts[i].pos) {
		i++
	}
	if i == 0 && len(parts) > 0 && last.before(parts[0].pos) && parts[0].pos != (Position{last.MSN, last.Part + 1}) && parts[0].pos != (Position{last.MSN + 1, 0}) {
		v.Record.mu.Lock()
		v.Record.resyncs++
		v.Record.mu.Unlock()
		i = len(parts) - 1
	}
	for ; i < len(parts); i++ {
		n, err := v.fetch(ctx, base.ResolveReference(&url.URL{Path: parts[i].uri}))
		if err != nil {
			return err
		}
		v.Record.mu.Lock()
		v.Record.parts++
		v.Record.bytes += n
		v.Record.last, v.Record.lastAvail = parts[i].pos, parts[i].available
		v.Record.mu.Unlock()
	}
	return nil
}

// variant reads the multivariant playlist and returns its first variant.
func (v *Viewer) variant(ctx context.Context) (*url.URL, error) {
	base, err := url.Parse(v.URL)
	if err != nil {
		return nil, err
	}
	b, _, err := v.get(ctx, base)
	if err != nil {
		return nil, err
	}
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base, err)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok || len(mv.Variants) == 0 {
		return nil, fmt.Errorf("%s: not a multivariant playlist with a variant", base)
	}
	return base.ResolveReference(&url.URL{Path: mv.Variants[0].URI}), nil
}

// media reads a media playlist; at is when its answer arrived.
// get's answers are valid until the next get.
func (v *Viewer) media(ctx context.Context, u *url.URL, query string) (*playlist.Media, time.Time, error) {
	q := *u
	q.RawQuery = query
	b, at, err := v.get(ctx, &q)
	if err != nil {
		return nil, at, err
	}
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		return nil, at, fmt.Errorf("%s: %w", &q, err)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		return nil, at, fmt.Errorf("%s: not a media playlist", &q)
	}
	return m, at, nil
}

func (v *Viewer) fetch(ctx context.Context, u *url.URL) (int64, error) {
	b, _, err := v.get(ctx, u)
	return int64(len(b)), err
}

func (v *Viewer) get(ctx context.Context, u *url.URL) ([]byte, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	v.Record.mu.Lock()
	v.Record.requests++
	v.Record.mu.Unlock()
	res, err := v.Client.Do(req)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer res.Body.Close()
	v.buf.Reset()
	_, err = v.buf.ReadFrom(res.Body)
	b := v.buf.Bytes()
	at := time.Now()
	if err != nil {
		return nil, at, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, at, fmt.Errorf("%s: %s", u, res.Status)
	}
	return b, at, nil
}
