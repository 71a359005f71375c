package recording

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/config"
)

func TestKeys(t *testing.T) {
	cases := []struct {
		name string
		keys Keys
		got  string
		want string
	}{
		{"index", Keys{Prefix: "rec"}, Keys{Prefix: "rec"}.Index("cam1"), "rec/cam1/recordings.json"},
		{"index without prefix", Keys{}, Keys{}.Index("cam1"), "cam1/recordings.json"},
		{"multivariant", Keys{Prefix: "rec"}, Keys{Prefix: "rec"}.Multivariant("cam1", "20260314T200000Z"), "rec/cam1/20260314T200000Z/index.m3u8"},
		{"playlist", Keys{Prefix: "a/b"}, Keys{Prefix: "a/b"}.Playlist("cam1", "id", "720p"), "a/b/cam1/id/720p/index.m3u8"},
		{"init", Keys{}, Keys{}.Init("cam1", "id", "source", "init42.mp4"), "cam1/id/source/init42.mp4"},
		{"segment", Keys{Prefix: "rec"}, Keys{Prefix: "rec"}.Segment("cam1", "id", "source", 42), "rec/cam1/id/source/seg0000000042.m4s"},
		{"rendition folder", Keys{}, Keys{}.Rendition("cam1", "id", "source"), "cam1/id/source/"},
		{"url", Keys{}, URL("cam1", "id"), "/vod/cam1/id/index.m3u8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("%q, want %q", tc.got, tc.want)
			}
		})
	}
	// The bucket lists segments in number order.
	if !(SegmentName(9) < SegmentName(10) && SegmentName(99) < SegmentName(100)) {
		t.Fatal("segment names do not sort by number")
	}
	for _, msn := range []uint64{0, 7, 1234567890} {
		if got, ok := ParseSegmentName(SegmentName(msn)); !ok || got != msn {
			t.Fatalf("ParseSegmentName(%s) = %d %v", SegmentName(msn), got, ok)
		}
	}
	for _, bad := range []string{"init0.mp4", "seg12.ts", "segx.m4s", "index.m3u8"} {
		if _, ok := ParseSegmentName(bad); ok {
			t.Fatalf("ParseSegmentName(%s) accepted", bad)
		}
	}
}

