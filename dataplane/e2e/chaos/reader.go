package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Reader follows a stream's LL-HLS media playlist and records what a
// viewer would see. Straight at the nodes (NewReader) it stands for a
// player behind a CDN origin group that caches nothing: it asks the first
// node of the list and fails over to the next on a connection failure, a
// 5xx or a 404 (a node with no role answered 404 before the viewer proxy).
// Through a CDN (NewCDNReader) it is an LL-HLS player: the CDN fails over,
// the reader asks for the next part with blocking reloads and fetches every
// part and segment the playlists name.
type Reader struct {
	origins   func() []*Node
	part      time.Duration
	segment   time.Duration
	rendition string // the media playlist followed: "source" or a ladder rung ("160p")
	header    http.Header
	// via is the CDN's base URL (http://host:port); empty: the nodes.
	via string

	mu        sync.Mutex
	segs      map[uint64]segInfo // by media sequence number, first seen
	lastMSN   uint64             // highest EXT-X-MEDIA-SEQUENCE seen
	lastMSNAt time.Time          // when it was first seen
	msnBack   []string
	mismatch  []string
	reported  map[uint64]bool
	lastPos   uint64 // live edge of the newest playlist: in-progress MSN × 1e6 + its parts
	lastAdv   time.Time
	maxStall  time.Duration
	stallAt   time.Time
	polls     int
	failovers int
	servedBy  map[string]int
	started   time.Time

	fetched     map[string]bool // media URIs asked for through the CDN
	unfetchable []string
	refusals    []string // the first playlist answers through the CDN that were not 200
}

type segInfo struct {
	uri      string
	dur      float64
	pdt      time.Time
	disc     bool
	fromNode string
}

// NewReader prepares a reader of the "source" rendition.
func NewReader(origins func() []*Node, part, segment time.Duration) *Reader {
	return NewRenditionReader(origins, part, segment, "source")
}

// NewRenditionReader prepares a reader of one rendition's media playlist
// (/live/<stream>/<rendition>/index.m3u8).
func NewRenditionReader(origins func() []*Node, part, segment time.Duration, rendition string) *Reader {
	return &Reader{origins: origins, part: part, segment: segment, rendition: rendition, header: http.Header{},
		segs: map[uint64]segInfo{}, servedBy: map[string]int{}, fetched: map[string]bool{}}
}

// NewCDNReader follows the "source" rendition through the CDN at base
// (http://host:port) as an LL-HLS player does (hls.js in low-latency mode):
// each playlist request after the first is a blocking reload for the part
// after the newest it has seen, and every part, segment and init section a
// playlist names is fetched once (twice, a part apart, before it counts as
// unfetchable, as a player retries).
func NewCDNReader(base string, part, segment time.Duration) *Reader {
	r := NewReader(nil, part, segment)
	r.via = base
	return r
}

// SetHeader adds a header to every request (the origin secret, straight at
// nodes that require it). Call it before Run.
func (r *Reader) SetHeader(key, value string) { r.header.Set(key, value) }

// viewerTimeout is how long a player behind the CDN waits for a playlist
// (hls.js's default levelLoadingTimeOut): the CDN's own failover, a second
// per frozen origin, happens within it.
const viewerTimeout = 10 * time.Second

// Run asks for the playlist every half part until ctx ends. Requests do not
// wait for each other: like the CDN's many viewers (or one LL-HLS player's
// blocking reloads), a request that waits out a frozen origin does not hold
// back the next one, and each fails over on its own, as CloudFront's origin
// group does per request.
func (r *Reader) Run(ctx context.Context) {
	// Like the CDN's origin group: an origin that has not answered within
	// the policy's origin response timeout is skipped for the next one.
	client := &http.Client{Timeout: failover.DefaultTimings.OriginResponseTimeout}
	if r.via != "" {
		client = &http.Client{Timeout: viewerTimeout}
	}
	r.mu.Lock()
	r.started = time.Now()
	r.mu.Unlock()
	inFlight := make(chan struct{}, 32)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case inFlight <- struct{}{}:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inFlight }()
			r.poll(ctx, client)
		}()
		select {
		case <-ctx.Done():
		case <-time.After(r.part / 2):
		}
	}
}

func (r *Reader) poll(ctx context.Context, client *http.Client) {
	if r.via != "" {
		r.pollCDN(ctx, client)
		return
	}
	for i, n := range r.origins() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.HTTP+"/live/"+StreamName+"/"+r.rendition+"/index.m3u8", nil)
		req.Header = r.header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		r.observe(n.ID, string(body), i > 0)
		return
	}
	r.observe("", "", true)
}

