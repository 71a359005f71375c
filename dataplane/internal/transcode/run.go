package transcode

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// runOnce starts one ffmpeg for plan, feeds it pending and then the queue,
// hands each output pipe to its rendition and watches the process until it
// exits, stalls, falls behind, the source is cut or the transcoder closes.
// It returns the cause of the end; ffmpeg is gone when it returns.
func (t *Transcoder) runOnce(plan Plan, pending []chunk) string {
	n := len(plan.Outputs)
	args := plan.Args()
	t.stMu.Lock()
	t.args = args
	t.stMu.Unlock()
	cmd := exec.Command(t.set.FFmpeg, args...)
	// ffmpeg dies with the edge (Pdeathsig) and in its own process group,
	// so that a terminal's Ctrl-C reaches the edge, which stops it cleanly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr := newStderrTail(8 << 10)
	cmd.Stderr = stderr

	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.log.Error("transcode: pipe", "err", err)
		return CauseSpawn
	}
	cmd.Stdin = stdinR
	readers := make([]*os.File, n)
	for i := range n {
		r, w, err := os.Pipe()
		if err != nil {
			t.log.Error("transcode: pipe", "err", err)
			closeAll(append(readers[:i], stdinR, stdinW)...)
			closeAll(cmd.ExtraFiles...)
			return CauseSpawn
		}
		readers[i] = r
		cmd.ExtraFiles = append(cmd.ExtraFiles, w) // pipe:3+i in ffmpeg
	}
	if err := cmd.Start(); err != nil {
		t.log.Error("transcode: ffmpeg did not start", "ffmpeg", t.set.FFmpeg, "err", err)
		closeAll(readers...)
		closeAll(cmd.ExtraFiles...)
		closeAll(stdinR, stdinW)
		return CauseSpawn
	}
	// The child holds its ends now.
	closeAll(cmd.ExtraFiles...)
	stdinR.Close()

	t.running.Store(true)
	t.pid.Store(int64(cmd.Process.Pid))
	defer func() { t.running.Store(false); t.pid.Store(0) }()
	t.setState("running")
	t.log.Info("ffmpeg started", "pid", cmd.Process.Pid, "encoder", plan.Candidate.Encoder,
		"source", plan.Source.String(), "renditions", len(plan.Outputs), "audio_copy", plan.AudioCopy)

	start := time.Now()
	var lastOutput atomic.Int64
	outPTS := make([]atomic.Int64, n)
	outPTSOK := make([]atomic.Bool, n)
	produced := make([]atomic.Bool, n)
	sinks := make([]Sink, n)
	for i, o := range plan.Outputs {
		sinks[i] = t.sink(o.Name)
	}

	clock := newOutputClock(n)
	t.clock.Store(clock)
	defer t.clock.Store(nil)
	var readersWG sync.WaitGroup
	for i := range n {
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			mark := func(now time.Time) { lastOutput.Store(now.UnixNano()); clock.mark(i, now) }
			t.readOutput(readers[i], sinks[i], mark, &outPTS[i], &outPTSOK[i], &produced[i], i == 0, plan.Grid.FirstPTS)
		}()
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	feedDone := make(chan struct{})
	stopFeed := make(chan struct{})
	go func() {
		defer close(feedDone)
		t.feed(stdinW, pending, stopFeed)
	}()

	cause := ""
	var exitErr error
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
watch:
	for {
		select {
		case exitErr = <-exited:
			cause = CauseExit
			break watch
		case <-t.done:
			cause = CauseClosed
		case <-t.discCh:
			cause = CauseDiscontinuity
		case <-tick.C:
			cause = t.check(start, &lastOutput, outPTS, outPTSOK)
		}
		if cause != "" {
			_ = cmd.Process.Kill() // SIGKILL also ends a stopped (SIGSTOP) process
			exitErr = <-exited
			break
		}
	}
	close(stopFeed)
	stdinW.Close()
	<-feedDone
	readersWG.Wait()
	closeAll(readers...)
	t.lagNanos.Store(0)
	t.running.Store(false)
	if slices.Contains(failureCauses, cause) {
		// Before the cut below: a leader may hand its stream to a standby
		// whose ladder runs, and must not publish a truncated segment first.
		t.failed(cause)
	}

	if cause != CauseClosed {
		// The next run's output starts afresh: EXT-X-DISCONTINUITY.
		for i, s := range sinks {
			if produced[i].Load() {
				s.Discontinuity()
			}
		}
	}
	switch cause {
	case CauseClosed:
		t.log.Info("ffmpeg stopped", "ran", time.Since(start).Round(time.Millisecond))
	case CauseDiscontinuity:
		t.log.Info("source cut: ffmpeg restarts on the new input", "ran", time.Since(start).Round(time.Millisecond))
	default:
		t.log.Warn("ffmpeg ended", "cause", cause, "ran", time.Since(start).Round(time.Millisecond),
			"exit", errString(exitErr), "stderr", stderr.lines(6))
	}
	return cause
}

