package origin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
)

func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
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
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestTLSHTTP2AndHTTP3(t *testing.T) {
	cert, key := selfSigned(t)
	s, err := Listen(Options{
		Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key, CORSOrigin: "*",
		Packagers: func(string) http.Handler { return &fakePackager{} },
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Close()
	url := "https://" + s.Addr().String() + "/live/cam1/source/seg3.m4s"
	tlsConf := &tls.Config{InsecureSkipVerify: true}

	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true}}
	var resp *http.Response
	for i := 0; i < 50; i++ { // the HTTP/3 listener comes up beside the TCP one
		resp, err = h2.Get(url)
		if err == nil && resp.Header.Get("Alt-Svc") != "" {
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("TLS over TCP spoke %s, want HTTP/2", resp.Proto)
	}
	if alt := resp.Header.Get("Alt-Svc"); !strings.Contains(alt, "h3=") {
		t.Fatalf("Alt-Svc %q does not announce h3", alt)
	}

	h3 := &http.Client{Transport: &http3.Transport{TLSClientConfig: tlsConf}}
	resp, err = h3.Get(url)
	if err != nil {
		t.Fatalf("HTTP/3: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 3 || string(body) != "body" || resp.Header.Get("Cache-Control") != cacheImmutable {
		t.Fatalf("HTTP/3: %s %q %v", resp.Proto, body, resp.Header)
	}
}
