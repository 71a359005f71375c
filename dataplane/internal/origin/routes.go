package origin

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
)

// routes is the public listener's mux: media, health, the player page, and
// the operator's endpoints too unless an admin listener serves them.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/live/", s.cors(http.HandlerFunc(s.serveLive)))
	for pattern, h := range s.opts.Media {
		mux.Handle(pattern, s.cors(h))
	}
	s.health(mux)
	if s.webDir != "" {
		mux.Handle("GET /hls.js/", http.StripPrefix("/hls.js/", http.FileServer(http.Dir(filepath.Join(s.webDir, "node_modules", "hls.js", "dist")))))
	}
	mux.HandleFunc("GET /{$}", s.servePage)
	if s.opts.AdminListen == "" {
		s.operator(mux)
	}
	return mux
}

// adminRoutes is the admin listener's mux.
func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	s.health(mux)
	s.operator(mux)
	return mux
}

// health is /healthz and /readyz, on the public listener always: the load
// balancer's health checks reach the node there.
func (s *Server) health(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
}

// operator is what only the operator asks for: metrics, the streams API,
// the extra routes (drain, transcode report).
func (s *Server) operator(mux *http.ServeMux) {
	if s.opts.StreamsAPI != nil {
		mux.Handle("/api/v1/streams", s.cors(s.opts.StreamsAPI))
		mux.Handle("/api/v1/streams/", s.cors(s.opts.StreamsAPI))
	} else {
		mux.Handle("GET /api/v1/streams", s.cors(http.HandlerFunc(s.serveStreams)))
	}
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", s.opts.Metrics)
	}
	for pattern, h := range s.opts.Routes {
		mux.Handle(pattern, h)
	}
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var err error
	if s.isClosing() {
		err = errors.New("shutting down")
	} else if s.opts.Ready != nil {
		err = s.opts.Ready()
	}
	if err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
	if s.opts.ReadyInfo != nil {
		w.Write([]byte(s.opts.ReadyInfo()))
	}
}

func (s *Server) serveStreams(w http.ResponseWriter, r *http.Request) {
	var body any = []any{}
	if s.opts.Streams != nil {
		body = s.opts.Streams()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(body)
}

// resolveWebDir finds the directory holding node_modules/hls.js/dist: as
// given, else relative to the executable's parent (bin/edge → ./web).
func resolveWebDir(dir string) string {
	if dir == "" {
		return ""
	}
	candidates := []string{dir}
	if !filepath.IsAbs(dir) {
		if exe, err := os.Executable(); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", dir))
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "node_modules", "hls.js", "dist", "hls.min.js")); err == nil {
			abs, _ := filepath.Abs(c)
			return abs
		}
	}
	return ""
}
