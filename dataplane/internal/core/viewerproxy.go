package core

// The cluster's viewer proxy (cluster.viewers.proxy): a node answers for a
// stream it has no role for by fetching from the leader, else the standby.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/zonecast/zonecast/dataplane/internal/cluster"
	"github.com/zonecast/zonecast/dataplane/internal/viewerproxy"
	"github.com/zonecast/zonecast/policies/failover"
)

func newViewerProxy(n *Node, c *cluster.Coordinator, t failover.Timings) (*viewerproxy.Proxy, error) {
	scheme := "http"
	var tr *http.Transport
	if n.Config.HTTP.TLSCert != "" {
		tc, err := peerTLS(n.Config.HTTP.TLSCert, n.Config.HTTP.TLSKey)
		if err != nil {
			return nil, err
		}
		scheme = "https"
		tr = http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
	}
	self := n.Config.Node.ID
	var header http.Header
	if o := n.Config.Origin; len(o.Secrets) > 0 {
		header = http.Header{}
		header.Set(o.SecretHeader, o.Secrets[0])
	}
	return &viewerproxy.Proxy{
		Header: header,
		Self:   self,
		// A dead peer must fail within a part so that the standby is tried
		// well inside the CDN's origin response timeout.
		Client: viewerproxy.NewClient(tr, max(t.PartDuration, t.OriginResponseTimeout/4)),
		Locate: func(ctx context.Context, stream string) ([]string, error) {
			nodes, err := c.ServingNodes(ctx, stream)
			if err != nil {
				return nil, err
			}
			var bases []string
			for _, p := range nodes {
				if p.ID != self && p.HTTP != "" {
					bases = append(bases, scheme+"://"+p.HTTP)
				}
			}
			return bases, nil
		},
	}, nil
}

// peerTLS trusts a peer that presents this node's own edge certificate
// (every node of a deployment gets the same one), or one that the system
// roots vouch for under one of its names (a rotation under way). Peers are
// dialled by private address, so the usual name check against the URL
// cannot apply.
func peerTLS(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("viewer proxy: %w", err)
	}
	own, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("viewer proxy: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("peer sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			if bytes.Equal(leaf.Raw, own.Raw) {
				return nil
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			names := append([]string(nil), own.DNSNames...)
			if len(names) == 0 {
				names = []string{own.Subject.CommonName}
			}
			var errs []error
			for _, name := range names {
				if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter}); err == nil {
					return nil
				} else {
					errs = append(errs, err)
				}
			}
			return fmt.Errorf("peer certificate is neither this node's nor valid for %v: %w", names, errors.Join(errs...))
		},
	}, nil
}
