package recording

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Keys names every object of the recordings in the bucket. A key depends only
// on the stream, the recording id, the rendition and the media sequence
// number (or the init section's name, itself named after the first number
// that uses it), so that a leader and its standby name the same segment the
// same way and writing it twice is harmless.
//
//	<prefix>/<stream>/recordings.json                     the stream's index
//	<prefix>/<stream>/<id>/index.m3u8                     multivariant playlist
//	<prefix>/<stream>/<id>/<rendition>/index.m3u8         media playlist (EVENT, then VOD)
//	<prefix>/<stream>/<id>/<rendition>/manifest.json      the recorder's own account of it
//	<prefix>/<stream>/<id>/<rendition>/init<N>.mp4        init sections
//	<prefix>/<stream>/<id>/<rendition>/seg<MSN>.m4s       segments, MSN zero-padded
type Keys struct{ Prefix string }

// msnDigits zero-pads numbers so that the bucket lists segments in order
// (ten digits: centuries of two-second segments).
const msnDigits = 10

func (k Keys) join(parts ...string) string {
	if k.Prefix != "" {
		parts = append([]string{k.Prefix}, parts...)
	}
	return path.Join(parts...)
}

// Index is the stream's list of recordings.
func (k Keys) Index(stream string) string { return k.join(stream, "recordings.json") }

// Recording is the folder of one recording (with a trailing slash).
func (k Keys) Recording(stream, id string) string { return k.join(stream, id) + "/" }

// Multivariant is a recording's multivariant playlist.
func (k Keys) Multivariant(stream, id string) string { return k.join(stream, id, "index.m3u8") }

// Rendition is the folder of one rendition of a recording (trailing slash).
func (k Keys) Rendition(stream, id, rendition string) string {
	return k.join(stream, id, rendition) + "/"
}

// Playlist is a rendition's media playlist.
func (k Keys) Playlist(stream, id, rendition string) string {
	return k.join(stream, id, rendition, "index.m3u8")
}

// Manifest is a rendition's manifest: the segments the recorder has put.
func (k Keys) Manifest(stream, id, rendition string) string {
	return k.join(stream, id, rendition, "manifest.json")
}

// Init is an init section.
func (k Keys) Init(stream, id, rendition, name string) string {
	return k.join(stream, id, rendition, name)
}

// Segment is segment msn of a rendition.
func (k Keys) Segment(stream, id, rendition string, msn uint64) string {
	return k.join(stream, id, rendition, SegmentName(msn))
}

// SegmentName is a segment's name inside its rendition's folder, as the
// media playlist references it.
func SegmentName(msn uint64) string {
	return fmt.Sprintf("seg%0*d.m4s", msnDigits, msn)
}

// ParseSegmentName is the inverse of SegmentName.
func ParseSegmentName(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, "seg")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".m4s")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// URL is where the edge serves a recording's multivariant playlist from
// the bucket.
func URL(stream, id string) string { return "/vod/" + stream + "/" + id + "/index.m3u8" }
