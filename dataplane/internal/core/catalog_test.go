package core

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/ingest/srt"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

// TestCatalogWiring: with a catalog (the local DynamoDB-API server), a
// node wires a stream when a handshake first names it, keeps its settings
// current, unwires it when unused and when deleted, and refuses names the
// catalog does not have.
func TestCatalogWiring(t *testing.T) {
	server := dynalite.StartT(t)
	cfg, err := config.Load([]string{"-srt.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0", "-admin.token", "an-admin-token",
		"-catalog.dynamodb.table", "zonecast-streams", "-catalog.dynamodb.region", "local",
		"-catalog.dynamodb.endpoint", server.Endpoint(), "-catalog.dynamodb.create_table", "true"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	n.idleUnwire = 5 * time.Second // past the settings step below
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + n.Origin.Addr().String() + "/api/v1/streams"
	call := func(method, url, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer an-admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
		}
	}
	eventually := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wired := func() bool { return n.wiring("match-1") != nil }

	steps := []struct {
		name string
		do   func()
		want func() error
	}{
		{"an unknown name is refused and not wired", nil, func() error {
			if _, err := n.lookup(ctx, "match-1"); !errors.Is(err, srt.ErrUnknownStream) || wired() {
				return errors.New("not refused as unknown, or wired")
			}
			return nil
		}},
		{"created, then named by a handshake: wired with its settings", func() {
			call("POST", base, `{"name": "match-1", "passphrase": "correct-horse-battery", "ladder": "source"}`)
			time.Sleep(policy.DefaultCache.NegativeTTL)
		}, func() error {
			target, err := n.lookup(ctx, "match-1")
			if err != nil || len(target.Passphrases) != 1 || target.Passphrases[0] != "correct-horse-battery" {
				return errors.New("lookup failed or wrong keys")
			}
			if w := n.wiring("match-1"); w == nil || w.Settings().Ladder != "source" || w.ladder.Load() != nil || n.Streams.Get("match-1") != target.Stream {
				return errors.New("wiring missing, or its ladder not the catalog's")
			}
			return nil
		}},
		{"a change of settings reaches the wiring", func() {
			call("PATCH", base+"/match-1", `{"record": false, "labels": {"match": "final"}}`)
		}, func() error {
			eventually("new labels on the wiring", policy.Freshness+policy.Recheck, func() bool {
				w := n.wiring("match-1")
				return w != nil && w.Settings().Labels["match"] == "final"
			})
			return nil
		}},
		{"unused here, it is unwired", nil, func() error {
			eventually("unwired when idle", n.idleUnwire+2*policy.Recheck+time.Second, func() bool { return !wired() })
			return nil
		}},
		{"named again, wired again", nil, func() error {
			if _, err := n.lookup(ctx, "match-1"); err != nil || !wired() {
				return errors.New("not wired again")
			}
			return nil
		}},
		{"deleted, it is unwired and refused", func() { call("DELETE", base+"/match-1", "") }, func() error {
			eventually("unwired when deleted", policy.Ending, func() bool { return !wired() && n.Streams.Get("match-1") == nil })
			eventually("refused", policy.Freshness, func() bool {
				_, err := n.lookup(ctx, "match-1")
				return errors.Is(err, srt.ErrUnknownStream)
			})
			return nil
		}},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		if err := st.want(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
}