func segmentMSNs(t *testing.T, m *playlist.Media) []uint64 {
	t.Helper()
	var out []uint64
	for _, s := range m.Segments {
		msn, ok := ParseSegmentName(s.URI)
		if !ok {
			t.Fatalf("segment URI %q", s.URI)
		}
		out = append(out, msn)
	}
	return out
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func equalMSNs(a, b []uint64) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// A recording of two renditions, closed: every segment and init section in
// the bucket under its derived key, VOD playlists and a multivariant
// playlist that parse, and a ready entry in the index.
func TestRecordAndClose(t *testing.T) {
	g := newRig(t, nil)
	g.writeRun("cam1", 1, 0, 14, "source", "360p")
	g.rec.End("cam1")
	g.drain(t)

	es := g.recordings(t, "cam1")
	if len(es) != 1 {
		t.Fatalf("index: %+v", es)
	}
	e := es[0]
	want := Entry{ID: "20260314T200000Z", State: StateReady, Start: t0, End: t0.Add(15 * segDur), DurationSeconds: 30, URL: "/vod/cam1/20260314T200000Z/index.m3u8"}
	if e.ID != want.ID || e.State != want.State || !e.Start.Equal(want.Start) || !e.End.Equal(want.End) ||
		e.DurationSeconds != want.DurationSeconds || e.URL != want.URL || e.Gaps == nil || len(e.Gaps) != 0 {
		t.Fatalf("entry %+v, want %+v with no gaps", e, want)
	}
	keys := Keys{Prefix: "rec"}
	for _, r := range []string{"source", "360p"} {
		m := testkit.ParseMedia(t, g.object(t, keys.Playlist("cam1", e.ID, r)))
		if m.PlaylistType == nil || *m.PlaylistType != playlist.MediaPlaylistTypeVOD || !m.Endlist {
			t.Fatalf("%s: not a closed VOD playlist", r)
		}
		if got := segmentMSNs(t, m); !equalMSNs(got, span(0, 14)) {
			t.Fatalf("%s lists %v", r, got)
		}
		if m.Map == nil || m.Map.URI != "init0.mp4" {
			t.Fatalf("%s: EXT-X-MAP %+v", r, m.Map)
		}
		if got := g.object(t, keys.Init("cam1", e.ID, r, "init0.mp4")); string(got) != "init-of-"+r {
			t.Fatalf("%s init %q", r, got)
		}
		for msn := uint64(0); msn <= 14; msn++ {
			if got := g.object(t, keys.Segment("cam1", e.ID, r, msn)); !bytes.Equal(got, seg(r, msn, time.Time{}).Data) {
				t.Fatalf("%s segment %d holds other bytes", r, msn)
			}
		}
	}
	pl, err := playlist.Unmarshal(g.object(t, keys.Multivariant("cam1", e.ID)))
	if err != nil {
		t.Fatal(err)
	}
	mv := pl.(*playlist.Multivariant)
	if len(mv.Variants) != 2 || mv.Variants[0].URI != "source/index.m3u8" || mv.Variants[1].URI != "360p/index.m3u8" || mv.Variants[0].Bandwidth <= 0 {
		t.Fatalf("multivariant variants: %+v %+v", mv.Variants[0], mv.Variants[1])
	}
	if got := metric(t, g.rec, "zonecast_recording_segments_uploaded_total"); got != 30 {
		t.Fatalf("uploaded %v segments, want 30", got)
	}
	if got := metric(t, g.rec, "zonecast_recording_recordings_closed_total"); got != 1 {
		t.Fatalf("closed %v", got)
	}
}

// The same segment written twice, by this node or by its twin, is one
// object and one playlist line.
func TestIdempotentReupload(t *testing.T) {
	g := newRig(t, nil)
	g.writeRun("cam1", 1, 0, 5, "source")
	g.writeRun("cam1", 1, 3, 9, "source") // a standby's window, overlapping
	g.rec.Write("cam1", 1, seg("source", 9, t0.Add(9*segDur)))
	g.rec.End("cam1")
	g.drain(t)
	e := g.recordings(t, "cam1")[0]
	m := testkit.ParseMedia(t, g.object(t, Keys{Prefix: "rec"}.Playlist("cam1", e.ID, "source")))
	if got := segmentMSNs(t, m); !equalMSNs(got, span(0, 9)) {
		t.Fatalf("playlist lists %v", got)
	}
	if len(e.Gaps) != 0 || e.DurationSeconds != 20 {
		t.Fatalf("entry %+v", e)
	}
	if puts := g.proxy.puts("seg0000000004.m4s"); len(puts) != 2 {
		t.Fatalf("segment 4 put %d times, want 2 (both writes, one object)", len(puts))
	}
}

// Segments reach the bucket in the order they were written, renditions
// interleaved as they came.
func TestUploadOrder(t *testing.T) {
	g := newRig(t, nil)
	var want []string
	for msn := uint64(0); msn < 20; msn++ {
		for _, r := range []string{"source", "720p", "360p"} {
			g.rec.Write("cam1", 1, seg(r, msn, t0.Add(time.Duration(msn)*segDur)))
			want = append(want, r+"/"+SegmentName(msn))
		}
	}
	g.drain(t)
	var got []string
	for _, p := range g.proxy.puts(".m4s") {
		parts := strings.Split(p, "/")
		got = append(got, strings.Join(parts[len(parts)-2:], "/"))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("upload order:\n%v\nwant\n%v", got, want)
	}
}

// S3 goes away: writes go on into the spool, failures and the spool show
// on the metrics; S3 comes back: everything is uploaded in order, nothing
// lost, and the lag shows the outage.
func TestOutage(t *testing.T) {
	g := newRig(t, nil)
	g.writeRun("cam1", 1, 0, 4, "source", "360p")
	g.drain(t)

	g.srv.Stop()
	outageStart := time.Now()
	g.writeRun("cam1", 1, 5, 24, "source", "360p")
	waitFor(t, "failed uploads", func() bool { return metric(t, g.rec, "zonecast_recording_s3_failures_total", "op", "put") >= 2 })
	if n := metric(t, g.rec, "zonecast_recording_spool_entries"); n != 40 {
		t.Fatalf("spool holds %v entries during the outage, want 40", n)
	}
	if b := metric(t, g.rec, "zonecast_recording_spool_bytes"); b <= 0 {
		t.Fatalf("spool bytes %v", b)
	}
	time.Sleep(time.Second) // an outage long enough to see in the lag
	if age := metric(t, g.rec, "zonecast_recording_spool_oldest_age_seconds"); age < 1 {
		t.Fatalf("spool age %v during a 1 s outage", age)
	}
	before := len(g.proxy.puts(".m4s"))
	if err := g.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	outage := time.Since(outageStart)
	g.rec.End("cam1")
	g.drain(t)

	// In order: the segments after the outage follow each other once put.
	got := g.proxy.puts(".m4s")
	seen := map[string]bool{}
	var order []string
	for _, p := range got[before:] {
		if !seen[p] {
			seen[p] = true
			order = append(order, p)
		}
	}
	var want []string
	for msn := uint64(5); msn <= 24; msn++ {
		for _, r := range []string{"source", "360p"} {
			want = append(want, Keys{Prefix: "rec"}.Segment("cam1", "20260314T200000Z", r, msn))
		}
	}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("after the outage:\n%v\nwant\n%v", order, want)
	}
	e := g.recordings(t, "cam1")[0]
	if e.State != StateReady || len(e.Gaps) != 0 || e.DurationSeconds != 50 {
		t.Fatalf("entry %+v", e)
	}
	for _, r := range []string{"source", "360p"} {
		m := testkit.ParseMedia(t, g.object(t, Keys{Prefix: "rec"}.Playlist("cam1", e.ID, r)))
		if got := segmentMSNs(t, m); !equalMSNs(got, span(0, 24)) {
			t.Fatalf("%s lists %v", r, got)
		}
	}
	if d := metric(t, g.rec, "zonecast_recording_dropped_segments_total"); d != 0 {
		t.Fatalf("%v segments dropped", d)
	}
	// The lag of the spooled segments covers the outage.
	count := metric(t, g.rec, "zonecast_recording_upload_lag_seconds_count")
	sum := metric(t, g.rec, "zonecast_recording_upload_lag_seconds_sum")
	if count != 50 || sum < 40*(outage.Seconds()-0.5) {
		t.Fatalf("lag: %v samples summing %.1f s after a %.1f s outage", count, sum, outage.Seconds())
	}
	if n := metric(t, g.rec, "zonecast_recording_spool_entries"); n != 0 {
		t.Fatalf("spool still holds %v", n)
	}
}

