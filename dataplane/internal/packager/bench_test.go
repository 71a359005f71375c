package packager

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

var (
	benchOnce sync.Once
	benchTS   []byte
)

// benchInput is 10 s of 720p30 H.264 (~2.5 Mb/s, 1 s GOP) + AAC, the
// passthrough publisher of the edge benchmark, made once by ffmpeg.
func benchInput(b *testing.B) []byte {
	benchOnce.Do(func() {
		testkit.RequireTools(b, "ffmpeg")
		out := filepath.Join(os.TempDir(), "zonecast-bench-720p30.ts")
		if _, err := os.Stat(out); err != nil {
			cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
				"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
				"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10",
				"-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k",
				"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
				"-c:a", "aac", "-b:a", "128k", "-f", "mpegts", out+".tmp")
			if o, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("ffmpeg: %v\n%s", err, o)
			}
			if err := os.Rename(out+".tmp", out); err != nil {
				b.Fatal(err)
			}
		}
		var err error
		benchTS, err = os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
	})
	return benchTS
}

// writeSRTChunks feeds data as SRT delivers it: 1316-byte payloads.
func writeSRTChunks(b *testing.B, w func([]byte) error, data []byte) {
	for len(data) > 0 {
		n := min(1316, len(data))
		if err := w(data[:n]); err != nil {
			b.Fatal(err)
		}
		data = data[n:]
	}
}

func report(b *testing.B, data []byte, ms0, ms1 *runtime.MemStats) {
	packets := float64(len(data)/188) * float64(b.N)
	nsPerPacket := float64(b.Elapsed().Nanoseconds()) / packets
	b.ReportMetric(nsPerPacket, "ns/packet")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/packets, "allocs/packet")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/packets, "B/packet")
	// A 2.5 Mb/s publisher sends ~1660 TS packets per second.
	b.ReportMetric(nsPerPacket*2.5e6/(188*8)/1e9*100, "%core@2.5Mb/s")
}

// BenchmarkDemux is the baseline: MPEG-TS demuxing alone.
func BenchmarkDemux(b *testing.B) {
	data := benchInput(b)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := &mpegts.Demuxer{OnAccessUnit: func(*mpegts.AccessUnit) {}}
		writeSRTChunks(b, func(p []byte) error { _, err := d.Write(p); return err }, data)
		d.Close()
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	report(b, data, &ms0, &ms1)
}

