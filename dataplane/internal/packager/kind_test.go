package packager

import "testing"

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Kind
	}{
		{"index.m3u8", KindMultivariant},
		{"classic.m3u8", KindMultivariant},
		{"/index.m3u8", KindMultivariant},
		{"source/index.m3u8", KindPlaylist},
		{"720p/classic.m3u8", KindPlaylist},
		{"source/init.mp4", KindInit},
		{"source/" + initName(7), KindInit},
		{"source/" + partName(3, 1), KindPart},
		{"source/" + segName(3), KindSegment},
		{"source/" + tsName(3), KindSegment},
		{"init7.mp4", KindOther},
		{"source/a/index.m3u8", KindOther},
		{"source/page.html", KindOther},
		{"", KindOther},
	} {
		if got := KindOf(tc.path); got != tc.want {
			t.Errorf("KindOf(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
