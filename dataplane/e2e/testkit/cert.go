package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// SelfSignedPEM writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files in a temporary directory of t.
func SelfSignedPEM(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// NodeCerts runs scripts/certs.sh (openssl), as an operator would, for the
// given node ids: the relay's mutual-TLS files ca.pem, <id>.pem and
// <id>-key.pem in a temporary directory of t, which it returns.
func NodeCerts(t testing.TB, ids ...string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("bash", append([]string{filepath.Join(RepoRoot(), "scripts", "certs.sh"), dir}, ids...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/certs.sh: %v\n%s", err, out)
	}
	return dir
}