// BenchmarkPackager is the whole per-stream cost: demux, fMP4 parts and
// segments, classic TS segments, playlists' bookkeeping, store.
func BenchmarkPackager(b *testing.B) {
	data := benchInput(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var held float64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := NewMuxer("bench", Config{}, log)
		r := s.Rendition("source")
		writeSRTChunks(b, r.WriteTS, data)
		r.Discontinuity()
		st := s.Stats()
		if st.SegmentsWritten < 4 {
			b.Fatalf("stats %+v", st)
		}
		if i == 0 {
			// Memory the window holds: all segments of this input are still
			// in it, so scale by segment to the default window plus grace.
			// Parts share their segment's array: count the arrays.
			var bytes int
			r.mu.Lock()
			for _, seg := range r.segs {
				bytes += cap(seg.fmp4)
			}
			r.mu.Unlock()
			perSeg := float64(bytes) / float64(st.SegmentsWritten)
			held = perSeg * float64(DefaultWindowSegments+graceSegments) / (1 << 20)
		}
		s.Close()
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	report(b, data, &ms0, &ms1)
	b.ReportMetric(held, "MiB-window")
}

// BenchmarkClassicSegment is the cost of making the classic TS segments
// (done once per segment, on first request), per TS packet of input.
func BenchmarkClassicSegment(b *testing.B) {
	data := benchInput(b)
	s := NewMuxer("bench", Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer s.Close()
	r := s.Rendition("source")
	writeSRTChunks(b, r.WriteTS, data)
	r.Discontinuity()
	r.mu.Lock()
	segs := append([]*segment(nil), r.segs...)
	r.mu.Unlock()
	init, _ := s.store.Get("source/" + segs[0].initName)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, seg := range segs {
			if _, err := classicFromFMP4(init.Data, seg.fmp4); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	report(b, data, &ms0, &ms1)
}

// BenchmarkPlaylist is the cost of one LL-HLS playlist rendering (done
// once per change: viewers' reloads share the cached result).
func BenchmarkPlaylist(b *testing.B) {
	data := benchInput(b)
	s := NewMuxer("bench", Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer s.Close()
	r := s.Rendition("source")
	writeSRTChunks(b, r.WriteTS, data)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.mu.Lock()
		_, ok := r.renderPlaylistLocked(true)
		r.mu.Unlock()
		if !ok {
			b.Fatal("no playlist")
		}
	}
}

// BenchmarkPartLatency feeds the input in real time, 1316-byte chunks at the
// stream's bit rate, and measures how long after the chunk that completes a
// part is handed to WriteTS the part is published: the packager's share of
// the frame-to-listed latency (the demuxer holds a frame until the next
// PES starts, which this includes). Run with -benchtime 1x (10 s).
func BenchmarkPartLatency(b *testing.B) {
	data := benchInput(b)
	chunks := (len(data) + 1315) / 1316
	interval := 10 * time.Second / time.Duration(chunks)
	var lats []time.Duration
	for i := 0; i < b.N; i++ {
		s := NewMuxer("bench", Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		r := s.Rendition("source")
		var lastWrite atomic.Int64
		var mu sync.Mutex
		r.onPart = func() {
			d := time.Duration(time.Now().UnixNano() - lastWrite.Load())
			mu.Lock()
			lats = append(lats, d)
			mu.Unlock()
		}
		start := time.Now()
		for k := 0; k < chunks; k++ {
			time.Sleep(time.Until(start.Add(time.Duration(k) * interval)))
			lastWrite.Store(time.Now().UnixNano())
			end := min((k+1)*1316, len(data))
			if err := r.WriteTS(data[k*1316 : end]); err != nil {
				b.Fatal(err)
			}
		}
		s.Close()
	}
	mu := slices.Clone(lats)
	slices.Sort(mu)
	if len(mu) == 0 {
		b.Fatal("no parts")
	}
	b.ReportMetric(float64(mu[len(mu)/2].Microseconds()), "µs-p50")
	b.ReportMetric(float64(mu[len(mu)*95/100].Microseconds()), "µs-p95")
	b.ReportMetric(float64(mu[len(mu)-1].Microseconds()), "µs-max")
}

// BenchmarkRealTimeStreams runs N streams at once, each fed the input in
// real time in SRT-sized chunks (like N passthrough publishers), and
// reports the process's CPU (share of one core) and heap per stream: the
// packaging part of the edge's passthrough cost. -benchtime 1x (10 s).
func BenchmarkRealTimeStreams(b *testing.B) {
	for _, n := range []int{8, 64} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			data := benchInput(b)
			chunks := (len(data) + 1315) / 1316
			interval := 10 * time.Second / time.Duration(chunks)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			for i := 0; i < b.N; i++ {
				streams := make([]*Muxer, n)
				for k := range streams {
					streams[k] = NewMuxer("s"+strconv.Itoa(k), Config{}, log)
				}
				runtime.GC()
				var ru0, ru1 syscall.Rusage
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
				start := time.Now()
				var wg sync.WaitGroup
				var late atomic.Int64
				for k, s := range streams {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := s.Rendition("source")
						// Stagger the streams like independent publishers.
						t0 := start.Add(time.Duration(k) * interval / time.Duration(n))
						for c := 0; c < chunks; c++ {
							due := t0.Add(time.Duration(c) * interval)
							if d := time.Until(due); d > 0 {
								time.Sleep(d)
							} else if d < -time.Second {
								late.Add(1)
							}
							end := min((c+1)*1316, len(data))
							if err := r.WriteTS(data[c*1316 : end]); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				wall := time.Since(start)
				_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
				var ms, live runtime.MemStats
				runtime.ReadMemStats(&ms)
				runtime.GC()
				runtime.ReadMemStats(&live)
				cpu := time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())
				b.ReportMetric(cpu.Seconds()/wall.Seconds()*100/float64(n), "%core/stream")
				b.ReportMetric(float64(ms.HeapInuse)/float64(n)/(1<<20), "MiB-heap/stream")
				b.ReportMetric(float64(live.HeapInuse)/float64(n)/(1<<20), "MiB-live/stream")
				b.ReportMetric(float64(late.Load()), "chunks>1s-late")
				for _, s := range streams {
					if s.Stats().SegmentsWritten < 3 {
						b.Errorf("%s fell behind: %+v", s.Name(), s.Stats())
					}
					s.Close()
				}
			}
		})
	}
}
