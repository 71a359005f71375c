package origin

import (
	"net/http"
	"strings"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// serveLive routes /live/<stream>/<rest> to the stream's packager. The
// packager decides every header of media (Content-Type, Cache-Control,
// ETag); the origin only counts the request by kind and status (CORS is
// added around it).
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/live/"), "/")
	rec := &statusWriter{ResponseWriter: w}
	defer func() {
		if s.opts.Requests != nil {
			s.opts.Requests.ObserveRequest(string(packager.KindOf(rest)), rec.code())
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		packager.ServeError(rec, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var h http.Handler
	if name != "" && s.opts.Packagers != nil {
		h = s.opts.Packagers(name)
	}
	if h == nil || rest == "" {
		packager.ServeError(rec, "unknown stream", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	h.ServeHTTP(rec, r2)
}

// statusWriter records the status of a response for the request metrics;
// it never changes the response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming responses working through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
