// Command bench measures zonecast's ladder (`make bench-transcode`):
//
//  1. CPU per ladder at real time: zonecast's Transcoder (Go supervisor,
//     pipes, TS scanning, feeding) against the same ffmpeg command line run
//     plainly (`ffmpeg -re -i file … /dev/null`), alternated, same run;
//  2. real-time factor (as fast as possible) of both;
//  3. how many default ladders from a 1080p30 source run concurrently in
//     real time (no restart, no dropped input, lag under 2 s).
//
// Other processes share the machine: the load average is printed with the
// figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

var (
	out      = flag.String("out", ".cache/bench-transcode.md", "markdown report")
	seconds  = flag.Int("seconds", 20, "media seconds per measurement")
	rounds   = flag.Int("rounds", 2, "alternated rounds of zonecast vs plain ffmpeg")
	maxLadds = flag.Int("max-ladders", 3, "most concurrent ladders tried")
	preset   = flag.String("preset", "", "libx264 preset (empty: zonecast's default, veryfast)")
	cpuprof  = flag.String("cpuprofile", "", "write the Go side's CPU profile of the real-time section here")
	sections = flag.String("sections", "throughput,realtime,ladders,lowlatency", "sections to run (throughput, realtime, ladders, lowlatency)")
	ladderF  = flag.String("ladder", "1080p:6000k,720p:3000k,480p:1500k,360p:800k", "ladder")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-transcode:", err)
		os.Exit(1)
	}
}

type report struct{ b strings.Builder }

func (r *report) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	fmt.Println(s)
	r.b.WriteString(s + "\n")
}

