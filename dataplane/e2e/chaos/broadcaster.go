package chaos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	gosrt "github.com/datarhei/gosrt"
)

// Broadcaster is a real ffmpeg encoder (test pattern, 1 s GOP, AAC) whose
// MPEG-TS an SRT sender (gosrt, as a hardware encoder's SRT stack would)
// pushes to a node; when the connection breaks it reconnects to the first
// node that answers /readyz, as the accelerator and load balancer would
// route it. The encoder keeps running meanwhile, so timestamps continue and
// the TS produced while disconnected is lost, as with a real encoder.
type Broadcaster struct {
	targets func() []*Node
	profile Profile

	mu          sync.Mutex
	connectedTo string
	reconnects  []time.Duration // time from the break to the next connection
	connects    []time.Time     // when each connection was established
	cancel      context.CancelFunc
	done        chan struct{}
	ffmpeg      *exec.Cmd
}

// encoderFPS is the encoder's frame rate.
const encoderFPS = 25

// encoderCommand is the live encoder every broadcaster of the suite runs: a
// small test pattern with the profile's GOP, TS on stdout, dying with the
// test.
func encoderCommand(ctx context.Context, p Profile) *exec.Cmd {
	gop := strconv.Itoa(int(p.GOP.Seconds() * encoderFPS))
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate="+strconv.Itoa(encoderFPS),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
		"-b:v", "400k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
		"-f", "mpegts", "-mpegts_flags", "resend_headers", "pipe:1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// StartBroadcaster starts ffmpeg and the SRT sender.
func StartBroadcaster(p Profile, targets func() []*Node) (*Broadcaster, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("ffmpeg not found: run `make deps`")
	}
	b := &Broadcaster{targets: targets, profile: p}
	if err := b.start(time.Time{}); err != nil {
		return nil, err
	}
	return b, nil
}

// start runs a new encoder and sender; broke, when set, is when the
// previous one's connection ended (for the reconnection figures).
func (b *Broadcaster) start(broke time.Time) error {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := encoderCommand(ctx, b.profile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return err
	}
	done := make(chan struct{})
	b.mu.Lock()
	b.cancel, b.done, b.ffmpeg = cancel, done, cmd
	b.mu.Unlock()
	chunks := make(chan []byte, 256)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 7*188)
			if _, err := io.ReadFull(out, buf); err != nil {
				return
			}
			chunks <- buf
		}
	}()
	go b.send(ctx, chunks, done, broke)
	return nil
}

// Restart is the broadcaster's own crash: the encoder and its connection
// die, and after pause a new encoder (whose timestamps start again)
// connects to the first ready node.
func (b *Broadcaster) Restart(pause time.Duration) error {
	b.stopEncoder()
	broke := time.Now()
	time.Sleep(pause)
	return b.start(broke)
}

func ready(n *Node) bool {
	if !n.Alive() {
		return false
	}
	c := http.Client{Timeout: 300 * time.Millisecond}
	r, err := c.Get("http://" + n.HTTP + "/readyz")
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == http.StatusOK
}

func (b *Broadcaster) dial() (gosrt.Conn, *Node) {
	for _, n := range b.targets() {
		if !ready(n) {
			continue
		}
		cfg := gosrt.DefaultConfig()
		cfg.StreamId = "#!::r=" + StreamName + ",m=publish"
		cfg.Passphrase = Passphrase
		cfg.PBKeylen = 16
		cfg.ConnectionTimeout = b.profile.Timings.SRTConnectTimeout
		cfg.PeerIdleTimeout = b.profile.Timings.SRTPeerIdleTimeout
		conn, err := gosrt.Dial("srt", n.SRT, cfg)
		if err == nil {
			return conn, n
		}
	}
	return nil, nil
}

func (b *Broadcaster) send(ctx context.Context, chunks <-chan []byte, done chan struct{}, broke time.Time) {
	defer close(done)
	var conn gosrt.Conn
	lastTry := time.Time{}
	for chunk := range chunks {
		if ctx.Err() != nil {
			break
		}
		if conn == nil && time.Since(lastTry) > b.profile.Timings.BroadcasterRetry {
			lastTry = time.Now()
			c, n := b.dial()
			if c != nil {
				conn = c
				b.mu.Lock()
				b.connectedTo = n.ID
				b.connects = append(b.connects, time.Now())
				if !broke.IsZero() {
					b.reconnects = append(b.reconnects, time.Since(broke))
				}
				b.mu.Unlock()
			}
		}
		if conn == nil {
			continue // the encoder's output while disconnected is lost
		}
		if _, err := conn.Write(chunk); err != nil {
			conn.Close()
			conn = nil
			broke = time.Now()
			lastTry = broke // the encoder pauses before it reconnects
			b.mu.Lock()
			b.connectedTo = ""
			b.mu.Unlock()
		}
	}
	if conn != nil {
		conn.Close()
	}
}

// ConnectedTo is the node the broadcaster sends to ("" while reconnecting).
func (b *Broadcaster) ConnectedTo() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.connectedTo
}

// Reconnects lists how long each reconnection took.
func (b *Broadcaster) Reconnects() []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Duration(nil), b.reconnects...)
}

// Stop ends the encoder and the sender.
func (b *Broadcaster) Stop() { b.stopEncoder() }

func (b *Broadcaster) stopEncoder() {
	b.mu.Lock()
	cancel, cmd, done := b.cancel, b.ffmpeg, b.done
	b.mu.Unlock()
	cancel()
	_ = cmd.Wait()
	<-done
}

// ReconnectSince is how long after t the first connection established
// after t came (0 if none: the broadcaster never had to reconnect).
func (b *Broadcaster) ReconnectSince(t time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.connects {
		if c.After(t) {
			return c.Sub(t)
		}
	}
	return 0
}
