package chaos

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Node is one edge process.
type Node struct {
	ID, Zone        string
	SRT, HTTP, QUIC string
	Config          string
	bin, logPath    string
	prefix          []string // e.g. ip netns exec NAME
	// Env adds ZONECAST_* settings to the node's next Start.
	Env []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done <-chan struct{}
}

// Stream used by every chaos test.
const (
	StreamName = "cam1"
	Passphrase = "correct-horse-battery"
)

func newNode(dir, bin, id, zone, ip string, sentinels []string, certs string, p Profile) (*Node, error) {
	var ports [3]int
	portIP := ip
	if !strings.HasPrefix(ip, "127.") && !strings.HasSuffix(ip, ".1") {
		portIP = "127.0.0.1" // a namespace of its own: every port is free there
	}
	for i := range ports {
		p, err := freePort(portIP)
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	n := &Node{ID: id, Zone: zone, SRT: addr(ip, ports[0]), HTTP: addr(ip, ports[1]), QUIC: addr(ip, ports[2]), bin: bin,
		logPath: filepath.Join(dir, id+".log")}
	// The slate is off, as it ships (failover.SlateShips); the rows measure the media, and its filler would
	// fill the program date-time holes they count as media lost.
	cfg := fmt.Sprintf(`node: {id: %s, region: local, zone: %s}
srt: {listen: "%s", on_conflict: takeover}
http: {listen: "%s"}
hls: {segment_duration: %s, part_duration: %s, slate: false}
streams:
  - {name: %s, passphrase: "%s"}
log: {level: info}
cluster:
  quic: {listen: "%s"}
  tls: {ca: %s/ca.pem, cert: %s/%s.pem, key: %s/%s-key.pem}
  redis: {sentinels: ["%s"], master: zonecast}
  capacity: 8
  admin_token: chaos-admin-token
`, id, zone, n.SRT, n.HTTP, p.Segment(), p.Part(), StreamName, Passphrase, n.QUIC, certs, certs, id, certs, id, strings.Join(sentinels, `", "`))
	n.Config = filepath.Join(dir, id+".yaml")
	return n, os.WriteFile(n.Config, []byte(cfg), 0o644)
}

// Start launches the process and waits for /healthz.
func (n *Node) Start() error {
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append(append([]string(nil), n.prefix...), n.bin, "-config", n.Config)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = filepath.Dir(n.Config)
	cmd.Env = append(os.Environ(), n.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("%s exited at start:\n%s", n.ID, n.Log())
		default:
		}
		r, err := http.Get("http://" + n.HTTP + "/healthz")
		if err == nil {
			r.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not healthy in time:\n%s", n.ID, n.Log())
}

// Log is the node's output so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.logPath)
	return string(b)
}

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(sig)
	}
}

// Kill sends SIGKILL and waits for the exit.
func (n *Node) Kill() {
	n.signal(syscall.SIGCONT)
	n.signal(syscall.SIGKILL)
	n.Wait(10 * time.Second)
}

// Term sends SIGTERM (drain) without waiting.
func (n *Node) Term() { n.signal(syscall.SIGTERM) }

// Freeze and Thaw: SIGSTOP and SIGCONT.
func (n *Node) Freeze() { n.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen node.
func (n *Node) Thaw() { n.signal(syscall.SIGCONT) }

// Wait waits up to d for the process to exit; false if it did not.
func (n *Node) Wait(d time.Duration) bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// Alive reports whether the process runs.
func (n *Node) Alive() bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Adopt makes n follow a process started elsewhere (the rehearsal starts
// nodes as their rendered systemd unit says), so that the broadcaster's
// readiness probe and Alive, Term, Kill and Wait act on it; done closes
// when it exits.
func (n *Node) Adopt(cmd *exec.Cmd, done <-chan struct{}) {
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
}
