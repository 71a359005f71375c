// Command bench is the viewer fan-out benchmark (make bench-viewers): N
// concurrent LL-HLS viewers (package viewers: a blocking reload on each
// preload hint, every part fetched, as hls.js does) of one 720p stream,
// which a real ffmpeg sends over SRT to a real edge at the shipped timings
// (the edge's defaults: 2 s segments, 200 ms parts).
//
// It runs twice: straight at one edge, then through the CDN stand-in
// (Varnish with the VCL rendered from provision/global's distribution) in
// front of two edges fed the same stream. For each N it reports the
// origin's CPU and RSS, the requests per second it served, the p50/p99 of
// the blocking reloads' wait beyond the part's availability, the viewers
// that fell behind the live edge, and the viewers' own CPU.
//
//	go run ./dataplane/e2e/viewers/bench -edge bin/edge -out .cache/bench-viewers.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/cdn"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/e2e/viewers"
	"github.com/zonecast/zonecast/policies/failover"
)

func main() {
	edgeBin := flag.String("edge", "bin/edge", "edge binary")
	out := flag.String("out", "", "also write the markdown report here")
	source := flag.String("source", ".cache/bench/src720p30-gop2s.ts", "pre-encoded 720p source (made with ffmpeg when missing)")
	counts := flag.String("viewers", "100,500,1000,2000", "viewer counts")
	warmup := flag.Duration("warmup", 4*time.Second, "after the last viewer started, before measuring")
	window := flag.Duration("window", 20*time.Second, "measurement window per viewer count")
	skipCDN := flag.Bool("direct-only", false, "skip the runs through the CDN stand-in")
	profile := flag.String("profile", "", "write a CPU profile of the direct edge at the largest N here (the edge must be built with -tags pprof)")
	flag.Parse()

	var ns []int
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fail(fmt.Errorf("-viewers: %q is not a count", s))
		}
		ns = append(ns, n)
	}
	var report strings.Builder
	w := io.MultiWriter(os.Stdout, &report)
	b := &bench{edgeBin: *edgeBin, source: *source, counts: ns, warmup: *warmup, window: *window, profile: *profile}
	if err := b.run(w, !*skipCDN); err != nil {
		fail(err)
	}
	if *out != "" {
		os.MkdirAll(filepath.Dir(*out), 0o755)
		if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-viewers:", err)
	os.Exit(1)
}

type bench struct {
	edgeBin, source string
	counts          []int
	warmup, window  time.Duration
	dir             string
	profile         string // where the direct edge's CPU profile goes
}