func run() error {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return fmt.Errorf("ffmpeg not found: run `make deps`")
	}
	dir, err := os.MkdirTemp("", "zonecast-bench-transcode-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src1080.ts")
	fmt.Println("encoding a 1080p30 source…")
	gen := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30", "-f", "lavfi", "-i", "sine=f=440:r=48000",
		"-t", fmt.Sprint(*seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-b:v", "8M", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", src)
	if o, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("source: %v: %s", err, o)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var ladder config.Ladder
	if err := ladder.UnmarshalText([]byte(*ladderF)); err != nil {
		return err
	}
	set := transcode.Settings{
		FFmpeg:       ffmpeg,
		Encoder:      transcode.ProbeResult{Encoder: "libx264", Family: transcode.FamilySoftware, OK: true},
		Preset:       *preset,
		Ladder:       ladder,
		AudioBitrate: 128000,
		Segment:      2 * time.Second,
		StallTimeout: 10 * time.Second, StartTimeout: 30 * time.Second, MaxLag: time.Hour,
		RestartMin: time.Second, RestartMax: time.Second,
		QueueBytes: 4 << 20,
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	src720 := filepath.Join(dir, "src720.ts")
	gen = exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30", "-f", "lavfi", "-i", "sine=f=440:r=48000",
		"-t", fmt.Sprint(*seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-b:v", "4M", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", src720)
	if o, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("720p source: %v: %s", err, o)
	}
	data720, err := os.ReadFile(src720)
	if err != nil {
		return err
	}

	var r report
	r.line("## Transcoding benchmark (%s)", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	r.line("")
	r.line("Machine: %d cores, shared with other processes (load average at start: %s). Sources: %d s of 1080p30 (8 Mb/s) and 720p30 (4 Mb/s) H.264 + AAC; ladder %s (rungs above the source skipped), libx264 preset %s, zerolatency, 2 s segments.",
		runtime.NumCPU(), loadavg(), *seconds, *ladderF, presetName(*preset))
	r.line("")
	media := float64(*seconds)

	var args []string
	// 1. Same work, as fast as possible: CPU and real-time factor.
	if strings.Contains(*sections, "throughput") {
		r.line("### Same work, as fast as possible: CPU and real-time factor (1080p30 source, full ladder)")
		r.line("")
		r.line("zonecast = Transcoder (feed, TS scan, pipes, output readers) with back-pressure; plain = the same ffmpeg command line reading the file, writing /dev/null. Alternated rounds.")
		r.line("")
		r.line("| round | zonecast RTF | zonecast ffmpeg CPU s | zonecast Go CPU s (of ffmpeg's) | plain RTF | plain CPU s | total vs plain |")
		r.line("|---|---|---|---|---|---|---|")
		var zTot, pTot float64
		var goTot, ffTot float64
		for i := 1; i <= *rounds; i++ {
			// Even rounds run plain first: the load of the machine drifts.
			var z throughput
			var pc, prtf float64
			runZ := func() error {
				var err error
				z, err = zonecastThroughput(set, data, log)
				args = z.args
				return err
			}
			runP := func() error {
				start := time.Now()
				var err error
				pc, err = plainRun(ffmpeg, args, src, false)
				prtf = media / time.Since(start).Seconds()
				return err
			}
			steps := []func() error{runZ, runP}
			if i%2 == 0 && args != nil {
				steps = []func() error{runP, runZ}
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
			if !z.valid() {
				r.line("| %d | invalid run: restarts %v, skipped %d B, dropped %d B (last cause %q) | | | | | |", i, z.status.Restarts, z.status.SkippedBytes, z.status.DroppedBytes, z.status.LastCause)
				continue
			}
			zTot += z.ffmpegCPU + z.goCPU
			pTot += pc
			goTot += z.goCPU
			ffTot += z.ffmpegCPU
			r.line("| %d | %.2f× | %.1f | %.2f (%.1f%%) | %.2f× | %.1f | %+.1f%% |", i, z.rtf, z.ffmpegCPU, z.goCPU, 100*z.goCPU/z.ffmpegCPU, prtf, pc, 100*(z.ffmpegCPU+z.goCPU-pc)/pc)
		}
		r.line("")
		r.line("zonecast's own (Go) CPU: **%.1f%%** of its ffmpeg's, all rounds.", 100*goTot/ffTot)
		r.line("zonecast (ffmpeg + Go) against plain ffmpeg for the same ladder, all rounds: **%+.1f%%** CPU (goal: overhead under 5%%; the two ffmpeg runs differ by the machine's noise).", 100*(zTot-pTot)/pTot)
		r.line("")

	}
	// 2. Live pacing with a ladder that fits in real time.
	if strings.Contains(*sections, "realtime") {
		if *cpuprof != "" {
			f, err := os.Create(*cpuprof)
			if err != nil {
				return err
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		r.line("### At real time (720p30 source → 720p/480p/360p, input paced like a live publisher)")
		r.line("")
		pub := publisherCost(data720)
		r.line("The Go CPU excludes the stand-in publisher's own cost (measured alone: %.2f s per run).", pub)
		r.line("")
		r.line("| round | zonecast ffmpeg CPU s | zonecast Go CPU s (of ffmpeg's) | zonecast (cores) | dropped | plain `-re` CPU s (cores) | total vs plain |")
		r.line("|---|---|---|---|---|---|---|")
		var zTot, pTot float64
		var goTot, ffTot float64
		var rtArgs []string
		for i := 1; i <= *rounds; i++ {
			var zc, gc, pc float64
			var dropped uint64
			runZ := func() error {
				var err error
				var a []string
				zc, gc, dropped, a, err = zonecastRealtime(set, data720, log)
				rtArgs = a
				if args == nil {
					args = a
				}
				return err
			}
			runP := func() error {
				var err error
				pc, err = plainRun(ffmpeg, rtArgs, src720, true)
				return err
			}
			steps := []func() error{runZ, runP}
			if i%2 == 0 && rtArgs != nil {
				steps = []func() error{runP, runZ}
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
			gc = max(gc-pub, 0)
			zTot += zc + gc
			pTot += pc
			goTot += gc
			ffTot += zc
			r.line("| %d | %.1f | %.2f (%.1f%%) | %.2f | %d B | %.1f (%.2f) | %+.1f%% |", i, zc, gc, 100*gc/zc, (zc+gc)/media, dropped, pc, pc/media, 100*(zc+gc-pc)/pc)
		}
		r.line("")
		r.line("zonecast's own (Go) CPU at real time: **%.1f%%** of its ffmpeg's.", 100*goTot/ffTot)
		r.line("zonecast (ffmpeg + Go) against plain `ffmpeg -re`, all rounds: **%+.1f%%** CPU.", 100*(zTot-pTot)/pTot)
		r.line("")

		pprof.StopCPUProfile()
	}
	// 3. Concurrent ladders at real time.
	if strings.Contains(*sections, "ladders") {
		r.line("### Ladders carried in real time from a 1080p30 source")
		r.line("")
		r.line("Carried: no restart, no dropped input, and ffmpeg's output never more than 2 s behind its input (after a 5 s warm-up).")
		r.line("")
		r.line("| ladder | ladders | restarts | dropped input | worst lag | carried |")
		r.line("|---|---|---|---|---|---|")
		var threeRungs config.Ladder
		_ = threeRungs.UnmarshalText([]byte("720p:3000k,480p:1500k,360p:800k"))
		carried := map[string]int{}
		for _, l := range []struct {
			name   string
			ladder config.Ladder
		}{{"default (" + *ladderF + ")", ladder}, {"without the 1080p rung (720p/480p/360p)", threeRungs}} {
			ls := set
			ls.Ladder = l.ladder
			for n := 1; n <= *maxLadds; n++ {
				restarts, dropped, lag, err := concurrent(ls, data, n, log)
				if err != nil {
					return err
				}
				ok := restarts == 0 && dropped == 0 && lag < 2*time.Second
				r.line("| %s | %d | %d | %d B | %.2f s | %v |", l.name, n, restarts, dropped, lag.Seconds(), ok)
				if !ok {
					break
				}
				carried[l.name] = n
			}
		}
		r.line("")
		r.line("This machine carries **%d** default ladder(s) and **%d** 720p/480p/360p ladder(s) from a 1080p30 source in real time (load average at the end: %s).",
			carried["default ("+*ladderF+")"], carried["without the 1080p rung (720p/480p/360p)"], loadavg())
		r.line("")
	}
	if strings.Contains(*sections, "lowlatency") {
		if err := lowLatencyCost(&r, ffmpeg, src720, dir); err != nil {
			return err
		}
	}
	r.line("Command line measured (zonecast's; the plain run replaces pipe:0 by `-re -i FILE` and the pipes by /dev/null):")
	r.line("")
	r.line("```")
	r.line("ffmpeg %s", strings.Join(quote(args), " "))
	r.line("```")
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(r.b.String()), 0o644)
}

func presetName(p string) string {
	if p == "" {
		return "veryfast"
	}
	return p
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " ()[]|;'\\*?,") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

// discard is a rendition sink that counts bytes and remembers the last write.
type discard struct {
	bytes atomic.Int64
	last  atomic.Int64
}

func (d *discard) WriteTS(p []byte) error {
	d.bytes.Add(int64(len(p)))
	d.last.Store(time.Now().UnixNano())
	return nil
}
func (d *discard) Discontinuity() {}

type sinks struct {
	mu sync.Mutex
	m  map[string]*discard
}

func (s *sinks) Rendition(name string) transcode.Sink {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*discard{}
	}
	d, ok := s.m[name]
	if !ok {
		d = &discard{}
		s.m[name] = d
	}
	return d
}

func (s *sinks) lastWrite() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last int64
	for _, d := range s.m {
		last = max(last, d.last.Load())
	}
	return time.Unix(0, last)
}

// feed writes data in 1316-byte chunks; paced: at the rate of its PCR-less
// clock (bytes spread evenly over the media duration, like -re on a CBR-ish
// source).
func feed(ctx context.Context, data []byte, paced bool, media time.Duration, c transcode.Sink) {
	start := time.Now()
	for off := 0; off < len(data) && ctx.Err() == nil; off += 1316 {
		if paced {
			due := start.Add(time.Duration(float64(media) * float64(off) / float64(len(data))))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		c.WriteTS(data[off:min(off+1316, len(data))])
	}
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// zonecastRealtime runs one Transcoder on the paced source and returns the
// CPU seconds of its ffmpeg, of this (Go) process, and ffmpeg's arguments.
func zonecastRealtime(set transcode.Settings, data []byte, log *slog.Logger) (ffmpegCPU, goCPU float64, dropped uint64, args []string, err error) {
	media := time.Duration(*seconds) * time.Second
	c0, s0 := rusage(syscall.RUSAGE_CHILDREN), rusage(syscall.RUSAGE_SELF)
	out := &sinks{}
	t := transcode.NewTranscoder("bench", set, out, transcode.NewCapacity(1, "bench"), log)
	feed(context.Background(), data, true, media, t)
	waitQuiet(out, 2*time.Second)
	st := t.Status()
	t.Close()
	c1, s1 := rusage(syscall.RUSAGE_CHILDREN), rusage(syscall.RUSAGE_SELF)
	if len(st.Args) == 0 {
		return 0, 0, 0, nil, fmt.Errorf("zonecast's ffmpeg never ran: %+v", st)
	}
	return (c1 - c0).Seconds(), (s1 - s0).Seconds(), st.DroppedBytes, st.Args, nil
}

// waitQuiet returns once no rendition has been written for d.
func waitQuiet(s *sinks, d time.Duration) {
	for time.Since(s.lastWrite()) < d {
		time.Sleep(100 * time.Millisecond)
	}
}

// plainArgs turns zonecast's command line into the plain one: file input
// (with -re when paced) and /dev/null outputs.
func plainArgs(args []string, src string, paced bool) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-i" && i+1 < len(args) && args[i+1] == "pipe:0" {
			if paced {
				out = append(out, "-re")
			}
			out = append(out, "-i", src)
			i++
			continue
		}
		if i > 0 && args[i-1] == "tee" {
			for n := 3; n < 20; n++ {
				a = strings.ReplaceAll(a, fmt.Sprintf("]pipe:%d", n), "]/dev/null")
			}
		}
		out = append(out, a)
	}
	return out
}

