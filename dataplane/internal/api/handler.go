// Package api is the control API of the stream catalog, served on the
// admin listener:
//
//	POST   /api/v1/streams               create (201; 409 taken; 400 invalid, field named)
//	GET    /api/v1/streams               list: settings without secrets, with the live state
//	GET    /api/v1/streams/{name}        one stream, likewise
//	PATCH  /api/v1/streams/{name}        change settings
//	DELETE /api/v1/streams/{name}        delete (204)
//	POST   /api/v1/streams/{name}/rotate new passphrase
//
// Every request that changes a stream or reveals a secret needs
// "Authorization: Bearer <admin.token>"; without it the answer is 401.
// Request bodies and secrets are never logged.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/zonecast/zonecast/dataplane/internal/catalog"
)

// Store is the catalog the API reads and writes (catalog.DynamoDB, or the
// read-only catalog.Static, whose writes answer 405).
type Store interface {
	Create(ctx context.Context, s catalog.Stream) (catalog.Stream, error)
	Get(ctx context.Context, name string) (catalog.Stream, error)
	List(ctx context.Context, cursor string, limit int) ([]catalog.Stream, string, error)
	Update(ctx context.Context, s catalog.Stream) (catalog.Stream, error)
	Rotate(ctx context.Context, name, passphrase string) (catalog.Stream, error)
	Delete(ctx context.Context, name string) error
}

// Live is what the node knows of its streams' live state: today's rows of
// GET /api/v1/streams (state, publisher, bitrate; leader and standby in a
// cluster), by stream name. Each row marshals to a JSON object.
type Live interface {
	Rows() map[string]any
}

// Notifier is told of every change the API made to the catalog: the signed
// events stream.created, stream.updated and stream.deleted, with the
// stream's settings (never its secrets) as data. It must not fail the
// request: a change that is made is answered as made.
type Notifier interface {
	Emit(ctx context.Context, typ, stream string, data map[string]any)
}

// The event types the API emits.
const (
	EventCreated = "stream.created"
	EventUpdated = "stream.updated"
	EventDeleted = "stream.deleted"
)

// Options configure the handler.
type Options struct {
	Store Store
	// Token is admin.token; empty refuses every request that needs it.
	Token string
	// Live adds the live state to GET answers; nil: settings only.
	Live Live
	// SRTAddress is the host:port broadcasters publish to, and
	// PlaybackURL the base of viewers' URLs (e.g. the CDN's), for the
	// ready-to-use URLs of the answers.
	SRTAddress  string
	PlaybackURL string
	// Notifier, when set, is told of each change (events).
	Notifier Notifier
	Log      *slog.Logger
}

// Handler serves the control API.
type Handler struct {
	opts Options
	mux  *http.ServeMux
}

// New builds the handler.
func New(opts Options) *Handler {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	opts.PlaybackURL = strings.TrimSuffix(opts.PlaybackURL, "/")
	h := &Handler{opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /api/v1/streams", h.authorized(h.create))
	h.mux.HandleFunc("GET /api/v1/streams", h.list)
	h.mux.HandleFunc("GET /api/v1/streams/{name}", h.get)
	h.mux.HandleFunc("PATCH /api/v1/streams/{name}", h.authorized(h.update))
	h.mux.HandleFunc("DELETE /api/v1/streams/{name}", h.authorized(h.delete))
	h.mux.HandleFunc("POST /api/v1/streams/{name}/rotate", h.authorized(h.rotate))
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// authorized lets through requests carrying the admin token, compared in
// constant time. The answer to any other request says nothing more.
func (h *Handler) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || h.opts.Token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="zonecast"`)
			h.fail(w, r, http.StatusUnauthorized, errorBody{Error: "unauthorized: Authorization: Bearer <admin.token> required"})
			return
		}
		next(w, r)
	}
}

// createRequest is POST /api/v1/streams's body.
type createRequest struct {
	Name             string            `json:"name"`
	Passphrase       string            `json:"passphrase"`
	BackupPassphrase string            `json:"backup_passphrase"`
	Ladder           string            `json:"ladder"`
	Record           bool              `json:"record"`
	Latency          string            `json:"latency"`
	Labels           map[string]string `json:"labels"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !h.decode(w, r, &req) {
		return
	}
	if req.Passphrase == "" {
		req.Passphrase = catalog.NewPassphrase()
	}
	s, err := h.opts.Store.Create(r.Context(), catalog.Stream{
		Name: req.Name, Passphrase: req.Passphrase, BackupPassphrase: req.BackupPassphrase,
		Ladder: req.Ladder, Record: req.Record, Latency: req.Latency, Labels: req.Labels,
	})
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	h.notify(r, EventCreated, s.Name, h.view(s, nil))
	h.reply(w, r, http.StatusCreated, h.withSecrets(s))
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	limit, cursor := 0, r.URL.Query().Get("cursor")
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			h.fail(w, r, http.StatusBadRequest, errorBody{Error: "limit must be a positive integer", Field: "limit"})
			return
		}
		limit = n
	}
	var streams []catalog.Stream
	for {
		// Without a limit, every page: the answer is the whole list, as
		// GET /api/v1/streams has always been.
		page, next, err := h.opts.Store.List(r.Context(), cursor, limit)
		if err != nil {
			h.storeError(w, r, err)
			return
		}
		streams = append(streams, page...)
		cursor = next
		if next == "" || limit > 0 {
			break
		}
	}
	if limit > 0 && cursor != "" {
		w.Header().Set("Zonecast-Next-Cursor", cursor)
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].Name < streams[j].Name })
	var rows map[string]any
	if h.opts.Live != nil {
		rows = h.opts.Live.Rows()
	}
	out := make([]map[string]any, 0, len(streams))
	for _, s := range streams {
		out = append(out, h.view(s, rows[s.Name]))
	}
	h.reply(w, r, http.StatusOK, out)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	s, err := h.opts.Store.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	var row any
	if h.opts.Live != nil {
		row = h.opts.Live.Rows()[s.Name]
	}
	h.reply(w, r, http.StatusOK, h.view(s, row))
}

