package chaos

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync/atomic"
)

// Netns is a network namespace holding one node, joined to the host by a
// veth pair: host side HostIP, namespace side NodeIP (a /24 of its own).
// Redis and the sentinels listen on RedisIP, a further host address, so
// that the node can be cut from Redis alone. Partitions are made inside the
// namespace with core routing only (this kernel has no tc classifiers): the
// link goes down (cut from everything), or a blackhole route swallows its
// packets to RedisIP (cut from Redis only, silently, as a real partition).
// Needs root and iproute2.
type Netns struct {
	Name                    string
	HostIP, NodeIP, RedisIP string
	hostIf, nodeIf          string
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// nextNetns numbers namespaces so that faults running at once never pick
// the same name or addresses; it starts at random so that two test
// processes rarely do.
var nextNetns = func() *atomic.Int64 {
	var n atomic.Int64
	n.Store(rand.Int64N(200))
	return &n
}()

// NewNetns creates the namespace and the veth pair.
func NewNetns() (*Netns, error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("ip (iproute2) not found: run `make deps`")
	}
	n := int(nextNetns.Add(1)%200) + 20
	ns := &Netns{Name: fmt.Sprintf("zcchaos%d", n), HostIP: fmt.Sprintf("10.77.%d.1", n), NodeIP: fmt.Sprintf("10.77.%d.2", n),
		RedisIP: fmt.Sprintf("10.78.%d.1", n), hostIf: fmt.Sprintf("zch%d", n), nodeIf: fmt.Sprintf("zcn%d", n)}
	steps := [][]string{
		{"ip", "netns", "add", ns.Name},
		{"ip", "link", "add", ns.hostIf, "type", "veth", "peer", "name", ns.nodeIf},
		{"ip", "link", "set", ns.nodeIf, "netns", ns.Name},
		{"ip", "addr", "add", ns.HostIP + "/24", "dev", ns.hostIf},
		{"ip", "link", "set", ns.hostIf, "up"},
		{"ip", "netns", "exec", ns.Name, "ip", "addr", "add", ns.NodeIP + "/24", "dev", ns.nodeIf},
		{"ip", "netns", "exec", ns.Name, "ip", "link", "set", ns.nodeIf, "up"},
		{"ip", "netns", "exec", ns.Name, "ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", ns.RedisIP + "/32", "dev", "lo"},
		{"ip", "netns", "exec", ns.Name, "ip", "route", "add", ns.RedisIP + "/32", "via", ns.HostIP},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			ns.Close()
			return nil, fmt.Errorf("network namespace set-up (needs root): %w", err)
		}
	}
	return ns, nil
}

// Close deletes the namespace (and with it the veth pair).
func (ns *Netns) Close() {
	_ = run("ip", "netns", "del", ns.Name)
	_ = run("ip", "link", "del", ns.hostIf)
	_ = run("ip", "addr", "del", ns.RedisIP+"/32", "dev", "lo")
}

// Cut takes the node's link down: it reaches nothing and nothing reaches it.
func (ns *Netns) Cut() error {
	return run("ip", "netns", "exec", ns.Name, "ip", "link", "set", ns.nodeIf, "down")
}

// Heal brings the link and the route to Redis back.
func (ns *Netns) Heal() error {
	if err := run("ip", "netns", "exec", ns.Name, "ip", "link", "set", ns.nodeIf, "up"); err != nil {
		return err
	}
	return run("ip", "netns", "exec", ns.Name, "ip", "route", "replace", ns.RedisIP+"/32", "via", ns.HostIP)
}

// CutRedis swallows every packet from the node to Redis and the sentinels
// while everything else (relay, SRT, HTTP) flows.
func (ns *Netns) CutRedis() error {
	return run("ip", "netns", "exec", ns.Name, "ip", "route", "replace", "blackhole", ns.RedisIP+"/32")
}