// A full spool drops new segments (counted, never blocking the writer);
// what it held is uploaded when S3 is back, and the recording reports the
// dropped stretch as a gap.
func TestSpoolFull(t *testing.T) {
	perEntry := int64(len(seg("source", 0, t0).Data)+len(seg("source", 0, t0).InitData)) + entryOverhead
	g := newRig(t, func(c *config.Recording, _ *Options) { c.SpoolMax = config.Size(10 * perEntry) })
	g.srv.Stop()
	g.writeRun("cam1", 1, 0, 29, "source")
	if d := metric(t, g.rec, "zonecast_recording_dropped_segments_total", "reason", dropSpoolFull); d != 20 {
		t.Fatalf("dropped %v for a full spool, want 20", d)
	}
	if err := g.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	g.drain(t)
	g.writeRun("cam1", 1, 30, 34, "source")
	g.rec.End("cam1")
	g.drain(t)
	e := g.recordings(t, "cam1")[0]
	m := testkit.ParseMedia(t, g.object(t, Keys{Prefix: "rec"}.Playlist("cam1", e.ID, "source")))
	if got := segmentMSNs(t, m); !equalMSNs(got, append(span(0, 9), span(30, 34)...)) {
		t.Fatalf("playlist lists %v", got)
	}
	if len(e.Gaps) != 1 || !e.Gaps[0].At.Equal(t0.Add(10*segDur)) || e.Gaps[0].Seconds != 40 {
		t.Fatalf("gaps %+v, want 40 s at segment 10", e.Gaps)
	}
	if !bytes.Contains(g.object(t, Keys{Prefix: "rec"}.Playlist("cam1", e.ID, "source")), []byte("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-03-14T20:01:00.000Z\n")) {
		t.Fatal("no discontinuity where the dropped stretch ends")
	}
}

