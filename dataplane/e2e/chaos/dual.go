package chaos

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	gosrt "github.com/datarhei/gosrt"
)

// DualFeed is input redundancy as broadcasters run it: one encoder (real
// ffmpeg) whose TS goes out twice over SRT, the primary feed to one node and
// the backup feed to a node of the twin zone. StopPrimary kills the primary
// feed (its SRT connection closes and nothing more is sent on it).
type DualFeed struct {
	cancel      context.CancelFunc
	ffmpeg      *exec.Cmd
	done        chan struct{}
	primaryDown atomic.Bool

	mu   sync.Mutex
	errs []error
}

// StartDualFeed connects both feeds and starts the encoder.
func StartDualFeed(p Profile, primary, backup *Node) (*DualFeed, error) {
	conns := make([]gosrt.Conn, 2)
	for i, n := range []*Node{primary, backup} {
		if i == 1 {
			// The primary's node takes the lease first, as when the backup
			// encoder is started after the primary.
			time.Sleep(500 * time.Millisecond)
		}
		cfg := gosrt.DefaultConfig()
		cfg.StreamId = "#!::r=" + StreamName + ",m=publish"
		cfg.Passphrase = Passphrase
		cfg.PBKeylen = 16
		cfg.ConnectionTimeout = 2 * time.Second
		c, err := gosrt.Dial("srt", n.SRT, cfg)
		if err != nil {
			for _, x := range conns[:i] {
				x.Close()
			}
			return nil, fmt.Errorf("feed to %s: %w", n.ID, err)
		}
		conns[i] = c
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := encoderCommand(ctx, p)
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		conns[0].Close()
		conns[1].Close()
		return nil, err
	}
	d := &DualFeed{cancel: cancel, ffmpeg: cmd, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		defer conns[1].Close()
		for {
			buf := make([]byte, 7*188)
			if _, err := io.ReadFull(out, buf); err != nil {
				return
			}
			if d.primaryDown.Load() {
				if conns[0] != nil {
					conns[0].Close()
					conns[0] = nil
				}
			} else if _, err := conns[0].Write(buf); err != nil {
				d.note(err)
			}
			if _, err := conns[1].Write(buf); err != nil {
				d.note(err)
			}
		}
	}()
	return d, nil
}

func (d *DualFeed) note(err error) {
	d.mu.Lock()
	d.errs = append(d.errs, err)
	d.mu.Unlock()
}

// StopPrimary ends the primary feed.
func (d *DualFeed) StopPrimary() { d.primaryDown.Store(true) }

// Stop ends the encoder and both feeds.
func (d *DualFeed) Stop() {
	d.cancel()
	_ = d.ffmpeg.Wait()
	<-d.done
}