// updateRequest is PATCH's body: only the fields present change.
type updateRequest struct {
	// Version, when given, makes the change conditional: 409 if the stream
	// is no longer at it.
	Version          *int64             `json:"version"`
	BackupPassphrase *string            `json:"backup_passphrase"` // "" removes it
	Ladder           *string            `json:"ladder"`
	Record           *bool              `json:"record"`
	Latency          *string            `json:"latency"`
	Labels           *map[string]string `json:"labels"` // replaces them all
	// Name and Passphrase are refused: a stream is renamed by creating
	// another, and its key changes through rotate.
	Name       *string `json:"name"`
	Passphrase *string `json:"passphrase"`
}

// updateTries bounds the read-modify-write retries of a PATCH without a
// version that meets concurrent writers.
const updateTries = 3

func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	var req updateRequest
	if !h.decode(w, r, &req) {
		return
	}
	name := r.PathValue("name")
	if req.Name != nil && *req.Name != name {
		h.fail(w, r, http.StatusBadRequest, errorBody{Error: "name cannot change: create a stream under the new name", Field: "name"})
		return
	}
	if req.Passphrase != nil {
		h.fail(w, r, http.StatusBadRequest, errorBody{Error: "passphrase changes through POST /api/v1/streams/" + name + "/rotate", Field: "passphrase"})
		return
	}
	for try := 1; ; try++ {
		s, err := h.opts.Store.Get(r.Context(), name)
		if err != nil {
			h.storeError(w, r, err)
			return
		}
		if req.Version != nil && *req.Version != s.Version {
			h.fail(w, r, http.StatusConflict, errorBody{Error: fmt.Sprintf("stream %q is at version %d, not %d", name, s.Version, *req.Version), Field: "version"})
			return
		}
		if req.BackupPassphrase != nil {
			s.BackupPassphrase = *req.BackupPassphrase
		}
		if req.Ladder != nil {
			s.Ladder = *req.Ladder
		}
		if req.Record != nil {
			s.Record = *req.Record
		}
		if req.Latency != nil {
			s.Latency = *req.Latency
		}
		if req.Labels != nil {
			s.Labels = *req.Labels
		}
		s, err = h.opts.Store.Update(r.Context(), s)
		if errors.Is(err, catalog.ErrVersion) && req.Version == nil && try < updateTries {
			continue
		}
		if err != nil {
			h.storeError(w, r, err)
			return
		}
		h.notify(r, EventUpdated, s.Name, h.view(s, nil))
		h.reply(w, r, http.StatusOK, h.view(s, nil))
		return
	}
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.opts.Store.Delete(r.Context(), r.PathValue("name")); err != nil {
		h.storeError(w, r, err)
		return
	}
	h.opts.Log.Info("api: stream deleted", "stream", r.PathValue("name"), "remote", r.RemoteAddr)
	h.notify(r, EventDeleted, r.PathValue("name"), map[string]any{"name": r.PathValue("name")})
	w.WriteHeader(http.StatusNoContent)
}

// rotateRequest is rotate's optional body.
type rotateRequest struct {
	Passphrase string `json:"passphrase"` // empty: generated
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request) {
	var req rotateRequest
	if r.ContentLength != 0 && !h.decode(w, r, &req) {
		return
	}
	if req.Passphrase == "" {
		req.Passphrase = catalog.NewPassphrase()
	}
	s, err := h.opts.Store.Rotate(r.Context(), r.PathValue("name"), req.Passphrase)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	data := h.view(s, nil)
	data["passphrase_rotated"] = true
	h.notify(r, EventUpdated, s.Name, data)
	h.reply(w, r, http.StatusOK, h.withSecrets(s))
}

// notify tells the notifier of a change; the request's cancellation does
// not stop the event from being queued.
func (h *Handler) notify(r *http.Request, typ, name string, data map[string]any) {
	if h.opts.Notifier != nil {
		h.opts.Notifier.Emit(context.WithoutCancel(r.Context()), typ, name, data)
	}
}