// check is the watchdog: it names the reason to kill ffmpeg, or "".
func (t *Transcoder) check(start time.Time, lastOutput *atomic.Int64, outPTS []atomic.Int64, outPTSOK []atomic.Bool) string {
	now := time.Now()
	inputFlowing := now.Sub(time.Unix(0, t.lastInput.Load())) < t.set.StallTimeout
	last := lastOutput.Load()
	if last == 0 {
		if inputFlowing && now.Sub(start) > t.set.StartTimeout {
			return CauseStart
		}
		return ""
	}
	if inputFlowing && now.Sub(time.Unix(0, last)) > t.set.StallTimeout {
		return CauseStall
	}
	if t.inPTSOK.Load() {
		in := t.inPTS.Load()
		var lag int64
		for i := range outPTS {
			if outPTSOK[i].Load() {
				lag = max(lag, ptsDiff(in, outPTS[i].Load()))
			}
		}
		d := time.Duration(lag) * time.Second / 90000
		t.lagNanos.Store(int64(d))
		if d > t.set.MaxLag {
			return CauseBehind
		}
	}
	return ""
}

// coalesce is how long the pipes to and from ffmpeg gather bytes before one
// write or read. At real time a stream's input arrives as ~240 SRT chunks a
// second and ffmpeg flushes every packet of every rendition (flush_packets=1,
// for latency): handling each alone made the Go side's scheduler wake-ups
// cost ~7 % of ffmpeg's CPU. 20 ms is a tenth of an LL-HLS part. When data
// arrives faster than that (a backlog, a full-speed benchmark), nothing
// waits: a full batch is written or read at once.
const (
	coalesce      = 20 * time.Millisecond
	coalesceBytes = 64 << 10
)

// feed writes the spliced start and then the queue to ffmpeg's stdin.
// A write blocks while ffmpeg is slow or stopped: the queue then fills and
// WriteTS drops (counted), so ingest never waits.
func (t *Transcoder) feed(w io.Writer, pending []chunk, stop <-chan struct{}) {
	epoch := t.epoch.Load()
	for _, c := range pending {
		if _, err := w.Write(c.data); err != nil {
			return
		}
	}
	batch := make([]byte, 0, coalesceBytes+tsPacketSize*8)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	add := func(c chunk) {
		t.queued.Add(-int64(len(c.data)))
		if c.epoch == epoch { // otherwise a discontinuity is being handled by the watchdog
			batch = append(batch, c.data...)
		}
	}
	for {
		select {
		case <-stop:
			return
		case c := <-t.queue:
			add(c)
		}
		timer.Reset(coalesce)
	gather:
		for len(batch) < coalesceBytes {
			select {
			case <-stop:
				return
			case c := <-t.queue:
				add(c)
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		if len(batch) == 0 {
			continue
		}
		if _, err := w.Write(batch); err != nil {
			return
		}
		batch = batch[:0]
	}
}

// readOutput hands one rendition's TS to its sink as it comes, recording
// when output last arrived and its latest video PTS.
func (t *Transcoder) readOutput(r io.Reader, sink Sink, mark func(time.Time), pts *atomic.Int64, ptsOK, produced *atomic.Bool, checkFirst bool, firstPTS int64) {
	sc := newTSScanner()
	buf := make([]byte, 64<<10)
	firstChecked := !checkFirst
	for {
		n, err := r.Read(buf)
		if n > 0 {
			mark(time.Now())
			produced.Store(true)
			_, key := sc.scan(buf[:n], nil, false)
			if sc.havePTS {
				pts.Store(sc.videoPTS)
				ptsOK.Store(true)
			}
			// The run's first frame is its first keyframe (always forced);
			// videoPTS is the latest of the read, which may hold several
			// frames (a start with a backlog), so it is not compared.
			if !firstChecked && key.At >= 0 {
				firstChecked = true
				if d := ptsDiff(key.PTS, firstPTS); d != 0 {
					// The keyframe grid assumes ffmpeg starts at the splice.
					t.log.Warn("ffmpeg's first frame is not the splice keyframe: this run's keyframes are off the segment grid",
						"offset_ms", d/90)
				}
			}
			if err := sink.WriteTS(buf[:n]); err != nil {
				t.log.Debug("rendition rejected TS", "err", err)
			}
		}
		if err != nil {
			return
		}
		if n < len(buf)/2 {
			// Let ffmpeg's per-packet flushes gather in the pipe (see coalesce).
			time.Sleep(coalesce)
		}
	}
}

// sink returns (and remembers) the packager rendition called name.
func (t *Transcoder) sink(name string) Sink {
	t.stMu.Lock()
	defer t.stMu.Unlock()
	s, ok := t.sinks[name]
	if !ok {
		s = t.out.Rendition(name)
		t.sinks[name] = s
	}
	return s
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

func errString(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
