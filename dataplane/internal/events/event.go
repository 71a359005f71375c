// Package events sends the signed events of the platform's back end: a
// stream was created, went live, failed over... Each event is a JSON body
// POSTed to events.webhook.url with a Zonecast-Signature header (an
// HMAC-SHA256 of "<t>.<body>" under events.webhook.secret).
//
// Events are queued before they are sent and sent at least once: in a
// cluster the queue is a Redis Stream per region (it outlives the node that
// emitted an event, and any node of the region delivers what a dead one
// left), on a single edge a queue in memory. A live-state event is queued
// by a script that checks the emitting node's lease token, so only the
// stream's leader announces it. One deliverer per region sends, one event
// of a stream at a time, so a stream's events reach the receiver in order.
package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Type names what happened.
type Type string

// The event types.
const (
	// StreamCreated, StreamUpdated and StreamDeleted follow the control
	// API's changes to the catalog; data holds the stream's settings
	// without its secrets.
	StreamCreated Type = "stream.created"
	StreamUpdated Type = "stream.updated"
	StreamDeleted Type = "stream.deleted"
	// StreamLive: the stream has a leader publishing it, after being idle.
	StreamLive Type = "stream.live"
	// StreamIdle: its leader has no media any more and gave the lease up.
	StreamIdle Type = "stream.idle"
	// StreamFailover: another node took the stream over while it was
	// live; data holds previous_leader, leader and reason.
	StreamFailover Type = "stream.failover"
	// StreamInputSwitched: the backup encoder's feed replaced the primary's
	// (input redundancy); data holds from and to (nodes) and input.
	StreamInputSwitched Type = "stream.input_switched"
	// RecordingReady: a recording's segment range was written to the
	// bucket (emitted by the recorder).
	RecordingReady Type = "recording.ready"
)

// Event is what a producer emits: the node, region, zone, id, time and
// sequence number are added by the emitter.
type Event struct {
	Type   Type
	Stream string
	Data   map[string]any
}

// Envelope is the body POSTed to the receiver.
type Envelope struct {
	// ID is unique per event: a receiver drops one it has seen (delivery
	// is at least once).
	ID   string    `json:"id"`
	Type Type      `json:"type"`
	Time time.Time `json:"time"`
	// Stream is the stream the event is about.
	Stream string `json:"stream"`
	// Seq numbers the stream's events in the order they were queued, per
	// region (1, 2, ...): a receiver can see a gap or a reordering itself.
	Seq    int64          `json:"seq"`
	Node   string         `json:"node"`
	Region string         `json:"region"`
	Zone   string         `json:"zone"`
	Data   map[string]any `json:"data"`
}

// Body is the envelope's JSON, the bytes that are signed and sent.
func (e Envelope) Body() ([]byte, error) {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return json.Marshal(e)
}

// NewID returns a fresh event id: "evt_" and 128 random bits.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "evt_" + hex.EncodeToString(b[:])
}
