package rehearse

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Lab is the rehearsal's network: a host bridge (BridgeIP) that every node's
// namespace joins, each zone's Redis on an address of its own on the bridge,
// and the stand-in instance metadata endpoint.
type Lab struct {
	Dir      string
	BridgeIP string
	bridge   string
	mu       sync.Mutex
	netns    []string

	Metadata *Metadata
	// env is what every node's edge gets besides its rendering: the AWS
	// services' stand-in endpoints and credentials (Services).
	env    []string
	caFile string // the trust store standing in for the node's system roots
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// NewLab creates the bridge (needs root and iproute2).
func NewLab(dir string) (*Lab, error) {
	for _, tool := range []string{"ip", "prlimit", "setpriv", "redis-server", "ffmpeg", "bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: run `make deps` (bash scripts/deps.sh)", tool)
		}
	}
	l := &Lab{Dir: dir, BridgeIP: "10.79.0.1", bridge: "zcrh0"}
	_ = sh("ip", "link", "del", l.bridge) // a previous run's
	for _, s := range [][]string{
		{"ip", "link", "add", l.bridge, "type", "bridge"},
		{"ip", "addr", "add", l.BridgeIP + "/24", "dev", l.bridge},
		{"ip", "link", "set", l.bridge, "up"},
	} {
		if err := sh(s...); err != nil {
			return nil, fmt.Errorf("the rehearsal's bridge (needs root): %w", err)
		}
	}
	if err := l.newCA(); err != nil {
		l.Close()
		return nil, err
	}
	md, err := startMetadata(l.BridgeIP)
	if err != nil {
		l.Close()
		return nil, err
	}
	l.Metadata = md
	return l, nil
}

// Close removes every namespace, address and the bridge.
func (l *Lab) Close() {
	if l.Metadata != nil {
		l.Metadata.srv.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ns := range l.netns {
		_ = sh("ip", "netns", "del", ns)
		_ = os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
	_ = sh("ip", "link", "del", l.bridge)
}

// AddHostAddress puts ip on the bridge (a zone's Redis listens there).
func (l *Lab) AddHostAddress(ip string) error {
	return sh("ip", "addr", "add", ip+"/24", "dev", l.bridge)
}

// Netns creates namespace name at ip on the bridge; hosts are /etc/hosts
// lines for it (ip netns exec mounts /etc/netns/<name>/hosts over /etc/hosts).
func (l *Lab) Netns(name, ip string, hosts []string) error {
	_ = sh("ip", "netns", "del", name)
	host, peer := "zcr"+name, "zcn"+name
	l.mu.Lock()
	l.netns = append(l.netns, name)
	l.mu.Unlock()
	for _, s := range [][]string{
		{"ip", "netns", "add", name},
		{"ip", "link", "add", host, "type", "veth", "peer", "name", peer},
		{"ip", "link", "set", host, "master", l.bridge},
		{"ip", "link", "set", host, "up"},
		{"ip", "link", "set", peer, "netns", name},
		{"ip", "netns", "exec", name, "ip", "addr", "add", ip + "/24", "dev", peer},
		{"ip", "netns", "exec", name, "ip", "link", "set", peer, "up"},
		{"ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"},
	} {
		if err := sh(s...); err != nil {
			return err
		}
	}
	dir := filepath.Join("/etc/netns", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	lines := append([]string{"127.0.0.1 localhost"}, hosts...)
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func (l *Lab) newCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rehearsal stand-in for the public CA ElastiCache uses"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	l.caCert, _ = x509.ParseCertificate(der)
	l.caKey = key
	l.caFile = filepath.Join(l.Dir, "trust-store.pem")
	return os.WriteFile(l.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// serverCert issues a certificate for name, signed by the lab's CA.
func (l *Lab) serverCert(dir string, names ...string) (cert, key string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, l.caCert, &k.PublicKey, l.caKey)
	if err != nil {
		return "", "", err
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return "", "", err
	}
	cert, key = filepath.Join(dir, "redis.crt"), filepath.Join(dir, "redis.key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return cert, key, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
}

// Redis is one zone's ElastiCache stand-in: redis-server with TLS only
// (in-transit encryption) and AUTH (the auth token).
type Redis struct {
	Host, IP string
	Port     int
	proc     testkit.Proc
	dir      string
	args     []string
}

// StartRedis runs redis-server at ip:port, TLS only, requiring token, with a
// certificate for hosts (the endpoint names the rendering gave).
func (l *Lab) StartRedis(hosts []string, ip string, port int, token string) (*Redis, error) {
	dir := filepath.Join(l.Dir, "redis-"+ip)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cert, key, err := l.serverCert(dir, hosts...)
	if err != nil {
		return nil, err
	}
	r := &Redis{Host: hosts[0], IP: ip, Port: port, dir: dir, args: []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--bind", ip,
		"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", l.caFile, "--tls-auth-clients", "no",
		"--requirepass", token, "--save", "", "--appendonly", "no", "--dir", dir}}
	return r, r.Start()
}

// Start (re)starts the server and waits for its port.
func (r *Redis) Start() error {
	cmd := exec.Command("redis-server", r.args...)
	cmd.Dir = r.dir
	if err := r.proc.Start(cmd); err != nil {
		return err
	}
	addr := net.JoinHostPort(r.IP, strconv.Itoa(r.Port))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("redis-server with TLS on %s did not come up (does this redis-server speak TLS?):\n%s", addr, r.proc.Out.String())
}

// Stop kills the server.
func (r *Redis) Stop() { r.proc.Stop(syscall.SIGKILL, 5*time.Second) }

// Metadata is the stand-in for the EC2 instance metadata service (IMDSv2)
// that the drain watcher polls: per node (by its address) an instance id
// and the auto-scaling target lifecycle state.
type Metadata struct {
	URL string
	srv *http.Server

	mu    sync.Mutex
	ids   map[string]string // node IP → instance id
	state map[string]string // node IP → target lifecycle state
	polls map[string]int
}

func startMetadata(ip string) (*Metadata, error) {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return nil, err
	}
	m := &Metadata{URL: "http://" + ln.Addr().String(), ids: map[string]string{}, state: map[string]string{}, polls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "IMDSv2 needs a token TTL", http.StatusBadRequest)
			return
		}
		w.Write([]byte("rehearsal-token"))
	})
	mux.HandleFunc("GET /latest/meta-data/{path...}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-aws-ec2-metadata-token") != "rehearsal-token" {
			http.Error(w, "IMDSv2 token required", http.StatusUnauthorized)
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		m.mu.Lock()
		defer m.mu.Unlock()
		switch r.PathValue("path") {
		case "instance-id":
			w.Write([]byte(m.ids[host]))
		case "autoscaling/target-lifecycle-state":
			m.polls[host]++
			w.Write([]byte(m.state[host]))
		default:
			http.NotFound(w, r)
		}
	})
	m.srv = &http.Server{Handler: mux}
	go m.srv.Serve(ln)
	return m, nil
}

// Register gives the node at ip an instance id, InService.
func (m *Metadata) Register(ip, id string) {
	m.mu.Lock()
	m.ids[ip], m.state[ip] = id, "InService"
	m.mu.Unlock()
}

// Terminate sets the node's target lifecycle state as the auto-scaling
// group does when it terminates an instance.
func (m *Metadata) Terminate(ip string) {
	m.mu.Lock()
	m.state[ip] = "Terminated"
	m.mu.Unlock()
}

// waitFile waits for path to hold something (the aws stand-in's record).
func waitFile(ctx context.Context, path string, within time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for ctx.Err() == nil {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", ctx.Err()
}
