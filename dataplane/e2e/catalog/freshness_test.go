package catalog_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	policy "github.com/zonecast/zonecast/policies/catalog"
)

// acceptedWithin tries handshakes for name with key until one is accepted
// and returns how long after since that was.
func acceptedWithin(t *testing.T, e *edge, name, key string, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		err := e.handshake(name, key)
		if err == nil {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			t.Fatalf("%s on %s still refused %v after the change: %v", name, e.id, time.Since(since).Round(time.Millisecond), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// refusedWithin tries handshakes until one is refused with reason.
func refusedWithin(t *testing.T, e *edge, name, key string, reason gosrt.RejectionReason, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		err := e.handshake(name, key)
		if rejected(err, reason) {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			t.Fatalf("%s on %s not refused with %d %v after the change (last: %v)", name, e.id, reason, time.Since(since).Round(time.Millisecond), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCreatedDeletedRotatedAcrossNodes: two nodes on one catalog. A stream
// created through A is publishable on B within the freshness promise, and
// a real publisher goes live there; a rotation through A refuses the old
// key on B within the promise and never cuts the connected publisher; a
// deletion through A refuses new publishers on B within the promise, cuts
// B's live publisher and ends its playlists within the ending promise.
func TestCreatedDeletedRotatedAcrossNodes(t *testing.T) {
	tb := newTable(t)
	a := startEdge(t, "a1", tb, nil)
	b := startEdge(t, "b1", tb, nil)

	// B has looked for the name before it exists: its "no such stream"
	// is in memory when the creation happens.
	if err := b.handshake("match-1", ""); !rejected(err, gosrt.REJX_NOTFOUND) {
		t.Fatalf("before creation: %v, want REJX_NOTFOUND", err)
	}
	c := a.create("match-1")
	createdAt := time.Now()
	took := acceptedWithin(t, b, "match-1", c.Passphrase, createdAt, policy.Freshness)
	t.Logf("created through a1, publishable on b1 after %v (machine shared and loaded)", took.Round(time.Millisecond))

	// The printed URL, pointed at B's listener, with a real encoder.
	url := strings.Replace(c.URLs["publish"], strings.TrimPrefix(strings.SplitN(c.URLs["publish"], "?", 2)[0], "srt://"), b.srtAddr, 1)
	pub := publish(t, url)
	b.waitFor("match-1 live on b1", 20*time.Second, func() bool { return b.state("match-1") == "live" })
	b.waitFor("match-1 playlist on b1", 20*time.Second, func() bool { return b.playlist("match-1") == 200 })

	t.Run("rotation refuses the old key, keeps the publisher", func(t *testing.T) {
		var r created
		if code := a.api("POST", "/api/v1/streams/match-1/rotate", nil, &r); code != 200 || r.Passphrase == c.Passphrase || len(r.Passphrase) != 32 {
			t.Fatalf("rotate: %d %+v", code, r)
		}
		rotatedAt := time.Now()
		// On B the stream is live: the old key, while still accepted, is
		// refused as busy (no takeover), never let in. The new key is tried
		// on A, where the stream is not live.
		took := refusedWithin(t, b, "match-1", c.Passphrase, gosrt.REJ_BADSECRET, rotatedAt, policy.Freshness)
		t.Logf("old key refused on b1 %v after the rotation", took.Round(time.Millisecond))
		acceptedWithin(t, a, "match-1", r.Passphrase, rotatedAt, policy.Freshness)
		// Well past every TTL and recheck, the old-key publisher is still
		// connected and its stream still grows.
		time.Sleep(policy.Ending)
		if !pub.running() || b.state("match-1") != "live" {
			t.Fatalf("the rotation cut the connected publisher (ffmpeg running %v, state %q)", pub.running(), b.state("match-1"))
		}
	})

	t.Run("deletion refuses, cuts and ends", func(t *testing.T) {
		if code := a.api("DELETE", "/api/v1/streams/match-1", nil, nil); code != http.StatusNoContent {
			t.Fatalf("delete: %d", code)
		}
		deletedAt := time.Now()
		var cut, ended time.Duration
		for cut == 0 || ended == 0 {
			if cut == 0 && !pub.running() {
				cut = time.Since(deletedAt)
			}
			if ended == 0 && b.playlist("match-1") == http.StatusNotFound {
				ended = time.Since(deletedAt)
			}
			if time.Since(deletedAt) > policy.Ending {
				t.Fatalf("%v after the deletion: publisher cut %v, playlist ended %v (0: not yet)", policy.Ending, cut, ended)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("deleted through a1: b1's publisher cut after %v, its playlist 404 after %v", cut.Round(time.Millisecond), ended.Round(time.Millisecond))
		// New publishers: refused on both nodes (B unwired it; A may still
		// hold it in memory, within the promise).
		for _, e := range []*edge{a, b} {
			refusedWithin(t, e, "match-1", c.Passphrase, gosrt.REJX_NOTFOUND, deletedAt, policy.Freshness)
		}
		var rows []map[string]any
		if code := b.api("GET", "/api/v1/streams", nil, &rows); code != 200 || len(rows) != 0 {
			t.Fatalf("streams after the deletion: %d %v", code, rows)
		}
	})
}