// plainRun runs the plain command line and returns its CPU seconds.
func plainRun(ffmpeg string, args []string, src string, paced bool) (float64, error) {
	cmd := exec.Command(ffmpeg, plainArgs(args, src, paced)...)
	if o, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("plain ffmpeg: %v: %s", err, o)
	}
	return (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), nil
}

type throughput struct {
	rtf              float64
	ffmpegCPU, goCPU float64
	args             []string
	status           transcode.Status
}

// valid: one ffmpeg run that got the whole input.
func (z throughput) valid() bool {
	var restarts uint64
	for _, v := range z.status.Restarts {
		restarts += v
	}
	return restarts == 0 && z.status.DroppedBytes == 0 && z.status.SkippedBytes < 64<<10
}

// zonecastThroughput feeds the whole source as fast as ffmpeg takes it
// (back-pressure) and times it up to the last output.
func zonecastThroughput(set transcode.Settings, data []byte, log *slog.Logger) (throughput, error) {
	set.Backpressure = true
	out := &sinks{}
	c0, s0 := rusage(syscall.RUSAGE_CHILDREN), rusage(syscall.RUSAGE_SELF)
	start := time.Now()
	t := transcode.NewTranscoder("bench", set, out, transcode.NewCapacity(1, "bench"), log)
	feed(context.Background(), data, false, 0, t)
	waitQuiet(out, 3*time.Second)
	end := out.lastWrite()
	st := t.Status()
	t.Close()
	c1, s1 := rusage(syscall.RUSAGE_CHILDREN), rusage(syscall.RUSAGE_SELF)
	if len(st.Args) == 0 {
		return throughput{}, fmt.Errorf("zonecast's ffmpeg never ran: %+v", st)
	}
	return throughput{rtf: float64(*seconds) / end.Sub(start).Seconds(), ffmpegCPU: (c1 - c0).Seconds(), goCPU: (s1 - s0).Seconds(), args: st.Args, status: st}, nil
}

