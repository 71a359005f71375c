package rehearse

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/chaos"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Node is one rendered node: its namespace, its temporary root (where the
// boot script's files go), its edge process and the drain watcher.
type Node struct {
	ID, IP string
	Zone   *Zone
	Root   string
	lab    *Lab
	// Chaos is the node as the chaos readers and broadcaster see it: SRT
	// on the node, HTTP through a plain-HTTP front (the CDN's HTTPS fetch
	// from the origin) to the node's HTTPS.
	Chaos   *chaos.Node
	logPath string
	front   *http.Server
	// Substitutions says what differs from a real node, one line each.
	Substitutions []string

	cmd  *exec.Cmd
	done <-chan struct{}
}

// NewNode makes the namespace and the HTTP front; nothing is installed yet.
func (l *Lab) NewNode(z *Zone, id, ip string, hosts []string) (*Node, error) {
	n := &Node{ID: id, IP: ip, Zone: z, lab: l, Root: filepath.Join(l.Dir, "root-"+id), logPath: filepath.Join(l.Dir, id+".log")}
	if err := l.Netns(id, ip, hosts); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	target, _ := url.Parse("https://" + ip + ":443")
	// The CDN adds the origin secret to every request it sends an origin.
	header, secret := envValue(z.Env, "ZONECAST_ORIGIN_SECRET_HEADER"), envValue(z.Env, "ZONECAST_ORIGIN_SECRETS")
	secret, _, _ = strings.Cut(secret, ",")
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		if header != "" && secret != "" {
			r.Out.Header.Set(header, secret)
		}
	}}
	// The rendering's HTTPS certificate is a self-signed test value.
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ResponseHeaderTimeout: 5 * time.Second}
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a stopped node refuses: the reader fails over
	n.front = &http.Server{Handler: proxy}
	go n.front.Serve(ln)
	n.Chaos = &chaos.Node{ID: id, Zone: z.Name, SRT: ip + ":9000", HTTP: ln.Addr().String()}
	return n, nil
}

func (n *Node) substitute(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	for _, have := range n.Substitutions {
		if have == s {
			return
		}
	}
	n.Substitutions = append(n.Substitutions, s)
}

// rooted maps a path on the node to the temporary root.
func (n *Node) rooted(p string) string { return filepath.Join(n.Root, p) }

