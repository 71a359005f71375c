package packager

import (
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// The latency mode decides what every media URL answers: LL-HLS with its
// parts, hints and blocking reloads, or classic HLS only at the same URLs.
func TestClassicOnly(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7, Size: "320x180"}))
	s, srv := newTestStream(t, Config{})
	feed(t, s.Rendition("source"), src)
	settle(t, s)
	llTags := []string{"#EXT-X-PART:", "#EXT-X-PRELOAD-HINT", "#EXT-X-SERVER-CONTROL", "#EXT-X-PART-INF", "#EXT-X-MAP"}
	tests := []struct {
		name        string
		classic     bool
		path        string
		status      int
		contains    []string
		notContains []string
	}{
		{"low multivariant", false, "index.m3u8", 200, []string{"source/index.m3u8"}, nil},
		{"low media", false, "source/index.m3u8", 200, llTags, nil},
		{"low part", false, "source/part0.0.m4s", 200, nil, nil},
		{"low blocking reload too far", false, "source/index.m3u8?_HLS_msn=9999", 400, nil, nil},
		{"standard multivariant", true, "index.m3u8", 200, []string{"source/classic.m3u8"}, []string{"index.m3u8"}},
		{"standard media", true, "source/index.m3u8", 200, []string{".ts\n", "#EXT-X-VERSION:6"}, llTags},
		{"standard classic media", true, "source/classic.m3u8", 200, []string{".ts\n"}, llTags},
		{"standard blocking reload ignored", true, "source/index.m3u8?_HLS_msn=9999&_HLS_part=0", 200, []string{".ts\n"}, llTags},
		{"standard part", true, "source/part0.0.m4s", 404, nil, nil},
		{"standard TS segment", true, "source/seg0.ts", 200, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.SetClassicOnly(tc.classic)
			r := get(t, srv, tc.path)
			if r.status != tc.status {
				t.Fatalf("GET %s: %d, want %d: %s", tc.path, r.status, tc.status, r.body)
			}
			for _, want := range tc.contains {
				if !strings.Contains(string(r.body), want) {
					t.Errorf("GET %s lacks %q:\n%s", tc.path, want, r.body)
				}
			}
			for _, bad := range tc.notContains {
				if strings.Contains(string(r.body), bad) {
					t.Errorf("GET %s has %q:\n%s", tc.path, bad, r.body)
				}
			}
		})
	}
}

// A ladder change: the renditions that leave are out of the multivariant
// playlist at once, served for the grace, then gone; one kept again in
// time stays.
func TestRetain(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, Size: "640x360"}))
	low := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, Size: "320x180", Video: "libx264"}))
	tests := []struct {
		name       string
		keep       []string // then, within the grace, kept again
		keptAgain  []string
		wantListed []string
		wantGone   []string
	}{
		{"drop a rung", []string{"source", "360p"}, nil, []string{"source/", "360p/"}, []string{"180p"}},
		{"drop every rung", []string{"source"}, nil, []string{"source/"}, []string{"180p", "360p"}},
		{"kept again in time", []string{"source"}, []string{"source", "180p"}, []string{"source/", "180p/"}, []string{"360p"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newTestStream(t, Config{})
			feed(t, s.Rendition("source"), src)
			feed(t, s.Rendition("360p"), src)
			feed(t, s.Rendition("180p"), low)
			settle(t, s)
			in := func(names []string) func(string) bool {
				return func(n string) bool {
					for _, k := range names {
						if k == n {
							return true
						}
					}
					return false
				}
			}
			const grace = 500 * time.Millisecond
			s.Retain(in(tc.keep), grace)
			mv := string(mustGet(t, srv, "index.m3u8"))
			for _, g := range tc.wantGone {
				if strings.Contains(mv, g+"/") {
					t.Errorf("%s still listed:\n%s", g, mv)
				}
				if r := get(t, srv, g+"/index.m3u8"); r.status != 200 {
					t.Errorf("%s not served during the grace: %d", g, r.status)
				}
				if b := string(mustGet(t, srv, "source/index.m3u8")); strings.Contains(b, "../"+g+"/") {
					t.Errorf("source still reports %s:\n%s", g, b)
				}
				if _, ok := s.State().Renditions[g]; ok {
					t.Errorf("%s in the state a successor resumes", g)
				}
			}
			if tc.keptAgain != nil {
				s.Retain(in(tc.keptAgain), grace)
			}
			time.Sleep(2 * grace)
			mv = string(mustGet(t, srv, "index.m3u8"))
			for _, l := range tc.wantListed {
				if !strings.Contains(mv, l) {
					t.Errorf("%s not listed:\n%s", l, mv)
				}
			}
			for _, g := range tc.wantGone {
				if r := get(t, srv, g+"/index.m3u8"); r.status != 404 {
					t.Errorf("%s after the grace: %d, want 404", g, r.status)
				}
			}
		})
	}
}

// AtNextCut runs once, at the source's next segment start.
func TestAtNextCut(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, Size: "320x180"}))
	s, _ := newTestStream(t, Config{})
	ran := make(chan struct{}, 4)
	s.AtNextCut(func() { ran <- struct{}{} })
	feed(t, s.Rendition("180p"), src) // not the source: no call
	settle(t, s)
	if len(ran) != 0 {
		t.Fatal("ran on another rendition's cut")
	}
	feed(t, s.Rendition("source"), src)
	settle(t, s)
	waitUntil(t, "the callback", func() bool { return len(ran) > 0 })
	if len(ran) != 1 {
		t.Fatalf("ran %d times, want once", len(ran))
	}
}