func (b *bench) run(w io.Writer, throughCDN bool) error {
	if err := ensureSource(b.source); err != nil {
		return err
	}
	var err error
	if b.dir, err = os.MkdirTemp("", "zonecast-bench-viewers-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.dir)
	t := failover.DefaultTimings
	fmt.Fprintf(w, "## Viewer fan-out benchmark (%s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "One 720p30 stream (%s: libx264, 2 s GOP, ~2.5 Mb/s, AAC), sent by `ffmpeg -re -stream_loop -1 -c copy` over SRT to `edge` at its defaults (%v segments, %v parts). "+
		"Viewers: package viewers, a blocking reload on each preload hint and every part fetched, one HTTP client each, started over one second; %v warm-up, %v measured per N. "+
		"Machine: %d cores shared with other work (load at start %s), viewers in this process (GOMAXPROCS %d).\n\n",
		b.source, t.SegmentDuration, t.PartDuration, b.warmup, b.window, runtime.NumCPU(), loadavg(), runtime.GOMAXPROCS(0))

	direct, err := b.runDirect(w)
	if err != nil {
		return err
	}
	if !throughCDN {
		return nil
	}
	return b.runCDN(w, direct)
}

// broadcast is the encoder: the pre-encoded source looped in real time,
// copied (not re-encoded: the two cores are for what is measured) to every
// edge over SRT, through ffmpeg's tee muxer when there are several.
func (b *bench) broadcast(edges ...*edge) (*testkit.Proc, error) {
	dest := func(e *edge) string {
		return "srt://" + e.srt + "?streamid=cam1&latency=120000&pkt_size=1316"
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", b.source, "-map", "0", "-c", "copy"}
	if len(edges) == 1 {
		args = append(args, "-f", "mpegts", dest(edges[0]))
	} else {
		var outs []string
		for _, e := range edges {
			outs = append(outs, "[f=mpegts:onfail=ignore]"+dest(e))
		}
		args = append(args, "-f", "tee", strings.Join(outs, "|"))
	}
	p := &testkit.Proc{}
	if err := p.Start(exec.Command("ffmpeg", args...)); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w (install with `bash scripts/deps.sh`)", err)
	}
	for _, e := range edges {
		if err := e.waitLive(); err != nil {
			p.Stop(syscall.SIGTERM, 2*time.Second)
			return nil, fmt.Errorf("%w\nffmpeg: %s", err, p.Out.String())
		}
	}
	return p, nil
}

// measure runs n viewers of url and measures the origins (and the stand-in
// when its pid is given); offset is subtracted from each wait (see
// calibrate).
func (b *bench) measure(n int, url string, origins []*edge, primary *edge, cachePid int, offset time.Duration) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	vs := make([]*viewers.Viewer, n)
	var wg sync.WaitGroup
	transports := make([]*http.Transport, n)
	for i := range vs {
		transports[i] = &http.Transport{
			DialContext:        (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:       4,
			DisableCompression: true,
		}
		vs[i] = &viewers.Viewer{URL: url, Client: &http.Client{Transport: transports[i], Timeout: 10 * time.Second}}
		wg.Add(1)
		go func() { defer wg.Done(); vs[i].Run(ctx) }()
		// Tune-ins spread over a second, as an audience's are.
		time.Sleep(time.Second / time.Duration(n))
	}
	defer func() {
		cancel()
		wg.Wait()
		for _, t := range transports {
			t.CloseIdleConnections()
		}
	}()
	time.Sleep(b.warmup)
	for _, v := range vs {
		v.Record.Reset()
	}
	r := result{n: n}
	var reqs0 float64
	var cpu0 time.Duration
	for _, e := range origins {
		q, err := e.requests()
		if err != nil {
			return r, err
		}
		reqs0 += q
		cpu0 += testkit.GroupCPUTime(e.proc.Pid())
	}
	cache0 := time.Duration(0)
	if cachePid > 0 {
		cache0 = testkit.GroupCPUTime(cachePid)
	}
	self0, _ := testkit.CPUTime(0)
	t0 := time.Now()
	profiled := make(chan error, 1)
	if primary.pprof != "" && n == slices.Max(b.counts) && len(origins) == 1 {
		go func() { profiled <- primary.cpuProfile(b.window-time.Second, b.profile) }()
	} else {
		profiled <- nil
	}
	for time.Since(t0) < b.window {
		time.Sleep(time.Second)
		var rss int64
		for _, e := range origins {
			rss += testkit.GroupRSS(e.proc.Pid())
		}
		r.originRSS = max(r.originRSS, rss)
	}
	el := time.Since(t0).Seconds()
	self1, _ := testkit.CPUTime(0)
	var reqs1 float64
	var cpu1 time.Duration
	for _, e := range origins {
		q, err := e.requests()
		if err != nil {
			return r, err
		}
		reqs1 += q
		cpu1 += testkit.GroupCPUTime(e.proc.Pid())
	}
	if cachePid > 0 {
		r.cacheCPU = 100 * (testkit.GroupCPUTime(cachePid) - cache0).Seconds() / el
	}
	if err := <-profiled; err != nil {
		return r, err
	}
	newest, err := primary.newest()
	if err != nil {
		return r, err
	}
	r.load = loadavg()
	r.originCPU = 100 * (cpu1 - cpu0).Seconds() / el
	r.originReqs = (reqs1 - reqs0) / el
	r.viewersCPU = 100 * (self1 - self0).Seconds() / el

	// A viewer is behind when the newest part it holds is older than
	// PART-HOLD-BACK (three parts) behind the edge's newest: a player
	// playing that far behind the live edge would have stalled.
	holdBack := 3 * failover.DefaultTimings.PartDuration
	var waits []time.Duration
	var bytes int64
	var requests int
	for _, v := range vs {
		s := v.Record.Snapshot()
		for _, smp := range s.Samples {
			waits = append(waits, smp.Extra-offset)
		}
		bytes += s.Bytes
		requests += s.Requests
		r.errs += s.Errors
		r.miss += s.Misses
		lag := newest.Sub(s.LastAvailable)
		r.maxLag = max(r.maxLag, lag)
		if lag > holdBack || s.Resyncs > 0 {
			r.behind++
		}
	}
	r.viewerReqs = float64(requests) / el
	r.mbps = float64(bytes) * 8 / el / 1e6
	r.samples = len(waits)
	if len(waits) > 0 {
		sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
		q := func(f float64) time.Duration { return waits[min(len(waits)-1, int(f*float64(len(waits))))] }
		r.p50, r.p99, r.max = q(0.5), q(0.99), waits[len(waits)-1]
	}
	return r, nil
}

// calibrate finds the offset between the parts' PROGRAM-DATE-TIME ends
// and when they are published, for the edge's current ingest session: the
// packager anchors PROGRAM-DATE-TIME at the wall clock of the session's
// first frame, which a starting encoder delivers late by a constant. A
// lone viewer straight at the edge, whose blocking reloads return the
// moment a part is published, measures it; its median is the offset every
// later wait is taken from. The lone run is the baseline row.
func (b *bench) calibrate(e *edge) (time.Duration, result, error) {
	r, err := b.measure(1, e.streamURL(), []*edge{e}, e, 0, 0)
	return r.p50, r, err
}

func (b *bench) runDirect(w io.Writer) ([]result, error) {
	e, err := b.startEdge("direct", b.profile != "")
	if err != nil {
		return nil, err
	}
	defer e.stop()
	enc, err := b.broadcast(e)
	if err != nil {
		return nil, err
	}
	defer enc.Stop(syscall.SIGTERM, 2*time.Second)

	idle, err := b.idle([]*edge{e})
	if err != nil {
		return nil, err
	}
	offset, base, err := b.calibrate(e)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "### Straight at one edge\n\n")
	fmt.Fprintf(w, "Availability offset (a lone viewer's median wait after PROGRAM-DATE-TIME + parts, subtracted below): %s.\n\n", msf(offset))
	header(w, false)
	row(w, idle, nil, false)
	base.p50, base.p99, base.max = base.p50-offset, base.p99-offset, base.max-offset
	row(w, base, &idle, false)
	var out []result
	for _, n := range b.counts {
		r, err := b.measure(n, e.streamURL(), []*edge{e}, e, 0, offset)
		if err != nil {
			return nil, err
		}
		row(w, r, &idle, false)
		out = append(out, r)
	}
	fmt.Fprintln(w)
	return out, nil
}