// An upload is made only while the node's lease token holds: once another
// node leads the stream, this one's spooled segments are refused.
func TestFencing(t *testing.T) {
	var lease atomic.Uint64
	lease.Store(1)
	fence := FenceFunc(func(stream string, token uint64) bool { return stream == "cam1" && token == lease.Load() })
	g := newRig(t, func(_ *config.Recording, o *Options) { o.Fence = fence })

	cases := []struct {
		name              string
		token             uint64
		from, to          uint64
		wantUploaded      float64
		wantFenced        float64
		wantObjectsListed int
	}{
		{"holding the lease", 1, 0, 4, 5, 0, 5},
		{"deposed", 1, 5, 9, 5, 5, 5}, // the lease moved on to token 2 meanwhile
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "deposed" {
				lease.Store(2)
			}
			g.writeRun("cam1", tc.token, tc.from, tc.to, "source")
			g.drain(t)
			if got := metric(t, g.rec, "zonecast_recording_segments_uploaded_total"); got != tc.wantUploaded {
				t.Fatalf("uploaded %v, want %v", got, tc.wantUploaded)
			}
			if got := metric(t, g.rec, "zonecast_recording_dropped_segments_total", "reason", dropFenced); got != tc.wantFenced {
				t.Fatalf("fenced %v, want %v", got, tc.wantFenced)
			}
			if got := len(g.proxy.puts(".m4s")); got != tc.wantObjectsListed {
				t.Fatalf("%d segment puts, want %d", got, tc.wantObjectsListed)
			}
		})
	}
}

// A gap in the numbers is reported in the index and marked in the
// playlist.
func TestGapReported(t *testing.T) {
	g := newRig(t, nil)
	g.writeRun("cam1", 1, 0, 4, "source", "360p")
	g.writeRun("cam1", 1, 8, 12, "source", "360p")
	g.writeRun("cam1", 1, 13, 13, "source") // 360p misses 13: no hole inside its numbers, it ends there
	g.rec.End("cam1")
	g.drain(t)
	e := g.recordings(t, "cam1")[0]
	if len(e.Gaps) != 1 || !e.Gaps[0].At.Equal(t0.Add(5*segDur)) || e.Gaps[0].Seconds != 6 {
		t.Fatalf("gaps %+v, want 6 s at segment 5", e.Gaps)
	}
	if metric(t, g.rec, "zonecast_recording_gap_seconds_total") != 6 {
		t.Fatal("gap seconds not counted")
	}
	m := testkit.ParseMedia(t, g.object(t, Keys{Prefix: "rec"}.Playlist("cam1", e.ID, "source")))
	for i, s := range m.Segments {
		msn, _ := ParseSegmentName(s.URI)
		if s.Discontinuity != (msn == 8) {
			t.Fatalf("segment %d (msn %d): discontinuity %v", i, msn, s.Discontinuity)
		}
	}
}

// A reconnect within the grace period stays in the recording, with a
// discontinuity where the timestamps jump; after it, a new recording
// starts and the first is closed.
func TestReconnect(t *testing.T) {
	cases := []struct {
		name       string
		pause      time.Duration
		recordings int
	}{
		{"within the grace period", 40 * time.Second, 1},
		{"after the grace period", 3 * time.Minute, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, nil) // idle_close: one minute
			g.writeRun("cam1", 1, 0, 4, "source")
			for msn := uint64(5); msn <= 9; msn++ {
				s := seg("source", msn, t0.Add(time.Duration(msn)*segDur+tc.pause))
				s.Discontinuity = msn == 5
				s.Init = "init5.mp4"
				g.rec.Write("cam1", 1, s)
			}
			g.rec.End("cam1")
			g.drain(t)
			es := g.recordings(t, "cam1")
			if len(es) != tc.recordings {
				t.Fatalf("%d recordings, want %d: %+v", len(es), tc.recordings, es)
			}
			for _, e := range es {
				if e.State != StateReady || len(e.Gaps) != 0 {
					t.Fatalf("entry %+v", e)
				}
			}
			if tc.recordings == 1 {
				body := g.object(t, Keys{Prefix: "rec"}.Playlist("cam1", es[0].ID, "source"))
				m := testkit.ParseMedia(t, body)
				if len(m.Segments) != 10 || !m.Segments[5].Discontinuity || m.Segments[4].Discontinuity {
					t.Fatalf("playlist:\n%s", body)
				}
				if !bytes.Contains(body, []byte("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init5.mp4\"\n")) {
					t.Fatalf("no new EXT-X-MAP after the reconnect:\n%s", body)
				}
				g.object(t, Keys{Prefix: "rec"}.Init("cam1", es[0].ID, "source", "init5.mp4"))
			}
		})
	}
}

