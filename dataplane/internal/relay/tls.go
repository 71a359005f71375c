// Package relay is the QUIC hot-standby link between twin zones: the node
// that ingests a stream sends the incoming MPEG-TS, as received, to the
// standby node over a mutually authenticated QUIC connection (quic-go), one
// QUIC stream per live stream; the standby answers with its status.
package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ALPN identifies the relay protocol.
const ALPN = "zonecast-relay/1"

// TLS holds both sides of the relay's mutual TLS.
type TLS struct {
	Server *tls.Config
	Client *tls.Config
}

// LoadTLS reads the PEM files named in the cluster.tls section. Peers are
// verified by the cluster CA alone: node addresses change and an operator's
// CA issues each node's certificate under the node's own name, so no one
// name fits every node. The CA must therefore be the cluster's own, since
// every certificate it issues is a node. With peerName set, a peer's
// certificate must also be valid for that name (scripts/certs.sh puts
// "zonecast-node" in every certificate it makes).
func LoadTLS(caFile, certFile, keyFile, peerName string) (*TLS, error) {
	if caFile == "" || certFile == "" || keyFile == "" {
		return nil, errors.New("relay: cluster.tls needs ca, cert and key (make them with scripts/certs.sh)")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("relay: CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("relay: %s holds no PEM certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("relay: node certificate: %w", err)
	}
	return &TLS{
		Server: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientCAs:    pool,
			ClientAuth:   tls.RequireAndVerifyClientCert, // the chain, by the CA
			VerifyConnection: func(cs tls.ConnectionState) error {
				return verifyName(cs, peerName)
			},
			NextProtos: []string{ALPN},
			MinVersion: tls.VersionTLS13,
		},
		Client: &tls.Config{
			Certificates: []tls.Certificate{cert},
			// The standard verification also checks a host name; the chain is
			// verified below instead, by the CA, for server authentication.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if err := verifyChain(cs, pool, x509.ExtKeyUsageServerAuth); err != nil {
					return err
				}
				return verifyName(cs, peerName)
			},
			NextProtos: []string{ALPN},
			MinVersion: tls.VersionTLS13,
		},
	}, nil
}

func verifyChain(cs tls.ConnectionState, roots *x509.CertPool, usage x509.ExtKeyUsage) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("relay: the peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return fmt.Errorf("relay: peer certificate not issued by the cluster CA: %w", err)
	}
	return nil
}

func verifyName(cs tls.ConnectionState, name string) error {
	if name == "" || len(cs.PeerCertificates) == 0 {
		return nil
	}
	if err := cs.PeerCertificates[0].VerifyHostname(name); err != nil {
		return fmt.Errorf("relay: cluster.tls.peer_name: %w", err)
	}
	return nil
}

// peerName is the common name of the peer's verified certificate.
func peerName(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return cs.PeerCertificates[0].Subject.CommonName
}