// Install does what the boot script does before it starts the unit, from
// the rendering: the SSM parameters to their files, the node's id appended
// to the environment file, the edge binary (binary, which must report the
// pinned version unless pinned is false) at the unit's ExecStart, all
// owned by the unit's user.
func (n *Node) Install(binary string, env string) error {
	_ = os.RemoveAll(n.Root)
	for dst, content := range n.Zone.Files {
		if dst == n.Zone.Unit.EnvironmentFile {
			content = env
		}
		if err := writeFile(n.rooted(dst), content, 0o600); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(n.rooted(n.Zone.Unit.EnvironmentFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	// The lines the boot script appends, with what it reads from the
	// instance metadata: this node's id and private address.
	for _, line := range n.Zone.Appends {
		fmt.Fprintln(f, os.Expand(line, func(v string) string {
			switch v {
			case "INSTANCE_ID":
				return n.ID
			case "PRIVATE_IP":
				return n.IP
			}
			return "$" + v
		}))
	}
	f.Close()
	bin, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	if err := writeFile(n.rooted(n.Zone.Unit.ExecStart), string(bin), 0o755); err != nil {
		return err
	}
	uid, gid, err := n.user()
	if err != nil {
		return err
	}
	if err := os.Chmod(n.Root, 0o755); err != nil {
		return err
	}
	for dir, mode := range n.Zone.Dirs {
		// install -d makes the parents as root, 0755.
		if err := os.MkdirAll(filepath.Dir(n.rooted(dir)), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(n.rooted(dir), mode); err != nil {
			return err
		}
		if err := os.Chown(n.rooted(dir), uid, gid); err != nil {
			return err
		}
	}
	for dst := range n.Zone.Files {
		for d := filepath.Dir(n.rooted(dst)); strings.HasPrefix(d, n.Root+"/"); d = filepath.Dir(d) {
			_ = os.Chown(d, uid, gid)
			_ = os.Chmod(d, 0o755)
		}
		if err := os.Chown(n.rooted(dst), uid, gid); err != nil {
			return err
		}
	}
	n.substitute("files: the boot script's destinations under the temporary root %s (/etc/zonecast/... → %s/etc/zonecast/..., /var/lib/zonecast/... likewise)", n.Root, n.Root)
	return nil
}

func writeFile(p, content string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), mode)
}

// user is the unit's User, or nobody where this machine has no such user
// (the boot script creates it on a real node).
func (n *Node) user() (int, int, error) {
	name := n.Zone.Unit.User
	u, err := user.Lookup(name)
	if err != nil {
		n.substitute("user: %s does not exist here; the edge runs as nobody (unprivileged, as %s would be)", name, name)
		if u, err = user.Lookup("nobody"); err != nil {
			return 0, 0, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// Start runs the edge as the unit says: in the node's namespace, its
// environment only from the EnvironmentFile and Environment= lines (paths
// into the temporary root), as the unit's user with its ambient
// capabilities and open-file limit.
func (n *Node) Start() error {
	u := n.Zone.Unit
	raw, err := os.ReadFile(n.rooted(u.EnvironmentFile))
	if err != nil {
		return err
	}
	vars, err := ParseEnvironmentFile(string(raw))
	if err != nil {
		return err
	}
	vars = append(vars, u.Environment...)
	for i, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(v, "/etc/") || strings.HasPrefix(v, "/var/") {
			vars[i] = k + "=" + n.rooted(v)
		}
	}
	// The AWS services' endpoints and credentials (Lab.Services).
	vars = append(vars, n.lab.env...)
	// ElastiCache's certificate chains to a public CA in the node's system
	// trust store; here the stand-in's CA is that store.
	vars = append(vars, "SSL_CERT_FILE="+n.lab.caFile, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	n.substitute("trust store: SSL_CERT_FILE=%s (the stand-in CA that signed the Redis stand-in's certificate)", n.lab.caFile)
	uid, gid, err := n.user()
	if err != nil {
		return err
	}
	args := []string{"ip", "netns", "exec", n.ID}
	if limit := u.LimitNOFILE; limit != "" {
		// This machine may cap the hard limit below the unit's (a
		// container without CAP_SYS_RESOURCE): the most it allows.
		var rl syscall.Rlimit
		if want, err := strconv.ParseUint(limit, 10, 64); err == nil && syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && want > rl.Max {
			n.substitute("open files: LimitNOFILE=%s is above this machine's hard limit; %d", limit, rl.Max)
			limit = strconv.FormatUint(rl.Max, 10)
		}
		args = append(args, "prlimit", "--nofile="+limit+":"+limit, "--")
	}
	args = append(args, "setpriv", "--reuid="+strconv.Itoa(uid), "--regid="+strconv.Itoa(gid), "--clear-groups")
	if len(u.Capabilities) > 0 {
		caps := "+" + strings.Join(u.Capabilities, ",+")
		args = append(args, "--inh-caps="+caps, "--ambient-caps="+caps)
	}
	args = append(args, "--", "env", "-i")
	args = append(args, vars...)
	args = append(args, n.rooted(u.ExecStart))
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== rehearsal: starting %s at %s\n", n.ID, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	done, err := testkit.StartLocked(cmd)
	if err != nil {
		logf.Close()
		return err
	}
	go func() { <-done; logf.Close() }()
	n.cmd, n.done = cmd, done
	n.Chaos.Adopt(cmd, done)
	if err := os.WriteFile(filepath.Join(n.Root, "edge.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	return nil
}

// Exited reports whether the edge has exited.
func (n *Node) Exited() bool {
	if n.done == nil {
		return true
	}
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Ready asks /readyz over HTTPS on the node's address.
func (n *Node) Ready() (int, string) {
	c := http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	r, err := c.Get("https://" + n.IP + ":443/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	b := make([]byte, 512)
	k, _ := r.Body.Read(b)
	return r.StatusCode, strings.TrimSpace(string(b[:k]))
}

// WaitReady waits for /readyz 200 and returns how long it took from start.
func (n *Node) WaitReady(start time.Time, within time.Duration) (time.Duration, error) {
	for time.Since(start) < within {
		if code, _ := n.Ready(); code == http.StatusOK {
			return time.Since(start), nil
		}
		if n.Exited() {
			return 0, fmt.Errorf("%s exited before it was ready:\n%s", n.ID, n.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := n.Ready()
	return 0, fmt.Errorf("%s not ready after %v (/readyz %d %s):\n%s", n.ID, within, code, body, n.Log())
}

// Log is the edge's output so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.logPath)
	return string(b)
}

// Stop sends SIGTERM (the unit's KillSignal; a drain) and waits up to
// grace, then kills.
func (n *Node) Stop(grace time.Duration) {
	if n.Exited() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(grace):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// Close stops the edge and the front.
func (n *Node) Close() {
	if n.cmd != nil {
		n.Stop(5 * time.Second)
	}
	n.front.Close()
}

// DrainWatch runs the rendered drain watcher as its unit does (root, in the
// node's namespace), with the metadata address pointed at the stand-in and
// two commands standing in on PATH: systemctl (stop: the unit's KillSignal,
// then up to TimeoutStopSec for the exit) and aws (records the call). It
// returns the file the aws stand-in writes.
func (n *Node) DrainWatch() (calls string, cmd *exec.Cmd, err error) {
	script := strings.ReplaceAll(n.Zone.DrainWatch, "http://169.254.169.254", n.lab.Metadata.URL)
	n.substitute("drain-watch: instance metadata http://169.254.169.254 → the stand-in %s; systemctl and aws are stand-ins on PATH", n.lab.Metadata.URL)
	bin := filepath.Join(n.Root, "usr/local/lib/zonecast")
	stubs := filepath.Join(n.Root, "stand-ins")
	calls = filepath.Join(n.Root, "aws-calls")
	timeout := n.Zone.Unit.TimeoutStopSec
	if timeout == "" {
		timeout = "90"
	}
	files := map[string]string{
		filepath.Join(bin, "drain-watch"): script,
		filepath.Join(stubs, "systemctl"): fmt.Sprintf(`#!/bin/bash
# stand-in for: systemctl stop zonecast-edge.service
[ "$1 $2" = "stop zonecast-edge.service" ] || { echo "systemctl stand-in: unexpected $*" >&2; exit 1; }
pid=$(cat %s/edge.pid)
kill -TERM "$pid" 2>/dev/null || exit 0
for _ in $(seq $((%s * 10))); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -KILL "$pid"
`, n.Root, timeout),
		filepath.Join(stubs, "aws"): fmt.Sprintf("#!/bin/bash\necho \"$*\" >> %s\n", calls),
	}
	for p, body := range files {
		if err := writeFile(p, body, 0o755); err != nil {
			return "", nil, err
		}
	}
	cmd = exec.Command("ip", "netns", "exec", n.ID, "env", "PATH="+stubs+":/usr/sbin:/usr/bin:/sbin:/bin", "bash", filepath.Join(bin, "drain-watch"))
	logf, err := os.OpenFile(n.logPath+".drain-watch", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return calls, cmd, cmd.Start()
}

// Done closes when the edge exits.
func (n *Node) Done() <-chan struct{} { return n.done }

// AdminURL is the node's admin listener (control API), at the address the
// boot script appends to the environment file; "" when it sets none.
func (n *Node) AdminURL() string {
	raw, err := os.ReadFile(n.rooted(n.Zone.Unit.EnvironmentFile))
	if err != nil {
		return ""
	}
	if addr := envValue(string(raw), "ZONECAST_ADMIN_LISTEN"); addr != "" {
		return "http://" + addr
	}
	return ""
}

// ServerVersion is the release /api/v1/streams names (its Server header),
// asked on the admin listener, where the control API is.
func (n *Node) ServerVersion(t testing.TB) string {
	t.Helper()
	api := n.AdminURL()
	if api == "" {
		t.Fatalf("%s: the boot script appends no ZONECAST_ADMIN_LISTEN to the environment file", n.ID)
	}
	c := http.Client{Timeout: 2 * time.Second}
	r, err := c.Get(api + "/api/v1/streams")
	if err != nil {
		t.Fatalf("%s: /api/v1/streams: %v", n.ID, err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: /api/v1/streams %d", n.ID, r.StatusCode)
	}
	return r.Header.Get("Server")
}
