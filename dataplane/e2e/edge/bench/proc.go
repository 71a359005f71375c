package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// edgeProc is the daemon under measurement.
type edgeProc struct {
	cmd     *exec.Cmd
	srtAddr string
	httpURL string
	logFile string
}

func freePort(network string) string {
	if network == "udp" {
		c, _ := net.ListenPacket("udp", "127.0.0.1:0")
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	return l.Addr().String()
}

func startEdge(bin, dir string, streams []string, extra string) (*edgeProc, error) {
	srtAddr, httpAddr := freePort("udp"), freePort("tcp")
	var y strings.Builder
	fmt.Fprintf(&y, "node: {id: bench}\nsrt: {listen: %q, latency: 120ms}\nhttp: {listen: %q}\n", srtAddr, httpAddr)
	y.WriteString("hls: {segment_duration: 1s, part_duration: 200ms}\nlog: {level: warn}\nstreams:\n")
	for _, s := range streams {
		fmt.Fprintf(&y, "  - {name: %s}\n", s)
	}
	y.WriteString(extra)
	cfg := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(cfg, []byte(y.String()), 0o600); err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "edge.log")
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", cfg)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &edgeProc{cmd: cmd, srtAddr: srtAddr, httpURL: "http://" + httpAddr, logFile: logFile}
	for i := 0; i < 200; i++ {
		if resp, err := http.Get(e.httpURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return e, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.stop()
	return nil, fmt.Errorf("edge did not become ready (log %s)", logFile)
}

func (e *edgeProc) pid() int { return e.cmd.Process.Pid }

func (e *edgeProc) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		e.cmd.Process.Kill()
		<-done
	}
}

// segmentsWritten reads every stream's segment counter from /metrics.
func (e *edgeProc) segmentsWritten() (map[string]float64, error) {
	return e.metric("zonecast_hls_segments_written_total")
}

// metric reads a per-stream metric from /metrics.
func (e *edgeProc) metric(name string) (map[string]float64, error) {
	re := regexp.MustCompile(`(?m)^` + name + `\{stream="([^"]+)"\} (\S+)$`)
	resp, err := http.Get(e.httpURL + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	out := map[string]float64{}
	for _, m := range re.FindAllStringSubmatch(b.String(), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] = v
	}
	return out, nil
}
