package relay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/failover"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// operatorCA issues node certificates the way an operator's own CA does:
// each under the node's own names, without scripts/certs.sh's shared name.
type operatorCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newOperatorCA(t *testing.T) *operatorCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "operator CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &operatorCA{dir: t.TempDir(), cert: cert, key: key}
	writePEM(t, filepath.Join(ca.dir, "ca.pem"), "CERTIFICATE", der)
	return ca
}

// issue writes <id>.pem and <id>-key.pem valid for the given DNS names.
func (ca *operatorCA) issue(t *testing.T, id string, names ...string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: id},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(ca.dir, id+".pem"), "CERTIFICATE", der)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(ca.dir, id+"-key.pem"), "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func loadNamed(t *testing.T, dir, id, peerName string) *TLS {
	t.Helper()
	c, err := LoadTLS(filepath.Join(dir, "ca.pem"), filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem"), peerName)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRelayPeerVerification: peers are verified by the cluster CA, and by a
// name only when cluster.tls.peer_name asks for one. Certificates an
// operator's CA issues under each node's own name (no shared name) must
// carry the relay, or every stream would run without a standby.
func TestRelayPeerVerification(t *testing.T) {
	operator := newOperatorCA(t)
	operator.issue(t, "a1", "a1", "localhost")
	operator.issue(t, "b1", "b1", "localhost")
	scripted := testkit.NodeCerts(t, "a1", "b1")
	stranger := newOperatorCA(t)
	stranger.issue(t, "x1", "x1", "zonecast-node")

	cases := []struct {
		name           string
		server, client *TLS
		ok             bool
	}{
		{"operator CA, node names, no peer name", loadNamed(t, operator.dir, "b1", ""), loadNamed(t, operator.dir, "a1", ""), true},
		{"operator CA, node names, peer name required", loadNamed(t, operator.dir, "b1", "zonecast-node"), loadNamed(t, operator.dir, "a1", "zonecast-node"), false},
		{"operator CA, client requires a name the server lacks", loadNamed(t, operator.dir, "b1", ""), loadNamed(t, operator.dir, "a1", "zonecast-node"), false},
		{"scripts/certs.sh, peer name required", loadNamed(t, scripted, "b1", "zonecast-node"), loadNamed(t, scripted, "a1", "zonecast-node"), true},
		{"scripts/certs.sh, no peer name", loadNamed(t, scripted, "b1", ""), loadNamed(t, scripted, "a1", ""), true},
		{"server from another CA with the right name", loadNamed(t, stranger.dir, "x1", ""), loadNamed(t, scripted, "a1", "zonecast-node"), false},
		{"client from another CA with the right name", loadNamed(t, scripted, "b1", "zonecast-node"), loadNamed(t, stranger.dir, "x1", ""), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.server, func(string, Hello) (Sink, error) { return newCollector(), nil })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := openOnce(ctx, srv.Addr(), tc.client)
			if tc.ok && err != nil {
				t.Fatalf("relay refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("relay accepted a peer it should refuse")
			}
		})
	}
}

// openOnce dials and opens one relay stream; with TLS 1.3 the server's
// refusal of the client's certificate can arrive after the client's
// handshake, so the stream's first round trip decides.
func openOnce(ctx context.Context, addr string, tl *TLS) error {
	p, err := Dial(ctx, addr, tl, failover.DefaultTimings, nil)
	if err != nil {
		return err
	}
	defer p.Close()
	out, err := p.Open(ctx, Hello{Stream: "cam1", Leader: "a1"})
	if err != nil {
		return err
	}
	defer out.Close()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, at := out.PeerStatus(); !at.IsZero() {
			return nil
		}
		select {
		case <-p.Done():
			return errors.New("connection closed by the server")
		case <-out.Done():
			return out.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New("no status from the server")
}
