package recording

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// The recording benchmark (`make bench-recording`) prints the cost of
// recording against the same streams without it. Sizes come from the
// environment so that the full figures (32 streams, a 5-minute
// outage) can be run by hand; the defaults fit a shared two-core machine.
//
//	RECORDING_BENCH_STREAMS  streams packaged with and without recording (default 8)
//	RECORDING_BENCH_MEDIA    seconds of 720p media per stream (default 20)
//	RECORDING_BENCH_REALTIME seconds of real-time writing for the upload lag (default 20)
//	RECORDING_BENCH_DRAIN_STREAMS streams spooled during the outage (default 32)
//	RECORDING_BENCH_OUTAGE   outage length, in media seconds per stream (default 30)
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// quantile estimates a quantile of the recorder's lag histogram: the upper
// bound of the bucket it falls in.
func quantile(b *testing.B, rec *Recorder, q float64) float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(rec)
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "zonecast_recording_upload_lag_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		want := q * float64(h.GetSampleCount())
		for _, bk := range h.GetBucket() {
			if float64(bk.GetCumulativeCount()) >= want {
				return bk.GetUpperBound()
			}
		}
	}
	return 0
}

func benchRig(b *testing.B, edit func(*config.Recording)) (*s3server.Server, *Recorder) {
	srv, err := s3server.Start(b.TempDir(), testBucket)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Stop)
	cfg := config.Recording{Bucket: testBucket, Region: s3server.Region, Endpoint: srv.Endpoint, Prefix: "bench",
		SpoolDir: b.TempDir(), SpoolMax: 8 << 30, SpoolMaxAge: time.Hour, IdleClose: time.Minute}
	if edit != nil {
		edit(&cfg)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec, err := New(cfg, Options{Client: clientFor(srv.Endpoint), RetryMax: 500 * time.Millisecond, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rec.Close)
	return srv, rec
}

func BenchmarkRecording(b *testing.B) {
	b.Run("cost", benchCost)
	b.Run("lag", benchLag)
	b.Run("drain", benchDrain)
}

// benchCost packages the same 720p media on N streams without and with
// recording: CPU per stream (as a share of a core at real time), RSS, and
// S3 requests per stream-hour.
func benchCost(b *testing.B) {
	streams, media := envInt("RECORDING_BENCH_STREAMS", 8), envInt("RECORDING_BENCH_MEDIA", 20)
	ts := makeTS(b, b.TempDir(), "1280x720", media, 10)
	_, rec := benchRig(b, nil)

	run := func(record bool) (cpuPerStream float64, rss int64) {
		start, cpu0 := time.Now(), cpuTime()
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		var followers sync.WaitGroup
		for i := range streams {
			name := fmt.Sprintf("s%d-%v", i, record)
			ps := packager.NewMuxer(name, packager.Config{WindowSegments: 1000}, nil)
			defer ps.Close()
			if record {
				followers.Add(1)
				go func() {
					defer followers.Done()
					rec.Follow(ctx, name, ps, func() uint64 { return 1 }, 100*time.Millisecond)
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := ps.Rendition("source")
				for p := ts; len(p) > 0; p = p[min(1316, len(p)):] {
					_ = r.WriteTS(p[:min(1316, len(p))])
				}
				r.Discontinuity()
			}()
		}
		wg.Wait()
		if record {
			// Let the followers find the last segments, then wait for S3.
			time.Sleep(300 * time.Millisecond)
			cancel()
			followers.Wait()
			ctx, cancelDrain := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancelDrain()
			if err := rec.Drain(ctx); err != nil {
				b.Fatal(err)
			}
		}
		cancel()
		cpu := cpuTime() - cpu0
		b.Logf("record=%v: %d streams × %d s of media in %v, CPU %v", record, streams, media, time.Since(start).Round(time.Millisecond), cpu.Round(time.Millisecond))
		return cpu.Seconds() / float64(streams*media), rssBytes()
	}
	for range b.N {
		plainCPU, plainRSS := run(false)
		reqBefore := metric(b, rec, "zonecast_recording_s3_requests_total", "op", "put")
		recCPU, recRSS := run(true)
		puts := metric(b, rec, "zonecast_recording_s3_requests_total", "op", "put") - reqBefore
		perHour := puts / float64(streams) * 3600 / float64(media)
		fmt.Printf("recording cost, %d streams of 720p (%d s each):\n", streams, media)
		fmt.Printf("  CPU per stream, share of a core at real time: passthrough %.4f, recorded %.4f (+%.0f%%)\n",
			plainCPU, recCPU, 100*(recCPU-plainCPU)/plainCPU)
		fmt.Printf("  RSS after the run: passthrough %d MiB, recorded %d MiB\n", plainRSS>>20, recRSS>>20)
		fmt.Printf("  S3 PUTs per stream-hour (one rendition, %d s checkpoints): %.0f\n", int(DefaultCheckpointInterval.Seconds()), perHour)
		b.ReportMetric(100*(recCPU-plainCPU)/plainCPU, "%cpu-added")
		b.ReportMetric(perHour, "puts/stream-hour")
	}
}

// benchLag writes N streams' segments at real time (2 s segments of
// 2.5 Mb/s) and reports the upload lag.
func benchLag(b *testing.B) {
	streams, secs := envInt("RECORDING_BENCH_STREAMS", 8), envInt("RECORDING_BENCH_REALTIME", 20)
	_, rec := benchRig(b, nil)
	body := make([]byte, 2500*1000/8*2)
	for range b.N {
		tick := time.NewTicker(segDur)
		start := time.Now()
		for msn := uint64(0); time.Since(start) < time.Duration(secs)*time.Second; msn++ {
			for i := range streams {
				s := seg("source", msn, start.Add(time.Duration(msn)*segDur))
				s.Data = body
				rec.Write(fmt.Sprintf("lag%d", i), 1, s)
			}
			<-tick.C
		}
		tick.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if err := rec.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		p50, p99 := quantile(b, rec, 0.5), quantile(b, rec, 0.99)
		fmt.Printf("upload lag, %d streams at real time for %d s: p50 ≤ %gs, p99 ≤ %gs (histogram bucket bounds)\n", streams, secs, p50, p99)
		b.ReportMetric(p50, "lag-p50-s")
		b.ReportMetric(p99, "lag-p99-s")
	}
}

// benchDrain takes S3 away while N streams write an outage's worth of
// segments into the spool, gives it back, and times the drain.
func benchDrain(b *testing.B) {
	streams, outage := envInt("RECORDING_BENCH_DRAIN_STREAMS", 32), envInt("RECORDING_BENCH_OUTAGE", 30)
	srv, rec := benchRig(b, nil)
	body := make([]byte, 2500*1000/8*2)
	for range b.N {
		srv.Stop()
		n := outage / int(segDur.Seconds())
		for msn := range uint64(n) {
			for i := range streams {
				s := seg("source", msn, t0.Add(time.Duration(msn)*segDur))
				s.Data = body
				rec.Write(fmt.Sprintf("drain%d", i), 1, s)
			}
			// An outage's segments arrive over minutes: let the spool's
			// disk writer keep up rather than drop them as queue_full.
			for len(rec.in) > 0 {
				time.Sleep(time.Millisecond)
			}
		}
		waitSpooled := time.Now()
		for rec.spool.Len() < n*streams && time.Since(waitSpooled) < time.Minute {
			time.Sleep(10 * time.Millisecond)
		}
		spooled := rec.spool.Bytes()
		start := time.Now()
		if err := srv.Restart(); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		if err := rec.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		d := time.Since(start)
		dropped := metric(b, rec, "zonecast_recording_dropped_segments_total", "reason", "queue_full") +
			metric(b, rec, "zonecast_recording_dropped_segments_total", "reason", "spool_full")
		fmt.Printf("spool drain after a %d s outage, %d streams (%d segments, %d MiB spooled, %.0f dropped): %v\n", outage, streams, n*streams, spooled>>20, dropped, d.Round(time.Millisecond))
		b.ReportMetric(d.Seconds(), "drain-s")
	}
}
