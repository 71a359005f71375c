package recording

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// makeTS has the real ffmpeg make seconds of H.264 + AAC at size, with
// keyframes every second and timestamps starting at offset seconds.
func makeTS(t testing.TB, dir, size string, seconds, offset int) []byte {
	t.Helper()
	b, err := os.ReadFile(testkit.MakeTS(t, dir, testkit.TS{Size: size, Seconds: float64(seconds), Offset: float64(offset)}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ffprobeDuration reads a playlist (and every segment it lists) with the
// real ffprobe; any error it prints fails the test.
func ffprobeDuration(t *testing.T, file string) float64 {
	t.Helper()
	testkit.RequireTools(t, "ffprobe")
	cmd := exec.Command("ffprobe", "-v", "error", "-allowed_extensions", "ALL",
		"-show_entries", "format=duration", "-of", "default=nw=1:nk=1", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, stderr.String())
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", out, err)
	}
	return d
}

// Real media end to end: ffmpeg-made TS packaged by the packager into two
// renditions, with a publisher reconnect in the middle, followed into the
// recorder, closed; ffprobe reads the VOD of each rendition and the
// multivariant playlist without an error, and the recorded duration is
// what was packaged.
func TestRecordRealMedia(t *testing.T) {
	g := newRig(t, nil)
	dir := t.TempDir()
	type input struct{ first, second []byte }
	renditions := map[string]input{
		"source": {makeTS(t, dir, "640x360", 10, 10), makeTS(t, dir, "640x360", 8, 500)},
		"low":    {makeTS(t, dir, "320x180", 10, 10), makeTS(t, dir, "320x180", 8, 500)},
	}
	// A window larger than the input: the test feeds faster than real time
	// and the follower must find every segment.
	ps := packager.NewMuxer("cam1", packager.Config{WindowSegments: 1000}, nil)
	defer ps.Close()

	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		g.rec.Follow(ctx, "cam1", ps, func() uint64 { return 1 }, 20*time.Millisecond)
	}()
	for _, part := range []func(input) []byte{func(i input) []byte { return i.first }, func(i input) []byte { return i.second }} {
		for name, in := range renditions {
			r := ps.Rendition(name)
			if err := r.WriteTS(part(in)); err != nil {
				t.Fatal(err)
			}
			r.Discontinuity() // the publisher goes away (and comes back with a new clock)
		}
	}
	var packaged int
	var packagedSeconds float64
	for _, name := range ps.RenditionNames() {
		for _, c := range ps.Completed(name, 0) {
			packaged++
			if name == "source" {
				packagedSeconds += c.Duration.Seconds()
			}
		}
	}
	if packaged < 14 {
		t.Fatalf("the packager cut only %d segments", packaged)
	}
	waitFor(t, "the follower to write every segment", func() bool {
		return int(metric(t, g.rec, "zonecast_recording_segments_uploaded_total")) == packaged
	})
	cancel()
	<-followed
	g.rec.End("cam1")
	g.drain(t)

	es := g.recordings(t, "cam1")
	if len(es) != 1 || es[0].State != StateReady || len(es[0].Gaps) != 0 {
		t.Fatalf("index %+v", es)
	}
	e := es[0]
	if diff := e.DurationSeconds - packagedSeconds; diff > 0.01 || diff < -0.01 {
		t.Fatalf("recorded %.3f s, packaged %.3f s", e.DurationSeconds, packagedSeconds)
	}
	keys := Keys{Prefix: "rec"}
	for _, name := range []string{"source", "low"} {
		body := g.object(t, keys.Playlist("cam1", e.ID, name))
		m := testkit.ParseMedia(t, body)
		if !m.Endlist || m.PlaylistType == nil || *m.PlaylistType != playlist.MediaPlaylistTypeVOD {
			t.Fatalf("%s: not VOD:\n%s", name, body)
		}
		discs := 0
		for _, s := range m.Segments {
			if s.Discontinuity {
				discs++
			}
		}
		if discs != 1 {
			t.Fatalf("%s: %d discontinuities, want 1 (the reconnect):\n%s", name, discs, body)
		}
		got := ffprobeDuration(t, g.file(keys.Playlist("cam1", e.ID, name)))
		t.Logf("%s: ffprobe reads %.2f s of\n%s", name, got, body)
		if got < packagedSeconds-1 || got > packagedSeconds+1 {
			t.Fatalf("%s: ffprobe reads %.2f s, %.2f s were recorded", name, got, packagedSeconds)
		}
	}
	mvBody := g.object(t, keys.Multivariant("cam1", e.ID))
	pl, err := playlist.Unmarshal(mvBody)
	if err != nil {
		t.Fatal(err)
	}
	mv := pl.(*playlist.Multivariant)
	if len(mv.Variants) != 2 || mv.Variants[0].Resolution != "640x360" || len(mv.Variants[0].Codecs) != 2 {
		t.Fatalf("multivariant:\n%s", mvBody)
	}
	ffprobeDuration(t, g.file(keys.Multivariant("cam1", e.ID)))
}
