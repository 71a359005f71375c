// Command bench measures the edge (make bench-edge):
//
//   - frame-to-listed latency of LL-HLS parts (and classic TS segments),
//     from the moment each frame's first byte leaves the sender to the moment
//     a player doing blocking playlist reloads sees the part listed;
//   - how long after the first byte the first part is listed;
//   - passthrough CPU and RSS of edge with 1, 8, 32, 64 concurrent 720p30
//     ~2.5 Mb/s publishers, and whether every stream keeps real time.
//
// Senders pace a pre-encoded TS file (looped with continuous timestamps) over
// SRT from this process; its own CPU is reported separately.
//
//	go run ./dataplane/e2e/edge/bench -edge bin/edge -out .cache/bench-edge.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

func main() {
	edgeBin := flag.String("edge", "bin/edge", "edge binary")
	out := flag.String("out", "", "also write the markdown report here")
	source := flag.String("source", ".cache/bench/src720p30.ts", "pre-encoded source (made with ffmpeg when missing)")
	latencyFor := flag.Duration("latency-duration", 75*time.Second, "length of the latency run")
	counts := flag.String("streams", "1,8,32,64", "publisher counts for the passthrough runs")
	warmup := flag.Duration("warmup", 8*time.Second, "passthrough warm-up before measuring")
	window := flag.Duration("window", 30*time.Second, "passthrough measurement window")
	flag.Parse()

	var report strings.Builder
	w := io.MultiWriter(os.Stdout, &report)
	if err := run(w, *edgeBin, *source, *latencyFor, *counts, *warmup, *window); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	if *out != "" {
		os.MkdirAll(filepath.Dir(*out), 0o755)
		if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(w io.Writer, edgeBin, source string, latencyFor time.Duration, counts string, warmup, window time.Duration) error {
	if err := ensureSource(source); err != nil {
		return err
	}
	file, err := loadTS(source)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Edge benchmark (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "Source: %s (720p30 libx264, 1 s GOP, ~2.5 Mb/s, AAC), %s. Edge: SRT latency 120 ms, 1 s segments, 0.2 s parts, no passphrase. Machine: %d cores.\n\n", source, file, nproc())
	if err := benchLatency(w, edgeBin, file, latencyFor); err != nil {
		return err
	}
	var ns []int
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		ns = append(ns, n)
	}
	return benchPassthrough(w, edgeBin, file, ns, warmup, window)
}

func nproc() int {
	b, _ := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func ensureSource(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	fmt.Fprintf(os.Stderr, "bench: encoding %s (30 s of 720p30, once)\n", path)
	tmp := path + ".tmp.ts"
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "30", "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-b:v", "2400k", "-maxrate", "2400k", "-bufsize", "1200k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
		"-f", "mpegts", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("encoding the source: %v: %s", err, out)
	}
	return os.Rename(tmp, path)
}

type stats struct {
	n                    int
	median, p95, p99, mx time.Duration
}

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(f float64) time.Duration { return ds[min(len(ds)-1, int(f*float64(len(ds))))] }
	return stats{n: len(ds), median: q(0.5), p95: q(0.95), p99: q(0.99), mx: ds[len(ds)-1]}
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" }

func benchLatency(w io.Writer, edgeBin string, file *tsFile, d time.Duration) error {
	dir, _ := os.MkdirTemp("", "zonecast-bench-")
	defer os.RemoveAll(dir)
	e, err := startEdge(edgeBin, dir, []string{"first1", "first2", "first3", "lat"}, "")
	if err != nil {
		return err
	}
	defer e.stop()

	// First part listed after the first byte, on fresh streams.
	var firsts []time.Duration
	for _, name := range []string{"first1", "first2", "first3"} {
		ctx, cancel := context.WithCancel(context.Background())
		p := newPoller(e.httpURL + "/live/" + name + "/source/")
		go p.followParts(ctx)
		time.Sleep(200 * time.Millisecond)
		s, err := dialSender(e.srtAddr, name, "", 120*time.Millisecond, file, false)
		if err != nil {
			cancel()
			return err
		}
		stop := make(chan struct{})
		go s.run(stop, time.Minute)
		deadline := time.Now().Add(15 * time.Second)
		for p.firstListed().IsZero() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		close(stop)
		cancel()
		if p.firstListed().IsZero() {
			return fmt.Errorf("%s: no part listed within 15 s (edge log %s)", name, e.logFile)
		}
		firsts = append(firsts, p.firstListed().Sub(s.firstByte()))
	}

	// Frame-to-listed over the whole run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newPoller(e.httpURL + "/live/lat/source/")
	go p.followParts(ctx)
	go p.followClassic(ctx, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	s, err := dialSender(e.srtAddr, "lat", "", 120*time.Millisecond, file, true)
	if err != nil {
		return err
	}
	s.run(make(chan struct{}), d)
	time.Sleep(3 * time.Second) // let the last parts be listed and fetched
	cancel()
	if s.writeErr != nil {
		return fmt.Errorf("sender: %w", s.writeErr)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	// The earliest part starts with the first keyframe sent: that fixes the
	// offset between the packager's timeline and the input DTS.
	var keys []partKey
	for k, l := range p.parts {
		if l.base90 >= 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 || len(s.keyDTS) == 0 {
		return fmt.Errorf("no part could be fetched (edge log %s)", e.logFile)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].msn < keys[j].msn || keys[i].msn == keys[j].msn && keys[i].i < keys[j].i
	})
	offset := p.parts[keys[0]].base90 - s.keyDTS[0]
	var partLat, segLat []time.Duration
	unmatched := 0
	warm := p.parts[keys[0]].listedAt.Add(5 * time.Second) // skip the start-up
	for _, k := range keys {
		l := p.parts[k]
		sent, ok := s.sendTime(l.base90 - offset)
		if !ok {
			unmatched++
			continue
		}
		if l.listedAt.Before(warm) {
			continue
		}
		partLat = append(partLat, l.listedAt.Sub(sent))
		if k.i == 0 {
			if segAt, ok := p.segments[k.msn]; ok {
				segLat = append(segLat, segAt.Sub(sent))
			}
		}
	}
	ps, ss, fs := summarize(partLat), summarize(segLat), summarize(firsts)
	fmt.Fprintf(w, "### Latency (one publisher, %v)\n\n", d)
	fmt.Fprintf(w, "| measure | samples | median | p95 | p99 | max |\n|---|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| LL-HLS part listed after its first frame left the sender | %d | %s | %s | %s | %s |\n", ps.n, ms(ps.median), ms(ps.p95), ms(ps.p99), ms(ps.mx))
	fmt.Fprintf(w, "| classic TS segment listed after its first frame left the sender (playlist polled every 20 ms) | %d | %s | %s | %s | %s |\n", ss.n, ms(ss.median), ms(ss.p95), ms(ss.p99), ms(ss.mx))
	fmt.Fprintf(w, "| first part listed after the first byte (fresh stream) | %d | %s | %s | | %s |\n\n", fs.n, ms(fs.median), ms(fs.p95), ms(fs.mx))
	if unmatched > 0 {
		fmt.Fprintf(w, "(%d of %d parts did not start on a sent frame's DTS and were left out.)\n\n", unmatched, len(keys))
	}
	return nil
}

func benchPassthrough(w io.Writer, edgeBin string, file *tsFile, counts []int, warmup, window time.Duration) error {
	fmt.Fprintf(w, "### Passthrough cost (%v window after %v warm-up)\n\n", window, warmup)
	fmt.Fprintf(w, "| publishers | edge CPU (%% of one core) | per stream | edge RSS | per stream (above idle) | slowest stream's segments / expected | SRT lost / dropped packets, TS decode errors (all streams) | senders' CPU (this process) | machine load (1 min) |\n|---|---|---|---|---|---|---|---|---|\n")
	dir, _ := os.MkdirTemp("", "zonecast-bench-")
	defer os.RemoveAll(dir)
	idle, err := startEdge(edgeBin, dir, []string{"idle"}, "")
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	idleRSS := testkit.RSS(idle.pid())
	idle.stop()
	fmt.Fprintf(w, "| 0 | | | %.1f MiB | | | | | |\n", float64(idleRSS)/(1<<20))

	for _, n := range counts {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("s%02d", i+1)
		}
		e, err := startEdge(edgeBin, dir, names, "")
		if err != nil {
			return err
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i, name := range names {
			s, err := dialSender(e.srtAddr, name, "", 120*time.Millisecond, file, false)
			if err != nil {
				close(stop)
				e.stop()
				return fmt.Errorf("%d publishers: %s: %w", n, name, err)
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.run(stop, time.Hour) }()
			// Stagger the starts over a second, as independent encoders would.
			if i%8 == 7 {
				time.Sleep(time.Second / time.Duration(max(1, n/8)))
			}
		}
		time.Sleep(warmup)
		seg0, _ := e.segmentsWritten()
		edge0, _ := testkit.CPUTime(e.pid())
		self0, _ := testkit.CPUTime(0)
		t0 := time.Now()
		var peakRSS int64
		for time.Since(t0) < window {
			time.Sleep(time.Second)
			peakRSS = max(peakRSS, testkit.RSS(e.pid()))
		}
		el := time.Since(t0)
		edge1, _ := testkit.CPUTime(e.pid())
		self1, _ := testkit.CPUTime(0)
		seg1, _ := e.segmentsWritten()
		var lost, dropped, decodeErrs float64
		for _, name := range []string{"zonecast_srt_packets_lost_total", "zonecast_srt_packets_dropped_total", "zonecast_ts_decode_errors_total"} {
			m, _ := e.metric(name)
			for _, v := range m {
				switch name {
				case "zonecast_srt_packets_lost_total":
					lost += v
				case "zonecast_srt_packets_dropped_total":
					dropped += v
				default:
					decodeErrs += v
				}
			}
		}
		close(stop)
		wg.Wait()
		e.stop()

		slowest := -1.0
		for _, name := range names {
			got := seg1[name] - seg0[name]
			ratio := got / el.Seconds() // 1 s segments
			if slowest < 0 || ratio < slowest {
				slowest = ratio
			}
		}
		cpu := 100 * (edge1 - edge0).Seconds() / el.Seconds()
		self := 100 * (self1 - self0).Seconds() / el.Seconds()
		fmt.Fprintf(w, "| %d | %.1f%% | %.2f%% | %.1f MiB | %.2f MiB | %.2f | %.0f / %.0f / %.0f | %.1f%% | %s |\n", n, cpu, cpu/float64(n),
			float64(peakRSS)/(1<<20), float64(peakRSS-idleRSS)/(1<<20)/float64(n), slowest, lost, dropped, decodeErrs, self, loadavg())
	}
	fmt.Fprintln(w)
	return nil
}

// loadavg is the machine's 1-minute load: other work on a shared machine
// competes with the edge for the two cores and shows up as SRT drops.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
