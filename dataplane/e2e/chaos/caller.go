package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Caller is a broadcaster as production's reach the nodes: the suite's
// live encoder (encoderCommand) feeding a real libsrt caller,
// srt-live-transmit, with libsrt's default settings unless given others
// (peer-idle timeout 5 s, connection timeout 3 s, latency 120 ms) and its
// auto-reconnect, sending to one address: the load balancer stand-in's
// accelerator. Unlike Broadcaster it chooses no node; where it lands is
// the stand-in's doing. The encoder keeps running while the caller
// reconnects: what it cannot hand over meanwhile is lost, as with a real
// encoder (a small queue, then drops).
type Caller struct {
	mu          sync.Mutex
	connects    []time.Time
	disconnects []time.Time
	log         strings.Builder
	cancel      context.CancelFunc
	done        chan struct{}
	encoder     *exec.Cmd
	caller      *exec.Cmd
}

// callerQueue is how many TS chunks (7 packets each) the encoder holds
// while the caller does not take them: about 0.2 s at the suite's rate.
const callerQueue = 8

// CallerURI is the srt:// URI srt-live-transmit calls to publish the
// suite's stream at to (host:port) from source (a local address; empty:
// any), with options added (e.g. peeridletimeo, latency).
func CallerURI(to, source string, options url.Values) string {
	q := url.Values{}
	q.Set("mode", "caller") // with adapter alone srt-live-transmit would rendezvous
	q.Set("passphrase", Passphrase)
	q.Set("pbkeylen", "16")
	if source != "" {
		q.Set("adapter", source)
	}
	for k, vs := range options {
		q[k] = vs
	}
	// srt-live-transmit does not decode percent escapes: the stream id
	// goes last and raw (its parser takes the rest of the URI for it).
	return "srt://" + to + "?" + q.Encode() + "&streamid=#!::r=" + StreamName + ",m=publish"
}

// StartCaller starts the encoder and srt-live-transmit calling uri.
func StartCaller(p Profile, uri string) (*Caller, error) {
	for _, tool := range []string{"ffmpeg", "srt-live-transmit"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: run `make deps` (Debian: apt-get install ffmpeg srt-tools)", tool)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Caller{cancel: cancel, done: make(chan struct{})}
	c.encoder = encoderCommand(ctx, p)
	ts, err := c.encoder.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	c.caller = exec.CommandContext(ctx, "srt-live-transmit", "-v", "-a:yes", "file://con", uri)
	c.caller.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	in, err := c.caller.StdinPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	out, err := c.caller.StderrPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	c.caller.Stdout = c.caller.Stderr
	if err := c.caller.Start(); err != nil {
		cancel()
		return nil, err
	}
	if err := c.encoder.Start(); err != nil {
		cancel()
		_ = c.caller.Wait()
		return nil, err
	}
	chunks := make(chan []byte, callerQueue)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // the encoder's output: queued, dropped when the queue is full
		defer wg.Done()
		defer close(chunks)
		for {
			buf := make([]byte, 7*188)
			if _, err := io.ReadFull(ts, buf); err != nil {
				return
			}
			select {
			case chunks <- buf:
			default:
			}
		}
	}()
	go func() {
		defer wg.Done()
		defer in.Close()
		for b := range chunks {
			if _, err := in.Write(b); err != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.note(sc.Text())
		}
	}()
	go func() {
		wg.Wait()
		_ = c.encoder.Wait()
		_ = c.caller.Wait()
		close(c.done)
	}()
	return c, nil
}

// note records srt-live-transmit's connection events (with -v it prints
// "SRT target connected" and "SRT target disconnected").
func (c *Caller) note(line string) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(&c.log, "%s %s\n", now.Format("15:04:05.000"), line)
	switch {
	case strings.Contains(line, "SRT target connected"):
		c.connects = append(c.connects, now)
	case strings.Contains(line, "SRT target disconnected"):
		c.disconnects = append(c.disconnects, now)
	}
}

// WaitConnected waits until the caller is connected (d at most).
func (c *Caller) WaitConnected(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		up := len(c.connects) > len(c.disconnects)
		c.mu.Unlock()
		if up {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("srt-live-transmit not connected after %v:\n%s", d, c.Log())
}

// ReconnectSince is how long after t the first connection made after t
// came (0 if none).
func (c *Caller) ReconnectSince(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.connects {
		if at.After(t) {
			return at.Sub(t)
		}
	}
	return 0
}

// NoticedSince is how long after t the caller first noticed its
// connection was gone (0 if it did not).
func (c *Caller) NoticedSince(t time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, at := range c.disconnects {
		if at.After(t) {
			return at.Sub(t)
		}
	}
	return 0
}

// Log is srt-live-transmit's output so far, timestamped.
func (c *Caller) Log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// Stop ends the encoder and the caller.
func (c *Caller) Stop() {
	c.cancel()
	<-c.done
}
