package encoders

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FFmpegCaller is ffmpeg encoding a test pattern live and sending it with
// its own SRT output (libsrt) to one srt:// URL. ffmpeg does not reconnect:
// when libsrt breaks the connection its write fails and ffmpeg exits; the
// caller starts a new ffmpeg at once, as a supervisor (or OBS's automatic
// reconnect, with its retry delay at the minimum) does.
type FFmpegCaller struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	exits []time.Time
	log   strings.Builder
}

// StartFFmpegCaller starts the loop.
func StartFFmpegCaller(url string) (*FFmpegCaller, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("ffmpeg not found: run `make deps`")
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &FFmpegCaller{url: url, cancel: cancel, done: make(chan struct{})}
	go c.loop(ctx)
	return c, nil
}

func (c *FFmpegCaller) loop(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
			"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
			"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "50", "-b:v", "400k", "-pix_fmt", "yuv420p",
			"-f", "mpegts", c.url)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		out, _ := cmd.CombinedOutput()
		now := time.Now()
		c.mu.Lock()
		c.exits = append(c.exits, now)
		fmt.Fprintf(&c.log, "%s exit: %s\n", now.Format("15:04:05.000"), strings.TrimSpace(string(out)))
		c.mu.Unlock()
	}
}

// NoticedSince is how long after t the first ffmpeg exited (0: none did).
func (c *FFmpegCaller) NoticedSince(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.exits {
		if at.After(t) {
			return at.Sub(t)
		}
	}
	return 0
}

// Log lists ffmpeg's exits and their messages.
func (c *FFmpegCaller) Log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// Stop ends the loop.
func (c *FFmpegCaller) Stop() {
	c.cancel()
	<-c.done
}