// view is a stream without its secrets, with the live state's fields
// (today's GET /api/v1/streams row) beside the settings.
func (h *Handler) view(s catalog.Stream, live any) map[string]any {
	out := map[string]any{}
	if live != nil {
		// The row's own fields, as the row marshals them.
		if b, err := json.Marshal(live); err == nil {
			_ = json.Unmarshal(b, &out)
		}
	}
	out["name"] = s.Name
	out["encrypted"] = s.Passphrase != ""
	out["backup"] = s.BackupPassphrase != ""
	out["ladder"] = s.Ladder
	out["latency"] = s.Latency
	out["record"] = s.Record
	out["labels"] = labelsOf(s)
	out["created"] = s.Created
	out["updated"] = s.Updated
	out["version"] = s.Version
	out["urls"] = map[string]string{"playback": h.playbackURL(s)}
	return out
}

// withSecrets is the answer to a create or rotate: the stream with its
// passphrases and the URLs that carry them.
func (h *Handler) withSecrets(s catalog.Stream) map[string]any {
	out := h.view(s, nil)
	out["passphrase"] = s.Passphrase
	urls := map[string]string{"playback": h.playbackURL(s), "publish": h.publishURL(s.Name, s.Passphrase)}
	if s.BackupPassphrase != "" {
		out["backup_passphrase"] = s.BackupPassphrase
		urls["publish_backup"] = h.publishURL(s.Name, s.BackupPassphrase)
	}
	out["urls"] = urls
	return out
}

func labelsOf(s catalog.Stream) map[string]string {
	if s.Labels == nil {
		return map[string]string{}
	}
	return s.Labels
}

// publishURL is what the broadcaster's encoder is given. The streamid is in
// the "publish:<name>" form the ingest accepts, because the access-control
// form ("#!::r=...") starts with "#", which URL parsers take for a fragment.
func (h *Handler) publishURL(name, passphrase string) string {
	q := "streamid=publish:" + name
	if passphrase != "" {
		// A generated or validated passphrase is printable ASCII; escape
		// what a query cannot carry as is.
		q += "&passphrase=" + url.QueryEscape(passphrase) + "&pbkeylen=16"
	}
	return "srt://" + h.opts.SRTAddress + "?" + q
}

// playbackURL is the viewers' playlist: LL-HLS, or classic HLS for a
// stream at standard latency.
func (h *Handler) playbackURL(s catalog.Stream) string {
	playlist := "index.m3u8"
	if s.Latency == catalog.LatencyStandard {
		playlist = "classic.m3u8"
	}
	return h.opts.PlaybackURL + "/live/" + s.Name + "/" + playlist
}

// errorBody is every error's answer; Field names the field at fault.
type errorBody struct {
	Error  string               `json:"error"`
	Field  string               `json:"field,omitempty"`
	Fields []catalog.FieldError `json:"fields,omitempty"`
}

// maxBody bounds a request body: a stream's settings are a few hundred bytes.
const maxBody = 64 << 10

// decode reads a JSON body strictly (an unknown field is an error naming
// it); on failure it has answered 400.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, into any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(into)
	if err == nil {
		return true
	}
	body := errorBody{Error: "invalid JSON body: " + err.Error()}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		body = errorBody{Error: fmt.Sprintf("%s must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String())), Field: typeErr.Field}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		body = errorBody{Error: fmt.Sprintf("unknown field %q", field), Field: field}
	}
	h.fail(w, r, http.StatusBadRequest, body)
	return false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map":
		return "object of strings"
	default:
		return "number"
	}
}

// storeError answers a store's error with its status.
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	var invalid catalog.Invalid
	switch {
	case errors.As(err, &invalid):
		h.fail(w, r, http.StatusBadRequest, errorBody{Error: invalid.Error(), Field: invalid[0].Field, Fields: invalid})
	case errors.Is(err, catalog.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, errorBody{Error: err.Error()})
	case errors.Is(err, catalog.ErrExists), errors.Is(err, catalog.ErrVersion):
		h.fail(w, r, http.StatusConflict, errorBody{Error: err.Error()})
	case errors.Is(err, catalog.ErrReadOnly):
		w.Header().Set("Allow", "GET")
		h.fail(w, r, http.StatusMethodNotAllowed, errorBody{Error: err.Error()})
	default:
		// The store's own errors name streams, never their secrets.
		h.opts.Log.Error("api: catalog store failed", "method", r.Method, "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusServiceUnavailable, errorBody{Error: "catalog unavailable: " + err.Error()})
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, body errorBody) {
	h.opts.Log.Info("api: refused", "method", r.Method, "path", r.URL.Path, "status", status, "remote", r.RemoteAddr)
	h.reply(w, r, status, body)
}

func (h *Handler) reply(w http.ResponseWriter, _ *http.Request, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// The URLs are copied from a terminal into encoders: "&", not "\u0026".
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
