package packager

import "strings"

// Kind is the kind of object a path relative to /live/<stream>/ names, in
// the packager's naming (segment.go). The origin labels its request metrics
// with it, so that the names are parsed where they are made.
type Kind string

// The kinds of object the packager serves.
const (
	KindMultivariant Kind = "multivariant"
	KindPlaylist     Kind = "playlist" // a rendition's media playlist
	KindInit         Kind = "init"
	KindPart         Kind = "part"
	KindSegment      Kind = "segment" // fMP4 or classic MPEG-TS
	KindOther        Kind = "other"
)

// KindOf names the kind of object at path (relative to /live/<stream>/).
func KindOf(path string) Kind {
	path = strings.TrimPrefix(path, "/")
	dir, base, nested := strings.Cut(path, "/")
	if !nested {
		base, dir = dir, ""
	}
	switch {
	case strings.Contains(base, "/"):
		return KindOther
	case strings.HasSuffix(base, ".m3u8"):
		if dir == "" {
			return KindMultivariant
		}
		return KindPlaylist
	case dir == "":
		return KindOther
	case strings.HasPrefix(base, "init") && strings.HasSuffix(base, ".mp4"):
		return KindInit
	case strings.HasPrefix(base, "part") && strings.HasSuffix(base, ".m4s"):
		return KindPart
	case strings.HasPrefix(base, "seg") && (strings.HasSuffix(base, ".m4s") || strings.HasSuffix(base, ".ts")):
		return KindSegment
	}
	return KindOther
}
