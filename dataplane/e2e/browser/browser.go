// Package browser drives headless Debian Chromium over the DevTools
// protocol for the end-to-end suites: the player page with hls.js, and
// what it reports. A small client over golang.org/x/net/websocket (already
// in the module graph) instead of a CDP library, which would be a new
// module for four calls.
package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

// Browser is one headless Chromium with one page.
type Browser struct {
	cmd  *exec.Cmd
	page *websocket.Conn
	id   int
}

var devtoolsRe = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)`)

// Start launches Chromium; it is killed when the test ends. A machine
// without it fails the test with how to install it.
func Start(t testing.TB) *Browser {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Fatal("chromium not found: run `make deps` (Debian's chromium package)")
	}
	cmd := exec.Command("chromium",
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--autoplay-policy=no-user-gesture-required",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--remote-allow-origins=*",
		"about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	portc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() { // keep draining so chromium never blocks on stderr
			if m := devtoolsRe.FindStringSubmatch(sc.Text()); m != nil && !sent {
				portc <- m[2]
				sent = true
			}
		}
	}()
	var port string
	select {
	case port = <-portc:
	case <-time.After(20 * time.Second):
		t.Fatal("chromium did not open its DevTools port")
	}
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	for _, tg := range targets {
		if tg.Type == "page" {
			ws, err := websocket.Dial(tg.WS, "", "http://127.0.0.1/")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ws.Close() })
			return &Browser{cmd: cmd, page: ws}
		}
	}
	t.Fatalf("no page target in %+v", targets)
	return nil
}

// call sends one CDP command and waits for its answer (events are skipped).
func (b *Browser) call(method string, params any) (json.RawMessage, error) {
	b.id++
	id := b.id
	if err := websocket.JSON.Send(b.page, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return nil, err
	}
	b.page.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := websocket.JSON.Receive(b.page, &msg); err != nil {
			return nil, err
		}
		if msg.ID != id {
			continue
		}
		if msg.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, msg.Error.Message)
		}
		return msg.Result, nil
	}
}

// Navigate opens url in the page.
func (b *Browser) Navigate(t testing.TB, url string) {
	t.Helper()
	if _, err := b.call("Page.navigate", map[string]any{"url": url}); err != nil {
		t.Fatal(err)
	}
}

// Eval evaluates a JavaScript expression and decodes its value into out.
func (b *Browser) Eval(expr string, out any) error {
	res, err := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("javascript: %s", r.Exception.Text)
	}
	if len(r.Result.Value) == 0 {
		return fmt.Errorf("no value for %q", expr)
	}
	return json.Unmarshal(r.Result.Value, out)
}

// PlayerState is what the player page exposes about hls.js and the video
// element.
type PlayerState struct {
	CurrentTime float64   `json:"t"`
	Paused      bool      `json:"paused"`
	ReadyState  int       `json:"rs"`
	Fatal       *string   `json:"fatal"`
	Errors      []string  `json:"errors"`
	LowLatency  bool      `json:"ll"`
	Latency     float64   `json:"latency"`
	URL         string    `json:"url"`
	At          time.Time `json:"-"` // when it was sampled
}

// PlayerStateJS reads a PlayerState from the player page.
const PlayerStateJS = `(() => { const v = document.getElementById("video"); const h = window.hlsInstance;
 return { t: v.currentTime, paused: v.paused, rs: v.readyState, fatal: window.player.fatal, errors: window.player.errors,
  ll: !!(h && h.lowLatencyMode), latency: (h && h.latency) || 0, url: window.player.url }; })()`

// WaitPlaying waits up to d until the player plays past the given
// currentTime, and returns its state then; a fatal hls.js error or a
// timeout fails the test.
func (b *Browser) WaitPlaying(t testing.TB, past float64, d time.Duration) PlayerState {
	t.Helper()
	var st PlayerState
	deadline := time.Now().Add(d)
	for {
		if err := b.Eval(PlayerStateJS, &st); err == nil && st.CurrentTime > past && !st.Paused {
			return st
		}
		if st.Fatal != nil {
			t.Fatalf("hls.js fatal error: %s (errors %v)", *st.Fatal, st.Errors)
		}
		if time.Now().After(deadline) {
			t.Fatalf("playback did not start in %v: %+v", d, st)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// WatchPlayback samples the player every 500 ms for d.
func (b *Browser) WatchPlayback(ctx context.Context, d time.Duration) ([]PlayerState, error) {
	return b.Sample(ctx, d, 500*time.Millisecond)
}

// Sample samples the player every interval for d.
func (b *Browser) Sample(ctx context.Context, d, every time.Duration) ([]PlayerState, error) {
	var out []PlayerState
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		var st PlayerState
		if err := b.Eval(PlayerStateJS, &st); err != nil {
			return out, err
		}
		st.At = time.Now()
		out = append(out, st)
		time.Sleep(every)
	}
	return out, nil
}

// Summarize lists the samples' currentTime.
func Summarize(states []PlayerState) string {
	var parts []string
	for _, s := range states {
		parts = append(parts, fmt.Sprintf("%.2f", s.CurrentTime))
	}
	return strings.Join(parts, " ")
}
