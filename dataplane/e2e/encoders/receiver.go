package encoders

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Receiver is an SRT listener (srt-live-transmit, libsrt's defaults) whose
// output is watched: when media last and first arrived.
type Receiver struct {
	Addr string
	cmd  *exec.Cmd

	mu    sync.Mutex
	first time.Time // first bytes after Mark
	last  time.Time // last bytes seen
	mark  time.Time
	done  chan struct{}
}

// StartReceiver listens on addr (UDP host:port) for callers with the
// passphrase.
func StartReceiver(ctx context.Context, addr, passphrase string) (*Receiver, error) {
	if _, err := exec.LookPath("srt-live-transmit"); err != nil {
		return nil, fmt.Errorf("srt-live-transmit not found: run `make deps` (Debian: apt-get install srt-tools)")
	}
	r := &Receiver{Addr: addr, done: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, "srt-live-transmit", "-q", "srt://"+addr+"?mode=listener&pbkeylen=16&passphrase="+passphrase, "file://con")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		defer close(r.done)
		buf := make([]byte, 64<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				now := time.Now()
				r.mu.Lock()
				r.last = now
				if !r.mark.IsZero() && r.first.IsZero() {
					r.first = now
				}
				r.mu.Unlock()
			}
			if err != nil { // io.EOF or closed: the listener is gone
				return
			}
		}
	}()
	return r, nil
}

// Mark starts waiting for media: First reports the first bytes after it.
func (r *Receiver) Mark(t time.Time) {
	r.mu.Lock()
	r.mark, r.first = t, time.Time{}
	r.mu.Unlock()
}

// First is when media first arrived after Mark (zero: not yet).
func (r *Receiver) First() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

// Receiving reports whether media arrived within the last d.
func (r *Receiver) Receiving(d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.last.IsZero() && time.Since(r.last) < d
}

// Signal sends sig to the listener.
func (r *Receiver) Signal(sig syscall.Signal) { _ = r.cmd.Process.Signal(sig) }

// Stop kills the listener.
func (r *Receiver) Stop() {
	r.Signal(syscall.SIGCONT)
	r.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
	<-r.done
}
