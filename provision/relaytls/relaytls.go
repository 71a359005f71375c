// Package relaytls checks the PEM files of the relay's mutual TLS — the
// QUIC hot-standby links between twin zones — before a stack hands them to
// its nodes: a CA, and one node certificate and key shared by every node of
// the stack. Nodes verify each other by the CA and by the name PeerName,
// which every node certificate carries (scripts/certs.sh makes such files).
// A key that does not match its certificate, or a certificate the CA did
// not sign, would otherwise only show as relays that never connect.
package relaytls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// PeerName is the name every node certificate is valid for; nodes refuse a
// peer whose certificate lacks it (the edge's cluster.tls.peer_name).
const PeerName = "zonecast-node"

// Material is one stack's relay TLS files, PEM-encoded.
type Material struct {
	CA, Cert, Key string
}

// Validate reports, naming the stack setting, what would keep two nodes
// from opening a relay with this material at now.
func (m Material) Validate(now time.Time) error {
	ca, err := certificate("zonecast:relayCa", m.CA)
	if err != nil {
		return err
	}
	if !ca.IsCA {
		return errors.New("zonecast:relayCa is not a CA certificate (basicConstraints CA:TRUE)")
	}
	cert, err := certificate("zonecast:relayCert", m.Cert)
	if err != nil {
		return err
	}
	if _, err := tls.X509KeyPair([]byte(m.Cert), []byte(m.Key)); err != nil {
		return fmt.Errorf("zonecast:relayKey does not hold the private key of zonecast:relayCert: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{
			DNSName: PeerName, Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage},
		}); err != nil {
			return fmt.Errorf("zonecast:relayCert does not serve as a relay certificate (signed by zonecast:relayCa, "+
				"valid now for DNS:%s, server and client authentication; scripts/certs.sh makes one): %w", PeerName, err)
		}
	}
	return nil
}

func certificate(setting, p string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s is not a PEM certificate", setting)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	return c, nil
}

// Generate makes throwaway material valid for a year, for previews and
// tests only: a stack's real material is the operator's (scripts/certs.sh),
// so that the CA's key never enters Pulumi state.
func Generate() (Material, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Material{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "zonecast relay CA (throwaway)"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return Material{}, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	nodeKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Material{}, err
	}
	nodeTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: PeerName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		DNSNames: []string{PeerName}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	nodeDER, err := x509.CreateCertificate(rand.Reader, nodeTmpl, ca, nodeKey.Public(), caKey)
	if err != nil {
		return Material{}, err
	}
	keyPEM, err := keyPEM(nodeKey)
	if err != nil {
		return Material{}, err
	}
	return Material{
		CA:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: nodeDER})),
		Key:  keyPEM,
	}, nil
}

func keyPEM(k *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
