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

// ServerName is the name every node certificate carries (scripts/certs.sh):
// nodes have changing addresses, so peers verify the CA and this name.
const ServerName = "zonecast-node"

// ALPN identifies the relay protocol.
const ALPN = "zonecast-relay/1"

// TLS holds both sides of the relay's mutual TLS.
type TLS struct {
	Server *tls.Config
	Client *tls.Config
}

// LoadTLS reads the PEM files named in the cluster.tls section.
func LoadTLS(caFile, certFile, keyFile string) (*TLS, error) {
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
			ClientAuth:   tls.RequireAndVerifyClientCert,
			NextProtos:   []string{ALPN},
			MinVersion:   tls.VersionTLS13,
		},
		Client: &tls.Config{
			Certificates: []tls.Certificate{cert},
			RootCAs:      pool,
			ServerName:   ServerName,
			NextProtos:   []string{ALPN},
			MinVersion:   tls.VersionTLS13,
		},
	}, nil
}

// peerName is the common name of the peer's verified certificate.
func peerName(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return cs.PeerCertificates[0].Subject.CommonName
}
