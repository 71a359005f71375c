package recording

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/policies/rewind"
)

// rewindPlaylist is what one rewind media playlist is made of: the
// recorded past of a rendition in front of its live edge.
type rewindPlaylist struct {
	stream, rendition string
	recorded          ledgerView // what the bucket holds (may be empty)
	edge              packager.Edge
	window            time.Duration
	skip              bool // a delta update was asked for (_HLS_skip)
	reports           []renditionReport
}

// renditionReport is an EXT-X-RENDITION-REPORT of another rendition.
type renditionReport struct {
	rendition string
	msn       uint64
	part      int
}

// rewindEntry is one media segment of the rewind playlist.
type rewindEntry struct {
	msn      uint64
	duration time.Duration
	pdt      time.Time
	disc     bool
	gap      bool
	mapURI   string
	uri      string // "" for the segment being cut
	parts    []packager.EdgePart
	live     bool // from the live edge (else recorded, or a gap in the recording)
}

func (e rewindEntry) end() time.Time { return e.pdt.Add(e.duration) }

// vodFolder is where the edge serves a recording's rendition from the
// bucket, relative to the rewind playlist at /live/<stream>/<rendition>/:
// relative, as every URI of the live playlists, so that the pair works
// under any path prefix a CDN puts them.
func vodFolder(stream, id, rendition string) string {
	return "../../../vod/" + stream + "/" + id + "/" + rendition + "/"
}

// skipBoundary is the playlist's CAN-SKIP-UNTIL.
func skipBoundary(targetDur int) time.Duration {
	return time.Duration(rewind.SkipBoundaryTargets*targetDur) * time.Second
}

// entries lays out the playlist's segments, oldest first, and the
// EXT-X-DISCONTINUITY-SEQUENCE of the first. Every number from the first
// to the live edge has an entry, because a media playlist numbers its
// segments by position: a number the bucket lacks (dropped, or not yet
// uploaded) is listed as EXT-X-GAP, which players skip over.
func (p *rewindPlaylist) entries() ([]rewindEntry, uint64) {
	edge := p.edge
	liveFirst := uint64(0)
	if len(edge.Segments) > 0 {
		liveFirst = edge.Segments[0].MSN
	} else if edge.Current != nil {
		liveFirst = edge.Current.MSN
	}
	// The window is measured back from the live edge's last complete
	// segment (its media time, not this node's clock).
	ref := time.Time{}
	if n := len(edge.Segments); n > 0 {
		ref = edge.Segments[n-1].PDT.Add(edge.Segments[n-1].Duration)
	} else if edge.Current != nil {
		ref = edge.Current.PDT
	}
	from := ref.Add(-p.window)

	var out []rewindEntry
	discSeq := p.recorded.discTrimmed
	var recInits map[string]bool
	segs := p.recorded.segs
	// The recorded past: what precedes the live window.
	end := len(segs)
	for end > 0 && segs[end-1].MSN >= liveFirst {
		end--
	}
	start := 0
	for start < end && !segs[start].end().After(from) {
		if segs[start].Disc {
			discSeq++
		}
		start++
	}
	past := segs[start:end]
	if len(past) > 0 {
		// A hole this long between the recorded past and the live edge
		// means they do not belong together (a numbering that restarted):
		// the live edge alone is served.
		holes := liveFirst - past[len(past)-1].MSN - 1
		if time.Duration(holes)*time.Duration(edge.TargetDuration)*time.Second > p.window {
			for _, s := range past {
				if s.Disc {
					discSeq++
				}
			}
			past = nil
		}
	}
	if len(past) > 0 {
		var total time.Duration
		for _, s := range past {
			total += s.Duration
		}
		avg := total / time.Duration(len(past))
		folder := vodFolder(p.stream, p.recorded.id, p.rendition)
		recInits = map[string]bool{}
		mapURI := ""
		// fill lists the numbers missing between two recorded instants.
		fill := func(from, to uint64, at, until time.Time) {
			n := to - from
			d := avg
			if span := until.Sub(at); !until.IsZero() && span > 0 && span < 2*avg*time.Duration(n) {
				d = span / time.Duration(n)
			}
			for msn := from; msn < to; msn++ {
				out = append(out, rewindEntry{msn: msn, duration: d, pdt: at, gap: true, mapURI: mapURI, uri: folder + SegmentName(msn)})
				at = at.Add(d)
			}
		}
		for i, s := range past {
			if i > 0 && s.MSN > past[i-1].MSN+1 {
				fill(past[i-1].MSN+1, s.MSN, past[i-1].end(), s.PDT)
			}
			if s.Init != "" {
				recInits[s.Init] = true
				mapURI = folder + s.Init
			}
			out = append(out, rewindEntry{msn: s.MSN, duration: s.Duration, pdt: s.PDT, disc: s.Disc,
				mapURI: mapURI, uri: folder + SegmentName(s.MSN)})
		}
		last := past[len(past)-1]
		if last.MSN+1 < liveFirst {
			var until time.Time
			if len(edge.Segments) > 0 {
				until = edge.Segments[0].PDT
			}
			fill(last.MSN+1, liveFirst, last.end(), until)
		}
	}
	// The live edge, as the live playlist lists it; an init section the
	// bucket holds is named there too, so that the player does not load
	// the same init twice under two names where past meets present.
	live := func(s packager.EdgeSegment) rewindEntry {
		mapURI := s.Init
		if recInits[s.Init] {
			mapURI = vodFolder(p.stream, p.recorded.id, p.rendition) + s.Init
		}
		return rewindEntry{msn: s.MSN, duration: s.Duration, pdt: s.PDT, disc: s.Disc, gap: s.Gap,
			mapURI: mapURI, uri: s.URI, parts: s.Parts, live: true}
	}
	for _, s := range edge.Segments {
		out = append(out, live(s))
	}
	if edge.Current != nil && len(edge.Current.Parts) > 0 {
		out = append(out, live(*edge.Current))
	}
	return out, discSeq
}