// publisherCost is the CPU this process spends feeding paced chunks to a
// sink that does nothing: the stand-in for ingest, which edge pays anyway.
func publisherCost(data []byte) float64 {
	s0 := rusage(syscall.RUSAGE_SELF)
	feed(context.Background(), data, true, time.Duration(*seconds)*time.Second, &discard{})
	return (rusage(syscall.RUSAGE_SELF) - s0).Seconds()
}

// concurrent runs n paced ladders at once and reports restarts, dropped
// input and the worst lag after a 5 s warm-up.
func concurrent(set transcode.Settings, data []byte, n int, log *slog.Logger) (restarts uint64, dropped uint64, worst time.Duration, err error) {
	set.MaxLag = 30 * time.Second // observe the lag, do not act on it here
	media := time.Duration(*seconds) * time.Second
	capacity := transcode.NewCapacity(n, "bench")
	ts := make([]*transcode.Transcoder, n)
	for i := range ts {
		ts[i] = transcode.NewTranscoder(fmt.Sprintf("s%d", i), set, &sinks{}, capacity, log)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		go func() { defer wg.Done(); feed(ctx, data, true, media, t) }()
	}
	start := time.Now()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(500 * time.Millisecond)
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			if time.Since(start) < 5*time.Second {
				continue
			}
			for _, t := range ts {
				worst = max(worst, t.Status().Lag)
			}
		}
	}
	tick.Stop()
	cancel()
	for _, t := range ts {
		st := t.Status()
		for _, v := range st.Restarts {
			restarts += v
		}
		dropped += st.DroppedBytes
		if !st.Running && st.Restarts["spawn"] > 0 {
			err = fmt.Errorf("ffmpeg could not start")
		}
		t.Close()
	}
	return restarts, dropped, worst, err
}

