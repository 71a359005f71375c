package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

// MasterName is the Sentinel master name the tests and `make run` use; it is
// the one `make run`'s cluster configuration names (scripts/cluster/run.sh).
const MasterName = "zonecast"

// Cluster is a Redis primary, a replica and three sentinels on loopback.
type Cluster struct {
	Master    string
	Primary   *Server // the server started as primary (after a failover it may be the replica)
	Replica   *Server
	Sentinels []*Server
}

// Options tune the set-up; the zero value uses policies/failover.
type Options struct {
	Dir       string        // where the processes keep their files (required)
	DownAfter time.Duration // Sentinel down-after-milliseconds; default failover.DefaultTimings.SentinelDownAfter
	// Host is the address every process binds and announces (default
	// 127.0.0.1); tests that put nodes in network namespaces use the host
	// side of a veth pair.
	Host string
}

// Binaries returns an error naming the missing ones and how to install them.
func Binaries() error {
	var missing []string
	for _, b := range []string{"redis-server", "redis-sentinel"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%v not found on PATH: run `make deps` (Debian packages redis-server, redis-sentinel)", missing)
	}
	return nil
}

// StartT starts a cluster in t.TempDir() and stops it when the test ends.
// A missing redis binary fails the test loudly.
func StartT(t testing.TB) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// StartHostT is StartT with every process bound to host.
func StartHostT(t testing.TB, host string) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), Options{Dir: t.TempDir(), Host: host})
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Start launches primary, replica and sentinels and waits until the sentinels
// know the replica and each other, so that a failover can really happen.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if err := Binaries(); err != nil {
		return nil, err
	}
	// Ports are picked free and bound a moment later by the processes, so
	// with many clusters starting at once (tests in parallel, packages side
	// by side) one can lose a port to another; it then never converges.
	// A fresh set of ports cures that.
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var c *Cluster
		if c, err = start(ctx, o, attempt); err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func start(ctx context.Context, o Options, attempt int) (*Cluster, error) {
	if attempt > 1 {
		o.Dir = filepath.Join(o.Dir, "attempt"+strconv.Itoa(attempt))
	}
	if o.DownAfter == 0 {
		o.DownAfter = failover.DefaultTimings.SentinelDownAfter
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	c := &Cluster{Master: MasterName}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()

	var err error
	if c.Primary, err = newRedis(o.Dir, o.Host, "primary", 0); err != nil {
		return nil, err
	}
	if err := c.Primary.Start(); err != nil {
		return nil, err
	}
	if c.Replica, err = newRedis(o.Dir, o.Host, "replica", c.Primary.Port); err != nil {
		return nil, err
	}
	if err := c.Replica.Start(); err != nil {
		return nil, err
	}
	for i := 0; i < 3; i++ {
		s, err := newSentinel(o.Dir, o.Host, i, c.Primary.Port, o.DownAfter)
		if err != nil {
			return nil, err
		}
		c.Sentinels = append(c.Sentinels, s)
		if err := s.Start(); err != nil {
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.WaitReplicated(wctx); err != nil {
		return nil, err
	}
	if err := c.WaitSentinelsAgree(wctx); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

func newRedis(base, host, name string, primaryPort int) (*Server, error) {
	port, err := testkit.FreePort(host)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// appendonly with fsync every write: a lease token counter must survive
	// both instances being killed (see docs/cluster.md, "Redis loss").
	body := fmt.Sprintf(`port %d
bind %s
protected-mode no
dir %s
save ""
appendonly yes
appendfsync always
repl-diskless-sync yes
repl-diskless-sync-delay 0
replica-announce-ip %s
`, port, host, dir, host)
	if primaryPort != 0 {
		body += fmt.Sprintf("replicaof %s %d\n", host, primaryPort)
	}
	conf, err := writeConf(dir, "redis.conf", body)
	if err != nil {
		return nil, err
	}
	return &Server{Name: name, Host: host, Port: port, Dir: dir, binary: "redis-server", conf: conf}, nil
}

func newSentinel(base, host string, i, primaryPort int, downAfter time.Duration) (*Server, error) {
	port, err := testkit.FreePort(host)
	if err != nil {
		return nil, err
	}
	name := "sentinel" + strconv.Itoa(i)
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ms := downAfter.Milliseconds()
	// failover-timeout bounds how soon a failed election is retried.
	body := fmt.Sprintf(`port %d
bind %s
protected-mode no
dir %s
sentinel announce-ip %s
sentinel monitor %s %s %d 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, port, host, dir, host, MasterName, host, primaryPort, MasterName, ms, MasterName, 3*failover.DefaultTimings.RedisFailover.Milliseconds(), MasterName)
	conf, err := writeConf(dir, "sentinel.conf", body)
	if err != nil {
		return nil, err
	}
	return &Server{Name: name, Host: host, Port: port, Dir: dir, binary: "redis-sentinel", conf: conf}, nil
}

// SentinelAddrs lists the sentinels' addresses (for cluster.redis.sentinels).
func (c *Cluster) SentinelAddrs() []string {
	var out []string
	for _, s := range c.Sentinels {
		out = append(out, s.Addr())
	}
	return out
}

// Close kills every process.
func (c *Cluster) Close() {
	for _, s := range c.Sentinels {
		s.Kill()
	}
	if c.Replica != nil {
		c.Replica.Kill()
	}
	if c.Primary != nil {
		c.Primary.Kill()
	}
}

// CurrentMaster asks the sentinels which address is the primary now.
func (c *Cluster) CurrentMaster(ctx context.Context) (string, error) {
	var errs []error
	for _, s := range c.Sentinels {
		if !s.Running() {
			continue
		}
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, ReadTimeout: time.Second})
		addr, err := sc.GetMasterAddrByName(ctx, c.Master).Result()
		sc.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no sentinel answered: %w", errors.Join(errs...))
}

// ServerAt returns the data server listening on addr.
func (c *Cluster) ServerAt(addr string) *Server {
	for _, s := range []*Server{c.Primary, c.Replica} {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// WaitReplicated waits until the current primary has an online replica.
func (c *Cluster) WaitReplicated(ctx context.Context) error {
	return waitFor(ctx, "replica in sync", func(ctx context.Context) error {
		for _, s := range []*Server{c.Primary, c.Replica} {
			if !s.Running() {
				continue
			}
			cl := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
			info, err := cl.Info(ctx, "replication").Result()
			cl.Close()
			if err != nil {
				continue
			}
			if contains(info, "role:master") && contains(info, "connected_slaves:1") && contains(info, "state=online") {
				return nil
			}
		}
		return errors.New("no primary with an online replica yet")
	})
}

// WaitSentinelsAgree waits until every running sentinel sees the same primary,
// one replica and the other running sentinels.
func (c *Cluster) WaitSentinelsAgree(ctx context.Context) error {
	running := 0
	for _, s := range c.Sentinels {
		if s.Running() {
			running++
		}
	}
	return waitFor(ctx, "sentinels to agree", func(ctx context.Context) error {
		primary := ""
		for _, s := range c.Sentinels {
			if !s.Running() {
				continue
			}
			sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
			m, err := sc.Master(ctx, c.Master).Result()
			sc.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
			addr := m["ip"] + ":" + m["port"]
			if primary == "" {
				primary = addr
			} else if addr != primary {
				return fmt.Errorf("%s sees primary %s, another sees %s", s.Name, addr, primary)
			}
			if m["num-slaves"] != "1" || m["num-other-sentinels"] != strconv.Itoa(running-1) || !contains(m["flags"], "master") || contains(m["flags"], "down") {
				return fmt.Errorf("%s: slaves=%s other-sentinels=%s flags=%s", s.Name, m["num-slaves"], m["num-other-sentinels"], m["flags"])
			}
		}
		return nil
	})
}

// KillPrimary SIGKILLs whichever server is primary now and returns it.
func (c *Cluster) KillPrimary(ctx context.Context) (*Server, error) {
	addr, err := c.CurrentMaster(ctx)
	if err != nil {
		return nil, err
	}
	s := c.ServerAt(addr)
	if s == nil {
		return nil, fmt.Errorf("sentinels name %s, which is not ours", addr)
	}
	s.Kill()
	return s, nil
}

// WaitFailover waits until the sentinels name a primary other than old and it
// answers as a master.
func (c *Cluster) WaitFailover(ctx context.Context, old string) (string, error) {
	var now string
	err := waitFor(ctx, "sentinel failover", func(ctx context.Context) error {
		addr, err := c.CurrentMaster(ctx)
		if err != nil {
			return err
		}
		if addr == old {
			return errors.New("still the old primary")
		}
		cl := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
		defer cl.Close()
		info, err := cl.Info(ctx, "replication").Result()
		if err != nil || !contains(info, "role:master") {
			return fmt.Errorf("%s not yet master (%v)", addr, err)
		}
		now = addr
		return nil
	})
	return now, err
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
