package transcode

import (
	"context"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// wantRenditions for a 640x360 source and the test ladder (1080p and 720p
// are above the source: never upscaled).
var wantRenditions = map[string][2]int{"360p": {640, 360}, "240p": {426, 240}, "144p": {256, 144}}

// verifyLadder ffprobes every rendition: codec, size, AAC audio, DTS=PTS,
// keyframes only where segments start, the same segments in every
// rendition, and, within each run, the same segments as the source
// rendition gets from the packager's cut rule. It returns the number of
// ffmpeg runs seen.
func verifyLadder(t *testing.T, outs *outputs, source []byte, seg time.Duration, minSeconds float64) int {
	t.Helper()
	names := outs.names()
	if !slices.Equal(names, []string{"144p", "240p", "360p"}) {
		t.Fatalf("renditions %v, want 144p 240p 360p (nothing above the 360p source)", names)
	}
	_, srcPkts := ffprobe(t, source)
	srcCuts := cuts(srcPkts, seg)
	var refCuts []int64
	runs := 0
	for _, name := range names {
		ts, _ := outs.get(name).snapshot()
		streams, pkts := ffprobe(t, ts)
		var video, audio *probedStream
		for i := range streams {
			switch streams[i].CodecType {
			case "video":
				video = &streams[i]
			case "audio":
				audio = &streams[i]
			}
		}
		want := wantRenditions[name]
		if video == nil || video.CodecName != "h264" || video.Width != want[0] || video.Height != want[1] {
			t.Errorf("%s: video %+v, want h264 %dx%d", name, video, want[0], want[1])
		}
		if audio == nil || audio.CodecName != "aac" {
			t.Errorf("%s: audio %+v, want aac", name, audio)
		}
		if len(pkts) < 30 {
			t.Fatalf("%s: only %d video frames", name, len(pkts))
		}
		if span := float64(pkts[len(pkts)-1].Pts-pkts[0].Pts) / 90000; span < minSeconds {
			t.Errorf("%s: %.1f s of video, want at least %.1f", name, span, minSeconds)
		}
		c, r := checkLadderFrames(t, name, pkts, seg)
		runs = r
		if refCuts == nil {
			refCuts = c
			t.Logf("%s: %d frames, %d run(s), segments start at %v; source's at %v", name, len(pkts), r, c, srcCuts)
		} else {
			// Outputs are read concurrently, so the last segment may be
			// cut off in some: compare the common prefix.
			n := min(len(c), len(refCuts))
			if n < len(refCuts)-1 || n < len(c)-1 || !slices.Equal(c[:n], refCuts[:n]) {
				t.Errorf("%s segments %v differ from %s's %v", name, c, names[0], refCuts)
			}
		}
	}
	// Against the source: every ladder segment start that is not the first
	// of a run is a source segment start too.
	_, pkts := ffprobe(t, mustSnapshot(outs, names[0]))
	runFirst := map[int64]bool{}
	for i, p := range pkts {
		if i == 0 || p.Dts-pkts[i-1].Dts > 9000 {
			runFirst[p.Pts] = true
		}
	}
	for _, c := range refCuts {
		if !runFirst[c] && !slices.Contains(srcCuts, c) {
			t.Errorf("ladder segment at PTS %d is not a source segment start (source: %v)", c, srcCuts)
		}
	}
	return runs
}

func mustSnapshot(o *outputs, name string) []byte {
	b, _ := o.get(name).snapshot()
	return b
}

func TestLadderOverPipes(t *testing.T) {
	tests := []struct {
		name    string
		encoder string  // the source's
		offset  float64 // source's first timestamp, seconds
	}{
		{"keyframes off the segment grid", "libx264", 1000.4},
		{"across the 33-bit PTS wrap", "libx264", ptsWrapSeconds - 4.3},
		{"H.265 source", "libx265", 1500.2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := sourceTSCodec(t, tc.encoder, 640, 360, 9, tc.offset)
			set := testSettings(t)
			outs := newOutputs()
			tr := newTranscoder("cam", set, outs, NewCapacity(1, "test"), testLogger(t))
			source := &collector{}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			longest := publish(ctx, readFile(t, src), tr, source)
			// Let ffmpeg drain what it was given.
			time.Sleep(1500 * time.Millisecond)
			st := tr.Status()
			tr.Close()
			t.Logf("status: %+v", st)
			if longest > 500*time.Millisecond {
				t.Errorf("a WriteTS call took %v: ingest must never wait for ffmpeg", longest)
			}
			wantCodec := map[string]string{"libx264": "h264", "libx265": "hevc"}[tc.encoder]
			if st.Source.Width != 640 || st.Source.Height != 360 || st.Source.Codec != wantCodec || !st.Source.AudioAAC {
				t.Errorf("source read from the SPS/PMT: %+v", st.Source)
			}
			if n := st.Restarts[CauseExit] + st.Restarts[CauseStall] + st.Restarts[CauseStart] + st.Restarts[CauseBehind]; n != 0 {
				t.Errorf("ffmpeg restarted %d times in a clean run: %+v", n, st.Restarts)
			}
			runs := verifyLadder(t, outs, readFile(t, src), set.Segment, 6)
			if runs != 1 {
				t.Errorf("%d ffmpeg runs, want 1", runs)
			}
			for _, n := range outs.names() {
				if _, d := outs.get(n).snapshot(); d != 0 {
					t.Errorf("%s: %d discontinuities in a clean run", n, d)
				}
			}
		})
	}
}

