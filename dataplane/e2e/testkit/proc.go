package testkit

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Proc is a server process that a test harness runs (redis-server,
// dynalite, varnishd, versitygw). It gets its own process group, so a
// test's SIGINT does not reach it, and it dies with the test process
// (Pdeathsig), so none outlives a crashed test. What it prints is kept in
// Out unless the command already has somewhere to write.
type Proc struct {
	Out Output

	mu   sync.Mutex
	cmd  *exec.Cmd
	done <-chan struct{}
}

// ErrRunning is returned by Start when the process already runs.
var ErrRunning = errors.New("already running")

// Start runs cmd. Exited tells when it ends.
func (p *Proc) Start(cmd *exec.Cmd) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return ErrRunning
	}
	if cmd.Stdout == nil {
		cmd.Stdout = &p.Out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = cmd.Stdout
	}
	done, err := StartLocked(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p.cmd, p.done = cmd, done
	return nil
}

// Exited is closed when the process last started has ended (nil before
// any start).
func (p *Proc) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Running reports whether a process was started and not stopped since.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Pid is the process's id, which is also its group's (0 when not
// running).
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Signal sends sig to the process (SIGSTOP and SIGCONT freeze and thaw it).
func (p *Proc) Signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Stop sends sig to the process group and waits up to grace for it to
// end, then kills the group. A frozen process is continued first so that
// it can die. Stopping a stopped Proc does nothing.
func (p *Proc) Stop(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	group := -cmd.Process.Pid
	_ = syscall.Kill(group, syscall.SIGCONT)
	_ = syscall.Kill(group, sig)
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(group, syscall.SIGKILL)
	<-done
}

// StartLocked starts cmd in its own process group, killed if the test
// process dies, and returns a channel closed once it has exited (after
// Wait). Linux sends Pdeathsig when the *thread* that started the child
// ends, and the Go runtime ends a thread whenever a goroutine exits locked
// to it (anywhere in the test process): the child is started and waited
// for on a thread of its own, locked until it exits.
func StartLocked(cmd *exec.Cmd) (<-chan struct{}, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}
