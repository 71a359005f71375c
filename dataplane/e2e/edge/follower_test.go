package edge_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// follower polls a media playlist like a player and checks continuity:
// media sequence never goes back, segments follow each other without gaps
// in EXT-X-PROGRAM-DATE-TIME, and how long the playlist ever stalled.
type follower struct {
	url string

	mu            sync.Mutex
	segs          map[int]segInfo
	lastMSN       int // highest media sequence number seen in a playlist
	newestSeg     int
	lastNew       time.Time
	maxStall      time.Duration
	problems      []string
	discontinuity int
	polls         int
}

type segInfo struct {
	pdt  time.Time
	dur  time.Duration
	disc bool
}

func follow(ctx context.Context, url string) *follower {
	f := &follower{url: url, segs: map[int]segInfo{}, lastMSN: -1, newestSeg: -1}
	go f.run(ctx)
	return f
}

func (f *follower) run(ctx context.Context) {
	client := &http.Client{Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		f.poll(client)
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (f *follower) poll(client *http.Client) {
	resp, err := client.Get(f.url)
	if err != nil {
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		f.problem("unparsable playlist: %v", err)
		return
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		f.problem("not a media playlist")
		return
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	if m.MediaSequence < f.lastMSN {
		f.problems = append(f.problems, fmt.Sprintf("media sequence went back: %d after %d", m.MediaSequence, f.lastMSN))
	}
	f.lastMSN = max(f.lastMSN, m.MediaSequence)
	for i, s := range m.Segments {
		msn := m.MediaSequence + i
		if s.DateTime == nil {
			f.problems = append(f.problems, fmt.Sprintf("segment %d has no EXT-X-PROGRAM-DATE-TIME", msn))
			continue
		}
		info := segInfo{pdt: *s.DateTime, dur: s.Duration, disc: s.Discontinuity}
		if old, seen := f.segs[msn]; seen {
			if !old.pdt.Equal(info.pdt) {
				f.problems = append(f.problems, fmt.Sprintf("segment %d changed its PDT", msn))
			}
			continue
		}
		f.segs[msn] = info
		if info.disc {
			f.discontinuity++
		}
		if msn > f.newestSeg {
			if !f.lastNew.IsZero() {
				f.maxStall = max(f.maxStall, now.Sub(f.lastNew))
			}
			f.lastNew = now
			f.newestSeg = msn
		}
		if prev, ok := f.segs[msn-1]; ok && !info.disc {
			if gap := info.pdt.Sub(prev.pdt.Add(prev.dur)); gap > 300*time.Millisecond || gap < -300*time.Millisecond {
				f.problems = append(f.problems, fmt.Sprintf("PDT gap of %v between segments %d and %d", gap, msn-1, msn))
			}
		}
	}
}

func (f *follower) problem(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

// report summarises what the follower saw.
type report struct {
	segments      int
	newest        int
	maxStall      time.Duration
	sinceNew      time.Duration
	problems      []string
	discontinuity int
}

func (f *follower) report() report {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := report{segments: len(f.segs), newest: f.newestSeg, maxStall: f.maxStall, problems: append([]string(nil), f.problems...), discontinuity: f.discontinuity}
	if !f.lastNew.IsZero() {
		r.sinceNew = time.Since(f.lastNew)
	}
	return r
}
