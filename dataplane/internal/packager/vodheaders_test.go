package packager

import (
	"net/http/httptest"
	"testing"
)

func TestServeVODHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, body, ctype, cache string
	}{
		{"source/seg0000000001.m4s", "x", typeFMP4, cacheImmutable},
		{"source/init0.mp4", "x", typeFMP4, cacheImmutable},
		{"source/index.m3u8", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-ENDLIST\n", typePlaylist, cacheVODClosed},
		{"source/index.m3u8", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n", typePlaylist, cacheVODOpen},
		{"index.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nsource/index.m3u8\n", typePlaylist, cacheVODOpen},
	} {
		w := httptest.NewRecorder()
		ServeVOD(w, httptest.NewRequest("GET", "/vod/cam1/x/"+tc.name, nil), tc.name, []byte(tc.body))
		if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != tc.ctype || cc != tc.cache || w.Body.String() != tc.body {
			t.Errorf("%s: Content-Type %q Cache-Control %q body %q, want %q %q", tc.name, ct, cc, w.Body.String(), tc.ctype, tc.cache)
		}
	}
}
