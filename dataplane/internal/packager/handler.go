package packager

import "net/http"

// ServeHTTP serves paths relative to /live/<stream>/ (the origin strips the
// prefix): index.m3u8, classic.m3u8, <rendition>/index.m3u8,
// <rendition>/classic.m3u8, <rendition>/init.mp4, <rendition>/seg<MSN>.m4s,
// <rendition>/part<MSN>.<i>.m4s, <rendition>/seg<MSN>.ts.
func (s *Stream) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	http.NotFound(w, req)
}