func (b *bench) runCDN(w io.Writer, direct []result) error {
	a, err := b.startEdge("primary", false)
	if err != nil {
		return err
	}
	defer a.stop()
	sec, err := b.startEdge("secondary", false)
	if err != nil {
		return err
	}
	defer sec.stop()
	enc, err := b.broadcast(a, sec)
	if err != nil {
		return err
	}
	defer enc.Stop(syscall.SIGTERM, 2*time.Second)
	standin, err := cdn.Start(cdn.Options{Primary: strings.TrimPrefix(a.httpURL, "http://"), Secondary: strings.TrimPrefix(sec.httpURL, "http://"), Dir: filepath.Join(b.dir, "cdn")})
	if err != nil {
		return err
	}
	defer standin.Stop()
	origins := []*edge{a, sec}
	idle, err := b.idle(origins)
	if err != nil {
		return err
	}
	offset, _, err := b.calibrate(a)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "### Through the CDN stand-in (Varnish, VCL from provision/global) in front of two edges\n\n")
	fmt.Fprintf(w, "Origin columns sum both edges (the secondary serves only failovers, so almost nothing). Availability offset (a lone viewer straight at the primary): %s. "+
		"The ratio compares the origins' requests with the same N straight at one edge.\n\n", msf(offset))
	header(w, true)
	row(w, idle, nil, true)
	var first *result
	var ratios []string
	for i, n := range b.counts {
		r, err := b.measure(n, standin.URL()+"/live/cam1/index.m3u8", origins, a, standin.Pid(), offset)
		if err != nil {
			return err
		}
		if first == nil {
			first = &r
		}
		row(w, r, &idle, true)
		if i < len(direct) && direct[i].originReqs > 0 {
			ratios = append(ratios, fmt.Sprintf("N = %d: %.4f × straight at one edge, %.2f × N = %d through the stand-in",
				r.n, r.originReqs/direct[i].originReqs, r.originReqs/first.originReqs, first.n))
		}
	}
	fmt.Fprintf(w, "\nThe origins' requests per second: %s.\n", strings.Join(ratios, "; "))
	fmt.Fprintln(w)
	return nil
}

// idle measures the origins with the stream running and no viewer: the
// cost of ingest and packaging, the baseline the viewers' cost is above.
func (b *bench) idle(origins []*edge) (result, error) {
	r := result{}
	var cpu0 time.Duration
	for _, e := range origins {
		cpu0 += testkit.GroupCPUTime(e.proc.Pid())
	}
	t0 := time.Now()
	time.Sleep(min(b.window, 10*time.Second))
	var cpu1 time.Duration
	for _, e := range origins {
		cpu1 += testkit.GroupCPUTime(e.proc.Pid())
		r.originRSS += testkit.GroupRSS(e.proc.Pid())
	}
	r.originCPU = 100 * (cpu1 - cpu0).Seconds() / time.Since(t0).Seconds()
	r.load = loadavg()
	return r, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// ensureSource encodes the 720p source once: 20 s of test pattern with a
// 2 s GOP (the shipped segment duration) at ~2.5 Mb/s.
func ensureSource(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return errors.New("ffmpeg not found: run `bash scripts/deps.sh`")
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	fmt.Fprintf(os.Stderr, "bench-viewers: encoding %s (20 s of 720p30, once)\n", path)
	gop := strconv.Itoa(int(failover.DefaultTimings.SegmentDuration.Seconds() * 30))
	tmp := path + ".tmp.ts"
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
		"-b:v", "2400k", "-maxrate", "2400k", "-bufsize", "1200k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
		"-f", "mpegts", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("encoding the source: %v: %s", err, out)
	}
	return os.Rename(tmp, path)
}
