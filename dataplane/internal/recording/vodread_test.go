package recording

import "testing"

func TestPlayable(t *testing.T) {
	for _, tc := range []struct {
		stream, id, name string
		want             bool
	}{
		{"cam1", "20260314T200000Z", "index.m3u8", true},
		{"cam1", "20260314T200000Z", "source/index.m3u8", true},
		{"cam1", "20260314T200000Z", "720p/init3.mp4", true},
		{"cam1", "20260314T200000Z", "720p/seg0000000042.m4s", true},
		{"cam1", "20260314T200000Z", "source/manifest.json", false},
		{"cam1", "20260314T200000Z", "recordings.json", false},
		{"cam1", "20260314T200000Z", "../recordings.json", false},
		{"cam1", "20260314T200000Z", "source/../../x/index.m3u8", false},
		{"cam1", "20260314T200000Z", "a/b/index.m3u8", false},
		{"cam1", "..", "index.m3u8", false},
		{"..", "x", "index.m3u8", false},
		{"cam1", "", "index.m3u8", false},
		{"cam1", "x", "/etc/index.m3u8", false},
	} {
		if got := playable(tc.stream, tc.id, tc.name); got != tc.want {
			t.Errorf("playable(%q, %q, %q) = %v, want %v", tc.stream, tc.id, tc.name, got, tc.want)
		}
	}
}
