package packager

import (
	"bytes"
	"net/http"
	"path"
	"strconv"
	"time"
)

// The HTTP semantics of media (Content-Type, Cache-Control, what an error
// looks like) are decided here and nowhere else, as MediaMTX's HLS muxer
// decides its own: the origin in front only adds CORS and counts requests,
// and the CDN's cache policies (provision/global/cdn.go) only bound what is
// said here.

// Content types.
const (
	typePlaylist = "application/vnd.apple.mpegurl"
	// typeFMP4 serves init sections, parts and segments alike. A part or a
	// segment could be video/iso.segment, but the init section must be
	// video/mp4, players (hls.js, AVPlayer) do not look at the type, and
	// MediaMTX's muxer serves every fMP4 object as video/mp4: one type per
	// container keeps CDN rules (compression, type allow-lists) to one entry.
	typeFMP4 = "video/mp4"
	typeTS   = "video/mp2t"
)

// Cache-Control values that do not depend on the stream's timing.
const (
	// Media names come from media sequence numbers, which never go back, and
	// an init section is named after the first segment that uses it, so a
	// name never names other bytes: a year, and no revalidation.
	cacheImmutable = "public, max-age=31536000, immutable"
	// Errors are never stored: a 404 for the part a playlist hints at, or a
	// blocking reload that timed out, must not be answered from a cache once
	// the part exists a fraction of a second later. CloudFront honours
	// no-store on 404; on 400 and 503 only its error caching TTL decides.
	cacheNone = "no-store"
)

// playlistCache is the Cache-Control of a playlist fetched without delivery
// directives (and of the init.mp4 alias, which changes as seldom): half a
// target duration, so that a CDN spares the origin every viewer's reload yet
// never serves one older than half a segment, the bound the CDN's playlist
// policy also sets. LL-HLS players reload this way only to tune in, then
// block.
func playlistCache(targetDur int) string {
	if half := targetDur / 2; half > 0 {
		return "public, max-age=" + strconv.Itoa(half)
	}
	return "no-cache"
}

// blockingCache is the Cache-Control of the answer to a blocking reload
// (_HLS_msn, _HLS_part): its URL names a playlist state that comes once, so
// whoever asks for it later may have the same answer. Six target durations
// is Apple's recommendation (WWDC 2020, "Reduce latency with HLS Blocking
// Playlist Reload").
func blockingCache(targetDur int) string {
	return "public, max-age=" + strconv.Itoa(6*targetDur)
}

// targetDuration is EXT-X-TARGETDURATION for a configured segment duration:
// rounded to whole seconds, at least one.
func targetDuration(segment time.Duration) int {
	return max(1, int((segment+time.Second/2)/time.Second))
}

// mediaType is the Content-Type of a media object, by its name.
func mediaType(name string) string {
	if path.Ext(name) == ".ts" {
		return typeTS
	}
	return typeFMP4
}

// ServeError answers a request for media with an error no cache keeps. The
// origin and the viewer proxy answer their own errors on /live/ with it, so
// that every error a player or a CDN sees there has the same semantics.
func ServeError(w http.ResponseWriter, msg string, code int) {
	w.Header().Set("Cache-Control", cacheNone)
	http.Error(w, msg, code)
}

// VOD: recordings served from the bucket under /vod/ (the node reads them
// there; CloudFront reads the bucket itself). Their headers are decided here
// too, beside the live ones, so that /live/ and /vod/ cannot drift apart on
// what a name means to a cache.
const (
	// A recording's playlist that ends (EXT-X-ENDLIST: the recording is
	// closed) never changes again; a day keeps it off the origin without
	// outliving the bucket's lifecycle expiry by long.
	cacheVODClosed = "public, max-age=86400"
	// A recording's playlists are rewritten at each of the recorder's
	// checkpoints (tens of seconds apart) while it records, and a
	// multivariant playlist cannot say whether its recording is closed: a
	// few seconds spares the origin a crowd without holding new segments
	// back noticeably.
	cacheVODOpen = "public, max-age=5"
)

// ServeVOD answers one object of a recording (name relative to the
// recording's folder) with its type and Cache-Control: segments and init
// sections are named after their media sequence number as live ones are,
// so immutable; playlists per cacheVODClosed and cacheVODOpen.
func ServeVOD(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	h := w.Header()
	if path.Ext(name) == ".m3u8" {
		h.Set("Content-Type", typePlaylist)
		if bytes.Contains(body, []byte("#EXT-X-ENDLIST")) {
			h.Set("Cache-Control", cacheVODClosed)
		} else {
			h.Set("Cache-Control", cacheVODOpen)
		}
	} else {
		h.Set("Content-Type", mediaType(name))
		h.Set("Cache-Control", cacheImmutable)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
