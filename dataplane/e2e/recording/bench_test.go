package recording

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// BenchmarkRecordingNode (`make bench-recording`) runs the real edge
// binary twice with the same streams, passthrough without recording and
// then recorded to versitygw, and reports the edge process's CPU and RSS
// per stream, the S3 requests per stream-hour and the upload lag p50/p99
// from its /metrics. Sizes come from the environment:
//
//	RECORDING_NODE_STREAMS  streams (default 8)
//	RECORDING_NODE_WINDOW   measurement window in seconds (default 30)
func BenchmarkRecordingNode(b *testing.B) {
	streams, window := envInt("RECORDING_NODE_STREAMS", 8), envInt("RECORDING_NODE_WINDOW", 30)
	src := testkit.MakeTS(b, b.TempDir(), testkit.TS{Size: "1280x720", Seconds: 10, FPS: 30})
	s3 := s3server.StartT(b, "recordings")
	for k, v := range s3.Env() {
		b.Setenv(k, v)
	}
	for range b.N {
		plain := runNode(b, src, streams, window, "")
		recorded := runNode(b, src, streams, window, fmt.Sprintf(
			"recording: {bucket: %s, region: %s, endpoint: %q, spool_dir: %q, idle_close: 60s}\n",
			s3.Bucket, s3server.Region, s3.Endpoint, b.TempDir()))
		added := 100 * (recorded.cpu - plain.cpu) / plain.cpu
		fmt.Printf("recording through the node, %d streams of a 720p30 test pattern (1 s segments, source only), %d s window, shared 2-core machine:\n", streams, window)
		fmt.Printf("  edge CPU per stream (share of a core): passthrough %.4f, recorded %.4f (%+.0f%%)\n", plain.cpu, recorded.cpu, added)
		fmt.Printf("  edge RSS: passthrough %d MiB, recorded %d MiB (%+.1f MiB per stream)\n", plain.rss>>20, recorded.rss>>20,
			float64(recorded.rss-plain.rss)/float64(streams)/(1<<20))
		fmt.Printf("  S3 requests per stream-hour: %.0f PUT, %.0f other\n", recorded.puts, recorded.others)
		fmt.Printf("  upload lag: p50 ≤ %gs, p99 ≤ %gs (histogram bucket bounds)\n", recorded.p50, recorded.p99)
		b.ReportMetric(added, "%cpu-added")
		b.ReportMetric(recorded.puts, "puts/stream-hour")
	}
}

type nodeFigures struct {
	cpu          float64 // share of a core per stream
	rss          int64
	puts, others float64 // per stream-hour
	p50, p99     float64
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// runNode starts the edge with n streams (recorded when extra configures
// recording), publishes src to each in a loop at real time, and measures
// over window seconds after a warm-up.
func runNode(b *testing.B, src string, n, window int, extra string) nodeFigures {
	b.Helper()
	dir := b.TempDir()
	srtPort, _ := testkit.FreePort("127.0.0.1")
	httpPort, _ := testkit.FreePort("127.0.0.1")
	var y strings.Builder
	fmt.Fprintf(&y, "node: {id: bench}\nsrt: {listen: \"127.0.0.1:%d\"}\nhttp: {listen: \"127.0.0.1:%d\"}\n", srtPort, httpPort)
	y.WriteString("hls: {segment_duration: 1s, part_duration: 200ms}\nlog: {level: warn}\nstreams:\n")
	for i := range n {
		fmt.Fprintf(&y, "  - {name: s%d, record: %v}\n", i, extra != "")
	}
	y.WriteString(extra)
	cfg := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	var out testkit.Output
	cmd := exec.Command(edgeBin, "-config", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			b.Fatalf("edge not ready:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range n {
		go sendLoop(ctx, src, fmt.Sprintf("127.0.0.1:%d", srtPort), fmt.Sprintf("s%d", i))
	}
	time.Sleep(8 * time.Second) // warm-up: every stream publishing and recorded
	m0, cpu0 := scrape(b, base), procCPU(b, cmd.Process.Pid)
	start := time.Now()
	time.Sleep(time.Duration(window) * time.Second)
	m1, cpu1 := scrape(b, base), procCPU(b, cmd.Process.Pid)
	el := time.Since(start)
	f := nodeFigures{cpu: (cpu1 - cpu0).Seconds() / el.Seconds() / float64(n), rss: procRSS(b, cmd.Process.Pid)}
	hours := el.Hours() * float64(n)
	for k, v := range m1 {
		if !strings.HasPrefix(k, "zonecast_recording_s3_requests_total{") {
			continue
		}
		if strings.Contains(k, `op="put"`) {
			f.puts += (v - m0[k]) / hours
		} else {
			f.others += (v - m0[k]) / hours
		}
	}
	f.p50, f.p99 = lagQuantile(m1, 0.5), lagQuantile(m1, 0.99)
	return f
}

// sendLoop publishes src over SRT at real time, looping, until ctx ends:
// ffmpeg copies it (no encoding), gosrt sends it as an encoder would.
func sendLoop(ctx context.Context, src, addr, stream string) {
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
		"-i", src, "-c", "copy", "-f", "mpegts", "pipe:1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pipe, err := cmd.StdoutPipe()
	if err != nil || cmd.Start() != nil {
		return
	}
	defer func() { _ = cmd.Wait() }()
	cfg := gosrt.DefaultConfig()
	cfg.StreamId = "#!::r=" + stream + ",m=publish"
	conn, err := gosrt.Dial("srt", addr, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	buf := make([]byte, 7*188)
	for ctx.Err() == nil {
		if _, err := io.ReadFull(pipe, buf); err != nil {
			return
		}
		if _, err := conn.Write(buf); err != nil {
			return
		}
	}
}

// scrape reads the edge's /metrics as "name{labels}" → value.
func scrape(b *testing.B, base string) map[string]float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// lagQuantile estimates a quantile of the upload lag histogram: the upper
// bound of the bucket it falls in.
func lagQuantile(m map[string]float64, q float64) float64 {
	const name = "zonecast_recording_upload_lag_seconds"
	total := m[name+"_count"]
	if total == 0 {
		return 0
	}
	best := -1.0
	for k, v := range m {
		le, ok := strings.CutPrefix(k, name+`_bucket{le="`)
		if !ok || v < q*total {
			continue
		}
		bound, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64)
		if err == nil && (best < 0 || bound < best) {
			best = bound
		}
	}
	return best
}

// procCPU is a process's user+system CPU time.
func procCPU(b *testing.B, pid int) time.Duration {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+stt) * time.Second / 100 // USER_HZ
}

func procRSS(b *testing.B, pid int) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(st), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
