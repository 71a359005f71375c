package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// partKey names an LL-HLS part.
type partKey struct{ msn, i int }

// listing is when something was first seen listed, and the input DTS of its
// first video frame (from the fMP4's tfdt).
type listing struct {
	listedAt time.Time
	base90   int64 // video base time of the part, 90 kHz; -1 until fetched
}

// poller follows a rendition like an LL-HLS player: blocking playlist
// reloads on the preload hint, so each part is seen the moment it is listed.
type poller struct {
	base   string // http://host/live/<stream>/source/
	client *http.Client

	mu       sync.Mutex
	parts    map[partKey]*listing
	segments map[int]time.Time // classic playlist: MSN → first listed
	firstAt  time.Time         // first playlist response listing a part

	videoTrack int
	timescale  uint32
}

var partURI = regexp.MustCompile(`part(\d+)\.(\d+)\.m4s`)
var segURI = regexp.MustCompile(`seg(\d+)\.ts`)
var partTagRe = regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`)
var hintTagRe = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:[^\n]*URI="([^"]+)"`)

func newPoller(base string) *poller {
	return &poller{
		base:     base,
		client:   &http.Client{Timeout: 15 * time.Second},
		parts:    map[partKey]*listing{},
		segments: map[int]time.Time{},
	}
}

func (p *poller) get(ctx context.Context, path string) ([]byte, int, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+path, nil)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

// followParts runs until ctx ends.
func (p *poller) followParts(ctx context.Context) {
	fetch := make(chan partKey, 4096)
	go p.fetchParts(ctx, fetch)
	next := ""
	for ctx.Err() == nil {
		path := "index.m3u8" + next
		body, code, err := p.get(ctx, path)
		now := time.Now()
		if err != nil || code != 200 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		// Read with regular expressions rather than a playlist parser: a
		// parser that insists on a complete segment would hide the first
		// parts, which are listed before any segment is complete.
		var uris []string
		for _, m := range partTagRe.FindAllSubmatch(body, -1) {
			uris = append(uris, string(m[1]))
		}
		p.mu.Lock()
		for _, u := range uris {
			mm := partURI.FindStringSubmatch(u)
			if mm == nil {
				continue
			}
			msn, _ := strconv.Atoi(mm[1])
			i, _ := strconv.Atoi(mm[2])
			k := partKey{msn, i}
			if _, seen := p.parts[k]; !seen {
				p.parts[k] = &listing{listedAt: now, base90: -1}
				if p.firstAt.IsZero() {
					p.firstAt = now
				}
				select {
				case fetch <- k:
				default:
				}
			}
		}
		p.mu.Unlock()
		if hint := hintTagRe.FindSubmatch(body); hint != nil {
			if mm := partURI.FindStringSubmatch(string(hint[1])); mm != nil {
				next = fmt.Sprintf("?_HLS_msn=%s&_HLS_part=%s", mm[1], mm[2])
				continue
			}
		}
		next = ""
		time.Sleep(10 * time.Millisecond)
	}
}

// fetchParts reads each part's video base time (to find its first frame).
func (p *poller) fetchParts(ctx context.Context, keys <-chan partKey) {
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-keys:
			if p.timescale == 0 && !p.readInit(ctx) {
				continue
			}
			body, code, err := p.get(ctx, fmt.Sprintf("part%d.%d.m4s", k.msn, k.i))
			if err != nil || code != 200 {
				continue
			}
			var parts fmp4.Parts
			if err := parts.Unmarshal(body); err != nil {
				continue
			}
			if len(parts) == 0 {
				continue
			}
			for _, tr := range parts[0].Tracks { // the first fragment starts the part
				if tr.ID == p.videoTrack {
					b := int64(tr.BaseTime) * 90000 / int64(p.timescale)
					p.mu.Lock()
					if p.parts[k].base90 < 0 {
						p.parts[k].base90 = b
					}
					p.mu.Unlock()
				}
			}
		}
	}
}

func (p *poller) readInit(ctx context.Context) bool {
	body, code, err := p.get(ctx, "init.mp4")
	if err != nil || code != 200 {
		return false
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(body)); err != nil {
		return false
	}
	for _, tr := range init.Tracks {
		switch tr.Codec.(type) {
		case *mp4codecs.H264, *mp4codecs.H265:
			p.videoTrack, p.timescale = tr.ID, tr.TimeScale
			return true
		}
	}
	return false
}

// followClassic polls the classic playlist (no blocking reload there) and
// records when each TS segment is first listed.
func (p *poller) followClassic(ctx context.Context, every time.Duration) {
	for ctx.Err() == nil {
		body, code, err := p.get(ctx, "classic.m3u8")
		now := time.Now()
		if err == nil && code == 200 {
			p.mu.Lock()
			for _, mm := range segURI.FindAllSubmatch(body, -1) {
				msn, _ := strconv.Atoi(string(mm[1]))
				if _, seen := p.segments[msn]; !seen {
					p.segments[msn] = now
				}
			}
			p.mu.Unlock()
		}
		time.Sleep(every)
	}
}

// firstListed is when the first part was seen listed.
func (p *poller) firstListed() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstAt
}