// TestSurvivesFFmpegFailure kills (SIGKILL) or freezes (SIGSTOP) ffmpeg
// mid-stream: it is restarted, the ladder continues after a discontinuity
// on the segment grid, and the source's own consumer never misses a byte.
func TestSurvivesFFmpegFailure(t *testing.T) {
	tests := []struct {
		name   string
		signal syscall.Signal
		cause  string
	}{
		{"SIGKILL", syscall.SIGKILL, CauseExit},
		{"SIGSTOP", syscall.SIGSTOP, CauseStall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := sourceTS(t, 640, 360, 14, 2000.6)
			set := testSettings(t)
			if tc.signal == syscall.SIGSTOP {
				// A queue smaller than what arrives during the stall: a
				// frozen ffmpeg must make it overflow (dropped, counted).
				set.StallTimeout = 2500 * time.Millisecond
				set.QueueBytes = 256 << 10
			}
			outs := newOutputs()
			tr := newTranscoder("cam", set, outs, NewCapacity(1, "test"), testLogger(t))
			defer tr.Close()
			source := &collector{}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			published := make(chan time.Duration, 1)
			go func() { published <- publish(ctx, readFile(t, src), tr, source) }()

			waitFor(t, 20*time.Second, "ladder output", func() bool {
				c := outs.get("144p")
				return c != nil && c.size() > 100_000
			})
			pid := tr.Status().PID
			if pid == 0 {
				t.Fatal("no ffmpeg pid while running")
			}
			t.Logf("sending %v to ffmpeg %d", tc.signal, pid)
			signalled := time.Now()
			if err := syscall.Kill(pid, tc.signal); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 15*time.Second, "ffmpeg restarted", func() bool {
				st := tr.Status()
				return st.Restarts[tc.cause] == 1 && st.Running && st.PID != pid
			})
			recovered := time.Since(signalled)
			sizeAtRestart := outs.get("144p").size()
			waitFor(t, 20*time.Second, "output after the restart", func() bool { return outs.get("144p").size() > sizeAtRestart+50_000 })
			t.Logf("restarted after %v (cause %s)", recovered, tc.cause)
			longest := <-published
			time.Sleep(1500 * time.Millisecond)
			st := tr.Status()
			tr.Close()
			if tc.signal == syscall.SIGSTOP {
				if st.DroppedBytes == 0 {
					t.Errorf("a frozen ffmpeg left nothing dropped: the queue must be bounded")
				}
				if recovered < set.StallTimeout {
					t.Errorf("restarted after %v, before the stall timeout %v", recovered, set.StallTimeout)
				}
			}
			if longest > 500*time.Millisecond {
				t.Errorf("a WriteTS call took %v while ffmpeg was %v: ingest must never wait", longest, tc.signal)
			}
			srcBytes, _ := os.ReadFile(src)
			if got, _ := source.snapshot(); len(got) != len(srcBytes) {
				t.Errorf("the source consumer got %d of %d bytes", len(got), len(srcBytes))
			}
			for _, n := range outs.names() {
				if _, d := outs.get(n).snapshot(); d != 1 {
					t.Errorf("%s: %d discontinuities, want 1 (the restart)", n, d)
				}
			}
			if runs := verifyLadder(t, outs, readFile(t, src), set.Segment, 8); runs != 2 {
				t.Errorf("%d ffmpeg runs in the output, want 2", runs)
			}
		})
	}
}

// An ffmpeg whose output lags its input by more than max_lag is restarted,
// with growing back-off.
func TestFallsBehindIsRestarted(t *testing.T) {
	src := sourceTS(t, 640, 360, 9, 3000)
	set := testSettings(t)
	set.MaxLag = time.Millisecond // any real ladder is further behind than this
	set.RestartMin = 300 * time.Millisecond
	outs := newOutputs()
	tr := newTranscoder("cam", set, outs, NewCapacity(1, "test"), testLogger(t))
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go publish(ctx, readFile(t, src), tr)
	waitFor(t, 30*time.Second, "two restarts for falling behind", func() bool { return tr.Status().Restarts[CauseBehind] >= 2 })
	cancel()
	st := tr.Status()
	if st.LastCause != CauseBehind {
		t.Errorf("last cause %q", st.LastCause)
	}
	// Back-off: 300 ms, 600 ms, 1.2 s, … — far fewer restarts than ticks.
	if n := st.Restarts[CauseBehind]; n > 8 {
		t.Errorf("%d restarts: back-off not applied", n)
	}
}