// pollCDN asks the CDN for the next part's playlist (a blocking reload;
// the first request, with nothing seen yet, is a plain one) and fetches the
// media it names that was never asked for.
func (r *Reader) pollCDN(ctx context.Context, client *http.Client) {
	dir := r.via + "/live/" + StreamName + "/" + r.rendition + "/"
	r.mu.Lock()
	query, known := "", r.lastMSN
	if r.lastPos > 0 {
		// lastPos is the in-progress segment's number and its parts: the
		// part after them is the next to wait for.
		query = fmt.Sprintf("?_HLS_msn=%d&_HLS_part=%d", r.lastPos/1_000_000, r.lastPos%1_000_000)
	}
	r.mu.Unlock()
	body, code, err := get(ctx, client, dir+"index.m3u8"+query)
	if err != nil || code != http.StatusOK {
		r.mu.Lock()
		if len(r.refusals) < maxRefusals {
			r.refusals = append(r.refusals, fmt.Sprintf("%s index.m3u8%s: %d %v %.60q", time.Now().Format("15:04:05.000"), query, code, err, body))
		}
		r.mu.Unlock()
		r.observe("", "", true)
		return
	}
	// An answer may arrive after a newer one (a cached answer to a request
	// made just before the newer was seen); going back is an answer older
	// than what was known when its request was made.
	if msn, ok := mediaSequence(body); ok && msn < known {
		r.mu.Lock()
		r.msnBack = append(r.msnBack, fmt.Sprintf("%s cdn: media sequence %d for index.m3u8%s, asked after %d", time.Now().Format("15:04:05.000"), msn, query, known))
		r.mu.Unlock()
	}
	r.observe("cdn", body, false)
	var fresh []string
	r.mu.Lock()
	for _, uri := range mediaURIs(body) {
		if !r.fetched[uri] {
			r.fetched[uri] = true
			fresh = append(fresh, uri)
		}
	}
	r.mu.Unlock()
	for _, uri := range fresh {
		_, code, err := get(ctx, client, dir+uri)
		if err == nil && code == http.StatusOK {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.part):
		}
		if _, code2, err := get(ctx, client, dir+uri); ctx.Err() == nil && (err != nil || code2 != http.StatusOK) {
			r.mu.Lock()
			r.unfetchable = append(r.unfetchable, fmt.Sprintf("%s %s (%d, then %d %v)", time.Now().Format("15:04:05.000"), uri, code, code2, err))
			r.mu.Unlock()
		}
	}
}

// maxRefusals bounds the playlist refusals a CDN reader keeps.
const maxRefusals = 20

// mediaSequence is a media playlist's EXT-X-MEDIA-SEQUENCE.
func mediaSequence(body string) (uint64, bool) {
	_, rest, ok := strings.Cut(body, "#EXT-X-MEDIA-SEQUENCE:")
	if !ok {
		return 0, false
	}
	line, _, _ := strings.Cut(rest, "\n")
	msn, err := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
	return msn, err == nil
}

// get fetches url, reading the whole answer.
func get(ctx context.Context, client *http.Client, url string) (string, int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode, err
}

// mediaURIs are the parts, segments and init sections a media playlist
// names (the preload hint's part is not one yet).
func mediaURIs(body string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-PART:"), strings.HasPrefix(line, "#EXT-X-MAP:"):
			if _, rest, ok := strings.Cut(line, `URI="`); ok {
				if uri, _, ok := strings.Cut(rest, `"`); ok {
					out = append(out, uri)
				}
			}
		case !strings.HasPrefix(line, "#"):
			out = append(out, line)
		}
	}
	return out
}

func (r *Reader) observe(node, body string, failover bool) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polls++
	if failover {
		r.failovers++
	}
	if body != "" {
		r.servedBy[node]++
		r.parse(node, body)
	}
	if r.lastAdv.IsZero() {
		return
	}
	if gap := now.Sub(r.lastAdv) - r.part; gap > r.maxStall {
		r.maxStall, r.stallAt = gap, r.lastAdv
	}
}

func (r *Reader) parse(node, body string) {
	var msn uint64
	var seq uint64
	var pdt time.Time
	var dur float64
	var disc bool
	partsAfter := uint64(0) // parts listed after the last complete segment
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			msn, _ = strconv.ParseUint(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
			seq = msn
			switch {
			case msn > r.lastMSN:
				r.lastMSN, r.lastMSNAt = msn, time.Now()
			case msn < r.lastMSN && r.via == "" && time.Since(r.lastMSNAt) > reorderSlack:
				// Concurrent answers served a few milliseconds apart may
				// arrive swapped across a window slide; going back for real
				// shows on every later answer too.
				r.msnBack = append(r.msnBack, fmt.Sprintf("%s %s: media sequence %d after %d (live edge %d.%d)", time.Now().Format("15:04:05.000"), node, msn, r.lastMSN, r.lastPos/1_000_000, r.lastPos%1_000_000))
			}
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			pdt, _ = time.Parse(time.RFC3339Nano, strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"))
		case strings.HasPrefix(line, "#EXTINF:"):
			v := strings.TrimPrefix(line, "#EXTINF:")
			if i := strings.IndexByte(v, ','); i >= 0 {
				v = v[:i]
			}
			dur, _ = strconv.ParseFloat(v, 64)
		case line == "#EXT-X-DISCONTINUITY":
			disc = true
		case strings.HasPrefix(line, "#EXT-X-PART:") && strings.Contains(line, `URI="`):
			partsAfter++
		case line != "" && !strings.HasPrefix(line, "#"):
			s := segInfo{uri: line, dur: dur, pdt: pdt, disc: disc, fromNode: node}
			if old, ok := r.segs[seq]; ok {
				if (old.uri != s.uri || (old.dur-s.dur > 0.05 || s.dur-old.dur > 0.05)) && !r.reported[seq] {
					if r.reported == nil {
						r.reported = map[uint64]bool{}
					}
					r.reported[seq] = true
					r.mismatch = append(r.mismatch, fmt.Sprintf("msn %d: %s had %s (%.3fs), %s has %s (%.3fs)", seq, old.fromNode, old.uri, old.dur, node, s.uri, s.dur))
				}
			} else {
				r.segs[seq] = s
			}
			seq++
			partsAfter = 0
			pdt, dur, disc = time.Time{}, 0, false
		}
	}
	r.advance(seq*1_000_000 + partsAfter)
}

