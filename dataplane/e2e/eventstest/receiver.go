// Package eventstest is a webhook receiver for tests of the signed events:
// it checks every request's Zonecast-Signature, drops duplicates by id, and
// checks that each stream's events arrive in their order (seq), as a real
// back end would.
package eventstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/events"
)

// Receiver is the test's back end.
type Receiver struct {
	Secret []byte
	srv    *httptest.Server

	mu       sync.Mutex
	refuse   bool
	attempts int
	seen     map[string]bool
	lastSeq  map[string]int64
	events   []events.Envelope // first deliveries, in arrival order
	dups     int
	problems []string
	changed  chan struct{}
}

// Start serves on a loopback port (addr "" picks one).
func Start(secret, addr string) (*Receiver, error) {
	r := &Receiver{Secret: []byte(secret), seen: map[string]bool{}, lastSeq: map[string]int64{}, changed: make(chan struct{})}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r.srv = httptest.NewUnstartedServer(r)
	r.srv.Listener.Close()
	r.srv.Listener = l
	r.srv.Start()
	return r, nil
}

// URL is the hook's URL.
func (r *Receiver) URL() string { return r.srv.URL + "/hook" }

// Close stops serving.
func (r *Receiver) Close() { r.srv.Close() }

// Refuse makes the receiver answer 503 (a back end that is down) or 204.
func (r *Receiver) Refuse(on bool) {
	r.mu.Lock()
	r.refuse = on
	r.mu.Unlock()
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if r.refuse {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if err := events.Verify(req.Header.Get(events.SignatureHeader), body, r.Secret, 5*time.Minute, time.Now()); err != nil {
		r.problems = append(r.problems, "bad signature: "+err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e events.Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		r.problems = append(r.problems, "bad body: "+err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if e.ID == "" || e.Type == "" || e.Stream == "" || e.Node == "" || e.Region == "" || e.Zone == "" || e.Time.IsZero() || e.Data == nil {
		r.problems = append(r.problems, fmt.Sprintf("missing field in %s", body))
	}
	if r.seen[e.ID] {
		r.dups++
		w.WriteHeader(http.StatusNoContent)
		return
	}
	r.seen[e.ID] = true
	key := e.Region + "/" + e.Stream
	if e.Seq <= r.lastSeq[key] {
		r.problems = append(r.problems, fmt.Sprintf("stream %s: %s seq %d after seq %d", key, e.Type, e.Seq, r.lastSeq[key]))
	}
	r.lastSeq[key] = e.Seq
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	w.WriteHeader(http.StatusNoContent)
}

// Events returns the events received (first deliveries, arrival order).
func (r *Receiver) Events() []events.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Envelope(nil), r.events...)
}

// Of returns the events of one stream.
func (r *Receiver) Of(stream string) []events.Envelope {
	var out []events.Envelope
	for _, e := range r.Events() {
		if e.Stream == stream {
			out = append(out, e)
		}
	}
	return out
}

// Problems lists what the receiver found wrong: bad signatures, missing
// fields, a stream's events out of order.
func (r *Receiver) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// Attempts counts requests, refused ones and duplicates included.
func (r *Receiver) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Duplicates counts deliveries of an id already received.
func (r *Receiver) Duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dups
}

// Wait waits until cond holds on the events received, or d passes.
func (r *Receiver) Wait(d time.Duration, cond func([]events.Envelope) bool) bool {
	deadline := time.After(d)
	for {
		r.mu.Lock()
		ok := cond(r.events)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// Types lists events' types in order.
func Types(es []events.Envelope) []events.Type {
	out := make([]events.Type, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}