// A stream idle for idle_close has its recording closed without being
// told.
func TestIdleClose(t *testing.T) {
	g := newRig(t, func(c *config.Recording, _ *Options) { c.IdleClose = 300 * time.Millisecond })
	g.writeRun("cam1", 1, 0, 2, "source")
	waitFor(t, "the idle recording to be closed", func() bool {
		es := g.recordings(t, "cam1")
		return len(es) == 1 && es[0].State == StateReady
	})
}

// A takeover: node a records, then dies; node b, its standby, uploads the
// segments its window holds (some a put already) and goes on. One
// recording results, every number once, no gap: whether b finds a's last
// segments in a checkpointed manifest or only in the bucket's listing.
func TestTakeover(t *testing.T) {
	cases := []struct {
		name       string
		checkpoint time.Duration
		heads      int // segments b reads back from their metadata
	}{
		{"from the manifest", time.Nanosecond, 0},
		{"from the listing", time.Hour, 24},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := s3server.StartT(t, testBucket)
			edit := func(_ *config.Recording, o *Options) { o.CheckpointInterval = tc.checkpoint }
			a := newRigOn(t, srv, t.TempDir(), edit)
			a.writeRun("cam1", 1, 0, 11, "source", "360p")
			a.drain(t)
			a.rec.Close() // the leader dies with nothing left to send

			b := newRigOn(t, srv, t.TempDir(), edit)
			b.writeRun("cam1", 2, 6, 19, "source", "360p")
			b.rec.End("cam1")
			b.drain(t)
			if got := b.proxy.count("HEAD"); got != tc.heads {
				t.Fatalf("b read %d segments' metadata, want %d", got, tc.heads)
			}

			es := b.recordings(t, "cam1")
			if len(es) != 1 || es[0].State != StateReady || len(es[0].Gaps) != 0 || es[0].DurationSeconds != 40 {
				t.Fatalf("index %+v", es)
			}
			for _, r := range []string{"source", "360p"} {
				m := testkit.ParseMedia(t, b.object(t, Keys{Prefix: "rec"}.Playlist("cam1", es[0].ID, r)))
				if got := segmentMSNs(t, m); !equalMSNs(got, span(0, 19)) {
					t.Fatalf("%s lists %v", r, got)
				}
			}
		})
	}
}

// What the spool held when the node stopped is uploaded by the next run.
func TestSpoolSurvivesRestart(t *testing.T) {
	srv := s3server.StartT(t, testBucket)
	spool := t.TempDir()
	a := newRigOn(t, srv, spool, nil)
	srv.Stop()
	a.writeRun("cam1", 1, 0, 5, "source")
	waitFor(t, "the spool to hold the segments", func() bool { return a.rec.spool.Len() == 6 })
	a.rec.Close()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	b := newRigOn(t, srv, spool, nil)
	b.drain(t)
	if got := len(b.proxy.puts(".m4s")); got != 6 {
		t.Fatalf("%d segments uploaded from the kept spool, want 6", got)
	}
}

// Spooled segments older than the age bound are dropped, not uploaded.
func TestSpoolAge(t *testing.T) {
	g := newRig(t, func(c *config.Recording, _ *Options) { c.SpoolMaxAge = 200 * time.Millisecond })
	g.srv.Stop()
	g.writeRun("cam1", 1, 0, 3, "source")
	waitFor(t, "aged segments to be dropped", func() bool {
		return metric(t, g.rec, "zonecast_recording_dropped_segments_total", "reason", dropAge) == 4
	})
	if err := g.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	g.drain(t)
	if got := len(g.proxy.puts(".m4s")); got != 0 {
		t.Fatalf("%d aged segments uploaded", got)
	}
}

// With no client given, the recorder builds one from the region, the
// endpoint and the usual AWS environment variables.
func TestDefaultClient(t *testing.T) {
	srv := s3server.StartT(t, testBucket)
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	rec, err := New(config.Recording{Bucket: testBucket, Region: s3server.Region, Endpoint: srv.Endpoint,
		SpoolDir: t.TempDir(), SpoolMax: 64 << 20, SpoolMaxAge: time.Hour, IdleClose: time.Minute}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	rec.Write("cam1", 0, seg("source", 0, t0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rec.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(Keys{}.Segment("cam1", "20260314T200000Z", "source", 0))})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, out.Body), seg("source", 0, t0).Data) {
		t.Fatal("segment bytes differ")
	}
}
