package origin

import (
	_ "embed"
	"net/http"
)

//go:embed page.html
var pageHTML []byte

// servePage is the player page: it lists streams from /api/v1/streams and
// plays the chosen one with hls.js (served from the web dir at /hls.js/).
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(pageHTML)
}