// render writes the playlist (RFC 8216bis): a sliding window, so without
// EXT-X-PLAYLIST-TYPE; blocking reload and parts as the live playlist;
// CAN-SKIP-UNTIL, and with skip a delta update (§6.2.5.1) that replaces
// the segments older than the skip boundary with EXT-X-SKIP.
func (p *rewindPlaylist) render() []byte {
	entries, discSeq := p.entries()
	edge := p.edge
	td := edge.TargetDuration
	boundary := skipBoundary(td)
	var b strings.Builder
	b.Grow(256 + 100*len(entries))
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:9\n")
	b.WriteString("#EXT-X-TARGETDURATION:" + strconv.Itoa(td) + "\n")
	b.WriteString("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=" + secs(boundary) +
		",PART-HOLD-BACK=" + secs(3*edge.PartTarget) + ",HOLD-BACK=" + secs(3*time.Duration(td)*time.Second) + "\n")
	b.WriteString("#EXT-X-PART-INF:PART-TARGET=" + secsUp(edge.PartTarget) + "\n")
	first := uint64(0)
	if len(entries) > 0 {
		first = entries[0].msn
	}
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(first, 10) + "\n")
	b.WriteString("#EXT-X-DISCONTINUITY-SEQUENCE:" + strconv.FormatUint(discSeq, 10) + "\n")
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")

	skipped := 0
	if p.skip {
		// A segment may be skipped only when it ends at least the skip
		// boundary before the playlist's end, measured conservatively at
		// the last complete segment (the parts after it only add room).
		var playlistEnd time.Time
		for i := len(entries) - 1; i >= 0; i-- {
			if entries[i].uri != "" {
				playlistEnd = entries[i].end()
				break
			}
		}
		for skipped < len(entries) && entries[skipped].uri != "" &&
			!entries[skipped].end().After(playlistEnd.Add(-boundary)) {
			skipped++
		}
		b.WriteString("#EXT-X-SKIP:SKIPPED-SEGMENTS=" + strconv.Itoa(skipped) + "\n")
	}
	mapURI := ""
	for i := skipped; i < len(entries); i++ {
		e := entries[i]
		resumed := i == skipped // the first entry after EXT-X-SKIP, or the first
		if e.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		// A delta update restates the EXT-X-MAP of its first segment: the
		// skipped segments carried it.
		if e.mapURI != mapURI || resumed {
			mapURI = e.mapURI
			b.WriteString("#EXT-X-MAP:URI=\"" + mapURI + "\"\n")
		}
		// The live edge's segments carry their dates, as in the live
		// playlist; the recorded past carries one where its timeline
		// restarts (the first, a discontinuity, after a gap's estimated
		// duration), which is all a player needs to date the whole window
		// and keeps a two-hour playlist small.
		if resumed || e.live || e.disc || (i > 0 && entries[i-1].gap && !e.gap) {
			b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + pdt(e.pdt) + "\n")
		}
		if e.gap {
			b.WriteString("#EXT-X-GAP\n")
		}
		for _, pt := range e.parts {
			b.WriteString("#EXT-X-PART:DURATION=" + secs(pt.Duration) + ",URI=\"" + pt.URI + "\"")
			if pt.Independent {
				b.WriteString(",INDEPENDENT=YES")
			}
			b.WriteByte('\n')
		}
		if e.uri == "" {
			break // the segment being cut: parts only
		}
		b.WriteString("#EXTINF:" + secs(e.duration) + ",\n")
		b.WriteString(e.uri + "\n")
	}
	if edge.Current != nil && edge.Hint != "" {
		b.WriteString("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + edge.Hint + "\"\n")
	}
	return appendReports([]byte(b.String()), p.reports)
}

// appendReports adds EXT-X-RENDITION-REPORT tags for the other renditions'
// rewind playlists (RFC 8216bis §4.4.5.4).
func appendReports(b []byte, reports []renditionReport) []byte {
	for _, r := range reports {
		b = append(b, "#EXT-X-RENDITION-REPORT:URI=\"../"+r.rendition+"/"+rewindName+"\",LAST-MSN="+
			strconv.FormatUint(r.msn, 10)+",LAST-PART="+strconv.Itoa(r.part)+"\n"...)
	}
	return b
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 5, 64)
}

// secsUp rounds up, so that no part printed with secs exceeds the target.
func secsUp(d time.Duration) string {
	return strconv.FormatFloat(math.Ceil(d.Seconds()*1e5)/1e5, 'f', 5, 64)
}

func pdt(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