var psnrRe = regexp.MustCompile(`PSNR y:\S+ u:\S+ v:\S+ average:([0-9.]+)`)

// lowLatencyCost encodes the 720p source's 720p rung (3 Mb/s, veryfast)
// with zonecast's low-latency settings and with x264's defaults, and
// compares CPU, speed and quality (PSNR against the source).
func lowLatencyCost(r *report, ffmpeg, src, dir string) error {
	r.line("### What the low-latency settings cost (720p30 → 720p 3 Mb/s, libx264 veryfast)")
	r.line("")
	r.line("| settings | CPU s | real-time factor | PSNR (dB) | encoder delay |")
	r.line("|---|---|---|---|---|")
	for _, c := range []struct {
		name  string
		args  []string
		delay string
	}{
		{"zonecast: -tune zerolatency -bf 0 (sliced threads, no lookahead)", []string{"-tune", "zerolatency", "-bf", "0"}, "0 frames"},
		{"x264 defaults for veryfast (3 B-frames, 10-frame lookahead, frame threads)", nil, "≈ 10 + B-frames + threads frames (≈ 0.5 s at 30 fps)"},
	} {
		out := filepath.Join(dir, "ll.ts")
		args := append([]string{"-hide_banner", "-loglevel", "error", "-y", "-i", src, "-an", "-c:v", "libx264", "-preset", "veryfast",
			"-b:v", "3M", "-maxrate", "3M", "-bufsize", "3M", "-g", "60", "-sc_threshold", "0"}, c.args...)
		args = append(args, "-f", "mpegts", out)
		start := time.Now()
		cmd := exec.Command(ffmpeg, args...)
		if o, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", c.name, err, o)
		}
		wall := time.Since(start).Seconds()
		cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		o, err := exec.Command(ffmpeg, "-hide_banner", "-i", out, "-i", src, "-lavfi", "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]psnr", "-f", "null", "-").CombinedOutput()
		if err != nil {
			return fmt.Errorf("psnr: %v", err)
		}
		psnr := "?"
		if m := psnrRe.FindSubmatch(o); m != nil {
			psnr = string(m[1])
		}
		r.line("| %s | %.1f | %.2f× | %s | %s |", c.name, cpu, float64(*seconds)/wall, psnr, c.delay)
	}
	r.line("")
	return nil
}
