// Package viewerproxy answers a viewer's request for a stream this node
// neither leads nor stands by for, by fetching it from the node that does.
//
// Behind an NLB the CDN's requests land on any node of a zone, and most
// nodes have no role for a given stream; answering 404 there would make
// every such request a viewer-visible error (CloudFront fails over on 5xx
// and connection failures, and its second try lands on a random node too).
// The node asks the lease who leads and who stands by, and fetches from
// them in that order. A request it forwards carries HopHeader, and a node
// receiving one never forwards again: no loops, at most one extra hop.
package viewerproxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// HopHeader marks a request one node forwarded to another.
const HopHeader = "X-Zonecast-Forwarded-By"

// Locator returns the base URLs ("http://10.0.1.7:8080") of the nodes that
// serve stream, the leader first; none when nobody leads it.
type Locator func(ctx context.Context, stream string) ([]string, error)

// Proxy fetches live objects from the nodes that serve them.
type Proxy struct {
	Self   string // this node's id, sent in HopHeader
	Locate Locator
	Client *http.Client // its Timeout must allow a blocking playlist reload
	// Header is added to every forwarded request: the origin secret, which
	// a peer asks of it like of any request for media.
	Header http.Header
	// Observe, when set, counts each request's outcome: ok, failover (the
	// first node failed, a later one answered), no_answer (502),
	// unlocated (503), unknown_stream or hop (404).
	Observe func(result string)
}

func (p *Proxy) observe(result string) {
	if p.Observe != nil {
		p.Observe(result)
	}
}

// hopByHop are the headers a proxy must not forward (RFC 9110 §7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// Handler serves stream's objects; r.URL.Path is relative to
// /live/<stream>/ (as the origin hands it to a packager).
func (p *Proxy) Handler(stream string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HopHeader) != "" {
			p.observe("hop")
			packager.ServeError(w, "stream not served by this node", http.StatusNotFound)
			return
		}
		bases, err := p.Locate(r.Context(), stream)
		if err != nil {
			// Coordination is down and nothing is known: let the CDN try
			// its other origin.
			p.observe("unlocated")
			packager.ServeError(w, "cannot locate the stream: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if len(bases) == 0 {
			p.observe("unknown_stream")
			packager.ServeError(w, "unknown stream", http.StatusNotFound)
			return
		}
		path := "/live/" + stream + "/" + strings.TrimPrefix(r.URL.Path, "/")
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		var errs []error
		for _, base := range bases {
			resp, err := p.fetch(r, base+path)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode >= 500 {
				// The leader may be mid-takeover; the standby serves the
				// same names.
				errs = append(errs, errors.New(base+": "+resp.Status))
				resp.Body.Close()
				continue
			}
			if len(errs) == 0 {
				p.observe("ok")
			} else {
				p.observe("failover")
			}
			relay(w, resp)
			return
		}
		p.observe("no_answer")
		packager.ServeError(w, "no serving node answered: "+errors.Join(errs...).Error(), http.StatusBadGateway)
	})
}

func (p *Proxy) fetch(r *http.Request, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, url, nil)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Accept", "Accept-Encoding", "If-None-Match", "If-Modified-Since", "Range"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	req.Header.Set(HopHeader, p.Self)
	// The peer's certificate is the edge certificate, named for the host
	// the CDN asked for.
	req.Host = r.Host
	return p.Client.Do(req)
}

// relay copies a peer's answer, flushing as it goes so that a part being
// written reaches the viewer as it is produced.
func relay(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	for _, h := range hopByHop {
		w.Header().Del(h)
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return // io.EOF, or the peer went away mid-body: the viewer retries
		}
	}
}

// NewClient is the client peers are fetched with: short connection set-up
// (a dead peer must fail fast so the standby is tried within the CDN's own
// timeout), no overall timeout (blocking reloads and the viewer's own
// cancellation bound a request).
func NewClient(tr *http.Transport, connect time.Duration) *http.Client {
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
