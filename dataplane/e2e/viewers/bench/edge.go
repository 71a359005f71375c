package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/e2e/viewers"
	"github.com/zonecast/zonecast/policies/failover"
)

// edge is one edge daemon.
type edge struct {
	name    string
	proc    testkit.Proc
	srt     string
	httpURL string
	pprof   string // host:port of its profiler, when built with it
}

func (b *bench) startEdge(name string, profiled bool) (*edge, error) {
	srtPort, err := testkit.FreeDualPort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	httpPort, err := testkit.FreeDualPort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	e := &edge{name: name, srt: fmt.Sprintf("127.0.0.1:%d", srtPort), httpURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	cfg := filepath.Join(b.dir, name+".yaml")
	// The shipped HLS timings: the config's defaults.
	y := fmt.Sprintf("node: {id: %s}\nsrt: {listen: %q, latency: 120ms}\nhttp: {listen: \"127.0.0.1:%d\"}\nlog: {level: warn}\nstreams:\n  - {name: cam1}\n",
		name, e.srt, httpPort)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(b.edgeBin, "-config", cfg)
	if profiled {
		port, err := testkit.FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		e.pprof = fmt.Sprintf("127.0.0.1:%d", port)
		cmd.Env = append(os.Environ(), "ZONECAST_PPROF="+e.pprof)
	}
	if err := e.proc.Start(cmd); err != nil {
		return nil, err
	}
	for i := 0; i < 200; i++ {
		if res, err := http.Get(e.httpURL + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return e, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.stop()
	return nil, fmt.Errorf("edge %s did not become ready:\n%s", name, e.proc.Out.String())
}

func (e *edge) stop() { e.proc.Stop(syscall.SIGTERM, 5*time.Second) }

func (e *edge) streamURL() string { return e.httpURL + "/live/cam1/index.m3u8" }

// requests is how many requests the edge has served, from its metrics.
func (e *edge) requests() (float64, error) {
	res, err := http.Get(e.httpURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var sum float64
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "zonecast_http_requests_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum, sc.Err()
}

// cpuProfile takes a CPU profile of the edge for d into path.
func (e *edge) cpuProfile(d time.Duration, path string) error {
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", e.pprof, int(d.Seconds())))
	if err != nil {
		return fmt.Errorf("profile (is the edge built with -tags pprof?): %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("profile: %s", res.Status)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

// newest is the availability of the newest part the edge lists now.
func (e *edge) newest() (time.Time, error) {
	res, err := http.Get(e.httpURL + "/live/cam1/source/index.m3u8")
	if err != nil {
		return time.Time{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return time.Time{}, err
	}
	if res.StatusCode != 200 {
		return time.Time{}, fmt.Errorf("%s: playlist %s", e.name, res.Status)
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		return time.Time{}, err
	}
	return viewers.NewestAvailable(pl.(*playlist.Media))
}

// waitLive waits until the edge lists HOLD-BACK's worth of segments.
func (e *edge) waitLive() error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(e.httpURL + "/live/cam1/source/index.m3u8"); err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 {
				if pl, err := playlist.Unmarshal(body); err == nil && len(pl.(*playlist.Media).Segments) >= failover.HoldBackSegments {
					return nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("edge %s: not %d segments after a minute of live input:\n%s", e.name, failover.HoldBackSegments, e.proc.Out.String())
}
