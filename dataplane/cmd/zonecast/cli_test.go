package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/api"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
)

const token = "an-admin-token"

// TestStreams drives the CLI through a stream's life against the control
// API's handler over the real local catalog store (dynalite).
func TestStreams(t *testing.T) {
	srv := dynalite.StartT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := catalog.NewDynamoDB(ctx, config.CatalogDynamoDB{Table: "cli-streams", Region: "local", Endpoint: srv.Endpoint(), CreateTable: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.New(api.Options{Store: store, Token: token, SRTAddress: "127.0.0.1:9000",
		PlaybackURL: "http://127.0.0.1:8080", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	env := map[string]string{"ZONECAST_API": ts.URL, "ZONECAST_TOKEN": token}
	getenv := func(k string) string { return env[k] }

	for _, step := range []struct {
		name   string
		args   string
		status int
		out    []string // each in stdout
		err    string   // in stderr
		json   func(t *testing.T, v any)
	}{
		{name: "create prints the key and publish URL", args: "streams create match-1 -passphrase correct-horse-battery -latency low -label league=1",
			out: []string{"created match-1", "passphrase:", "correct-horse-battery", "srt://127.0.0.1:9000?streamid=publish:match-1&passphrase=correct-horse-battery", "http://127.0.0.1:8080/live/match-1/index.m3u8"}},
		{name: "create generates a key, json", args: "streams create match-2 -record -o json", json: func(t *testing.T, v any) {
			m := v.(map[string]any)
			if p, _ := m["passphrase"].(string); len(p) != 32 || m["record"] != true {
				t.Fatalf("answer %v", m)
			}
		}},
		{name: "taken name", args: "streams create match-1", status: 1, err: "409 Conflict"},
		{name: "invalid field named", args: "streams create match-3 -latency sideways", status: 1, err: "(field latency)"},
		{name: "list as a table", args: "streams list", out: []string{"NAME", "LATENCY", "match-1", "match-2"}},
		{name: "list json", args: "streams list -o json", json: func(t *testing.T, v any) {
			if rows := v.([]any); len(rows) != 2 {
				t.Fatalf("rows %v", rows)
			}
		}},
		{name: "get", args: "streams get match-1", out: []string{"name:", "match-1", "latency:", "low", "label:", "league=1"}},
		{name: "update only what is given", args: "streams update match-1 -record -ladder 720p:3M", out: []string{"updated match-1", "record:", "true", "ladder:", "720p:3000k", "latency:", "low"}},
		{name: "update with nothing", args: "streams update match-1", status: 1, err: "nothing to change"},
		{name: "update at a stale version", args: "streams update match-1 -version 1 -record=false", status: 1, err: "409"},
		{name: "rotate", args: "streams rotate match-1", out: []string{"rotated match-1", "passphrase:", "publish:"}},
		{name: "rotate to a given key, json", args: "streams rotate -o json match-1 -passphrase another-horse-battery", json: func(t *testing.T, v any) {
			if v.(map[string]any)["passphrase"] != "another-horse-battery" {
				t.Fatalf("answer %v", v)
			}
		}},
		{name: "delete", args: "streams delete match-2", out: []string{"deleted match-2"}},
		{name: "get a deleted stream", args: "streams get match-2", status: 1, err: "404 Not Found"},
		{name: "without the token", args: "streams delete match-1 -token wrong", status: 1, err: "401 Unauthorized"},
		{name: "unknown command", args: "streams frobnicate x", status: 2, err: "unknown command"},
		{name: "missing name", args: "streams get", status: 2, err: "one stream name"},
		{name: "unreachable API", args: "streams list -api http://127.0.0.1:1", status: 1, err: "connection refused"},
	} {
		t.Run(step.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(strings.Fields(step.args), getenv, &stdout, &stderr)
			if status != step.status {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", status, step.status, stdout.String(), stderr.String())
			}
			for _, want := range step.out {
				if !strings.Contains(stdout.String(), want) {
					t.Fatalf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if step.err != "" && !strings.Contains(stderr.String(), step.err) {
				t.Fatalf("stderr lacks %q:\n%s", step.err, stderr.String())
			}
			if step.json != nil {
				var v any
				if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
					t.Fatalf("-o json printed no JSON: %v\n%s", err, stdout.String())
				}
				step.json(t, v)
			}
		})
	}
}