// reorderSlack is how far apart two concurrent answers may have been served
// and still arrive in the other order (loopback: well under this).
const reorderSlack = 50 * time.Millisecond

// advance notes the newest media object the viewer can fetch; pos orders
// live edges (an older answer arriving late is no advance).
func (r *Reader) advance(pos uint64) {
	if pos <= r.lastPos {
		return
	}
	r.lastPos = pos
	now := time.Now()
	if !r.lastAdv.IsZero() {
		if gap := now.Sub(r.lastAdv) - r.part; gap > r.maxStall {
			r.maxStall, r.stallAt = gap, r.lastAdv
		}
	}
	r.lastAdv = now
}

// Report is what the reader saw.
type Report struct {
	Segments   int
	MaxStall   time.Duration // longest time without new media, beyond one part
	StallAt    time.Time
	MaxPDTGap  time.Duration // largest hole between consecutive segments' PDT
	MediaLost  time.Duration // sum of the PDT holes and of the excess of over-long segments
	LongestSeg time.Duration
	Long       []string // the over-long segments counted in MediaLost
	MSNBack    []string
	Mismatches []string
	// Skipped lists media sequence numbers no playlist ever named between
	// two that were named (a wrapped or jumping number shows here too).
	Skipped   []string
	Failovers int
	ServedBy  map[string]int
	// First and Last are the first segment's PDT and the last one's end:
	// the media the reader saw spans them.
	First, Last time.Time
	// Unfetchable lists media a playlist named that the CDN did not serve,
	// Refusals the first playlist requests it did not answer 200 (through
	// a CDN only).
	Unfetchable, Refusals []string
}

// Report summarises; call it after Run returns or at any time.
func (r *Reader) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Segments: len(r.segs), MaxStall: r.maxStall, StallAt: r.stallAt, MSNBack: r.msnBack,
		Mismatches: r.mismatch, Failovers: r.failovers, ServedBy: map[string]int{}, Unfetchable: r.unfetchable, Refusals: r.refusals}
	for k, v := range r.servedBy {
		rep.ServedBy[k] = v
	}
	msns := make([]uint64, 0, len(r.segs))
	for m := range r.segs {
		msns = append(msns, m)
	}
	sort.Slice(msns, func(i, j int) bool { return msns[i] < msns[j] })
	for _, m := range msns {
		s := r.segs[m]
		if s.pdt.IsZero() {
			continue
		}
		if rep.First.IsZero() {
			rep.First = s.pdt
		}
		rep.Last = s.pdt.Add(time.Duration(s.dur * float64(time.Second)))
	}
	for _, m := range msns {
		d := time.Duration(r.segs[m].dur * float64(time.Second))
		if d > rep.LongestSeg {
			rep.LongestSeg = d
		}
		// A segment much longer than the GOP-aligned target holds a hole in
		// its timestamps (media that never arrived, frozen on screen).
		if excess := d - r.segment; excess > r.segment/4 {
			rep.MediaLost += excess
			rep.Long = append(rep.Long, fmt.Sprintf("msn %d %s %.3fs from %s", m, r.segs[m].uri, r.segs[m].dur, r.segs[m].fromNode))
		}
	}
	for i := 1; i < len(msns); i++ {
		if msns[i] != msns[i-1]+1 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%d..%d", msns[i-1]+1, msns[i]-1))
		}
		a, b := r.segs[msns[i-1]], r.segs[msns[i]]
		if msns[i] != msns[i-1]+1 || a.pdt.IsZero() || b.pdt.IsZero() {
			continue
		}
		gap := b.pdt.Sub(a.pdt.Add(time.Duration(a.dur * float64(time.Second))))
		// Rounding of EXTINF and PDT to milliseconds: ignore 50 ms.
		if gap > 50*time.Millisecond {
			rep.MediaLost += gap
			if gap > rep.MaxPDTGap {
				rep.MaxPDTGap = gap
			}
		}
	}
	return rep
}

// ResetStall forgets the longest stall so far (the fault's window starts).
func (r *Reader) ResetStall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maxStall, r.stallAt = 0, time.Time{}
}