// A ladder that keeps falling behind real time is dropped: the stream goes
// source-only and gives its capacity slot back, instead of restarting
// ffmpeg forever.
func TestFallingBehindDemotesToSourceOnly(t *testing.T) {
	src := sourceTS(t, 640, 360, 9, 3100)
	set := testSettings(t)
	set.MaxLag = time.Millisecond // any real ladder is further behind than this
	set.RestartMin = 100 * time.Millisecond
	set.BehindLimit = 2
	set.DemoteFor = time.Hour
	outs := newOutputs()
	capacity := NewCapacity(1, "test")
	tr := newTranscoder("cam", set, outs, capacity, testLogger(t))
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go publish(ctx, readFile(t, src), tr)
	waitFor(t, 40*time.Second, "demotion to source-only", func() bool { return tr.Status().Demotions == 1 })
	st := tr.Status()
	if !st.SourceOnly || st.State != "source-only" {
		t.Errorf("after demotion: source-only %v, state %q", st.SourceOnly, st.State)
	}
	if n := st.Restarts[CauseBehind]; n != 2 {
		t.Errorf("%d restarts for falling behind before demotion, want the limit 2", n)
	}
	if r := capacity.Report(); r.Used != 0 || r.Free != 1 {
		t.Errorf("capacity after demotion %+v: the slot was not given back", r)
	}
	time.Sleep(time.Second)
	if st2 := tr.Status(); st2.Running || st2.Restarts[CauseBehind] != 2 {
		t.Errorf("ffmpeg ran again during the demotion: %+v", st2)
	}
}

// A publisher that comes back with a smaller picture gets a ladder that
// fits it: the source is read again after a discontinuity.
func TestDiscontinuityReadsTheSourceAgain(t *testing.T) {
	big := sourceTS(t, 640, 360, 5, 4000)
	small := sourceTS(t, 320, 180, 5, 5000)
	set := testSettings(t)
	outs := newOutputs()
	tr := newTranscoder("cam", set, outs, NewCapacity(1, "test"), testLogger(t))
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	publish(ctx, readFile(t, big), tr)
	if got := len(tr.Status().Outputs); got != 3 {
		t.Fatalf("%d outputs for a 360p source, want 3", got)
	}
	tr.Discontinuity()
	publish(ctx, readFile(t, small), tr)
	time.Sleep(time.Second)
	st := tr.Status()
	if st.Source.Height != 180 || len(st.Outputs) != 1 || st.Outputs[0].Name != "144p" {
		t.Errorf("after the new publisher: source %+v outputs %+v, want only 144p", st.Source, st.Outputs)
	}
	if st.Restarts[CauseExit] != 0 {
		t.Errorf("a discontinuity counted as a failure: %+v", st.Restarts)
	}
	if _, d := outs.get("144p").snapshot(); d != 1 {
		t.Errorf("144p: %d discontinuities, want 1", d)
	}
}

// Above capacity a stream stays source-only (no ffmpeg), and gets its
// ladder once a slot frees.
func TestOverCapacityIsSourceOnly(t *testing.T) {
	src := sourceTS(t, 640, 360, 12, 6000)
	set := testSettings(t)
	capacity := NewCapacity(1, "test")
	outsA, outsB := newOutputs(), newOutputs()
	a := newTranscoder("a", set, outsA, capacity, testLogger(t))
	b := newTranscoder("b", set, outsB, capacity, testLogger(t))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ctxA, stopA := context.WithCancel(ctx)
	defer stopA()
	go publish(ctxA, readFile(t, src), a)
	go publish(ctx, readFile(t, src), b)
	waitFor(t, 20*time.Second, "a's ladder", func() bool { return a.Status().Running })
	waitFor(t, 10*time.Second, "b source-only", func() bool { return b.Status().SourceOnly })
	if b.Status().Running || len(outsB.names()) != 0 {
		t.Fatalf("b runs a ladder above capacity: %+v", b.Status())
	}
	if r := capacity.Report(); r.Used != 1 || r.Free != 0 {
		t.Errorf("capacity %+v", r)
	}
	// a's publisher goes away (the stream signals a discontinuity): a
	// gives its slot back and b gets its ladder.
	stopA()
	a.Discontinuity()
	defer a.Close()
	waitFor(t, 15*time.Second, "b's ladder once a's publisher left", func() bool { return b.Status().Running })
	if a.Status().Running {
		t.Error("a still runs ffmpeg without a publisher")
	}
	if b.Status().SourceOnly {
		t.Error("b still marked source-only")
	}
}
