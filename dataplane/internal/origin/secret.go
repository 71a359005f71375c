package origin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// Guarded are the path prefixes the origin secret guards: live media, and
// recorded media once it is served (under /vod/). Health, the player page
// and the operator's endpoints are not media; the admin listener keeps
// the latter off the public port.
var Guarded = []string{"/live/", "/vod/"}

// guard refuses requests for media that do not carry one of the origin
// secrets: behind a CDN, only the CDN (which adds the header to every
// request it sends to its origins) may fetch from the edge. Nothing else
// about the request counts: X-Forwarded-For and the client address can be
// forged or are the load balancer's.
func (s *Server) guard(next http.Handler) http.Handler {
	if len(s.opts.Secrets) == 0 {
		return next
	}
	// Compared as SHA-256 digests, in constant time over every secret, so
	// that neither a value's bytes nor its length, nor which of the secrets
	// matched, shows in the time an answer takes.
	digests := make([][sha256.Size]byte, len(s.opts.Secrets))
	for i, v := range s.opts.Secrets {
		digests[i] = sha256.Sum256([]byte(v))
	}
	header := s.opts.SecretHeader
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !guarded(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		got := sha256.Sum256([]byte(r.Header.Get(header)))
		ok := 0
		for i := range digests {
			ok |= subtle.ConstantTimeCompare(got[:], digests[i][:])
		}
		if ok == 1 && r.Header.Get(header) != "" {
			next.ServeHTTP(w, r)
			return
		}
		if s.opts.Requests != nil && strings.HasPrefix(r.URL.Path, "/live/") {
			_, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/live/"), "/")
			s.opts.Requests.ObserveRequest(string(packager.KindOf(rest)), http.StatusForbidden)
		}
		packager.ServeError(w, "forbidden: this origin serves its CDN only", http.StatusForbidden)
	})
}

func guarded(path string) bool {
	for _, p := range Guarded {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
