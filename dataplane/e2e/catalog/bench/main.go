// Command bench measures the stream catalog against the local DynamoDB-API
// server (make bench-catalog):
//
//   - creations per second into a table of N streams (through the store),
//     and through the control API (HTTP on loopback, the same store);
//   - the handshake's stream lookup, p50/p99: today's static list, a
//     resolver answering from memory, and a resolver miss (one strongly
//     consistent read of a table holding N streams);
//   - the catalog reads per second of a node with 500 live streams: the
//     node's recheck of its wired streams (every policy Recheck, 16 at a
//     time, as core does) driving one resolver on the real clock. A live
//     publisher costs no lookup once connected, so the rechecks are the
//     node's steady load; new handshakes add at most one read per stream
//     per TTL on top.
//
// The miss budget of the resolver is lifted for the run, since the run
// measures reads and not the flood guard (its test counts that).
//
//	go run ./dataplane/e2e/catalog/bench -streams 100000 -out .cache/bench-catalog.md
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/api"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

func main() {
	streams := flag.Int("streams", 100_000, "streams in the catalog")
	workers := flag.Int("concurrency", 32, "concurrent creations")
	samples := flag.Int("samples", 2000, "lookups measured per kind")
	viaAPI := flag.Int("api-creations", 5000, "streams created through the control API (after the others)")
	live := flag.Int("live", 500, "live streams of the node whose catalog reads are counted")
	liveFor := flag.Duration("live-for", 10*time.Second, "how long the live node's reads are counted")
	out := flag.String("out", "", "also write the markdown report here")
	flag.Parse()

	var report strings.Builder
	w := io.MultiWriter(os.Stdout, &report)
	if err := run(w, *streams, *workers, *samples, *viaAPI, *live, *liveFor); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	if *out != "" {
		_ = os.MkdirAll(filepath.Dir(*out), 0o755)
		if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(w io.Writer, n, workers, samples, viaAPI, live int, liveFor time.Duration) error {
	if samples > n {
		samples = n
	}
	server, err := dynalite.Start(dynalite.Options{})
	if err != nil {
		return err
	}
	defer server.Stop()
	ctx := context.Background()
	store, err := catalog.NewDynamoDB(ctx, config.CatalogDynamoDB{Table: "zonecast-streams", Region: "local", Endpoint: server.Endpoint(), CreateTable: true})
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "## Stream catalog (dynalite on loopback, %d streams)\n\n", n)
	name := func(i int) string { return fmt.Sprintf("match-%07d", i) }
	created, elapsed, err := create(ctx, store, n, workers, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "- creations: %d in %v with %d concurrent writers: **%.0f creations/s**\n\n",
		created, elapsed.Round(time.Millisecond), workers, float64(created)/elapsed.Seconds())

	rng := rand.New(rand.NewPCG(1, 2))
	// Today's handshake: the configuration's list of a few streams.
	list := config.Streams{{Name: "cam1", Passphrase: "correct-horse-battery"}, {Name: "cam2", Passphrase: "second-camera-pass"}}
	static := measure(samples, func(int) error {
		if _, ok := list.Find("cam2"); !ok {
			return errors.New("cam2 not found")
		}
		return nil
	})

	p := policy.DefaultCache
	p.MissRate, p.MissBurst = 1e9, 1e9
	p.PositiveTTL = time.Hour // the cached kind must never expire mid-run
	warm := catalog.NewResolver(store, p)
	hot := make([]string, samples)
	for i := range hot {
		hot[i] = name(rng.IntN(n))
		if _, err := warm.Resolve(ctx, hot[i]); err != nil {
			return err
		}
	}
	cached := measure(samples, func(i int) error {
		_, err := warm.Resolve(ctx, hot[rng.IntN(len(hot))])
		return err
	})

	cold := catalog.NewResolver(store, p)
	order := rng.Perm(n)[:samples]
	missed := measure(samples, func(i int) error {
		_, err := cold.Resolve(ctx, name(order[i]))
		return err
	})
	if s := cold.Stats(); s.Reads != int64(samples) {
		return fmt.Errorf("the miss run read the store %d times for %d lookups", s.Reads, samples)
	}

	fmt.Fprintf(w, "| stream lookup at the handshake | p50 | p99 | samples |\n|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{
		{"static list (today)", static},
		{"resolver, from memory", cached},
		{"resolver, miss (consistent read)", missed},
	} {
		if row.d == nil {
			return fmt.Errorf("%s: lookups failed", row.name)
		}
		fmt.Fprintf(w, "| %s | %v | %v | %d |\n", row.name, pct(row.d, 50), pct(row.d, 99), len(row.d))
	}
	fmt.Fprintln(w)

	if viaAPI > 0 {
		made, took, err := createThroughAPI(store, viaAPI, workers)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "- creations through the control API (POST /api/v1/streams on loopback, %d concurrent clients, into the table above): %d in %v: **%.0f creations/s**\n",
			workers, made, took.Round(time.Millisecond), float64(made)/took.Seconds())
	}
	if live > 0 {
		reads, took, err := liveNodeReads(store, live, liveFor, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "- catalog reads of a node with %d live streams (its rechecks every %v, TTL %v, simulated with the node's resolver and recheck schedule for %v): **%.0f reads/s**\n",
			live, policy.Recheck, policy.DefaultCache.PositiveTTL, took.Round(time.Second), float64(reads)/took.Seconds())
	}
	fmt.Fprintln(w)
	return nil
}

// createThroughAPI POSTs n streams to the control API over loopback HTTP.
func createThroughAPI(store *catalog.DynamoDB, n, workers int) (int, time.Duration, error) {
	const token = "bench-admin-token"
	srv := httptest.NewServer(api.New(api.Options{Store: store, Token: token, SRTAddress: "127.0.0.1:9000",
		PlaybackURL: "http://127.0.0.1:8080", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var next, done atomic.Int64
	var g errgroup.Group
	start := time.Now()
	for range workers {
		g.Go(func() error {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return nil
				}
				body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("api-%07d", i), "labels": map[string]string{"bench": "api"}})
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/streams", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					return fmt.Errorf("POST /api/v1/streams: %d", resp.StatusCode)
				}
				done.Add(1)
			}
		})
	}
	err := g.Wait()
	return int(done.Load()), time.Since(start), err
}

// countingStore counts the reads that reach the catalog.
type countingStore struct {
	*catalog.DynamoDB
	reads atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, name string) (catalog.Stream, error) {
	c.reads.Add(1)
	return c.DynamoDB.Get(ctx, name)
}

// liveNodeReads runs a node's recheck of live streams (core's schedule:
// every policy.Recheck, each stream through the resolver, 16 in flight) for
// d and counts the reads that reach the catalog.
func liveNodeReads(store *catalog.DynamoDB, live int, d time.Duration, name func(int) string) (int64, time.Duration, error) {
	counted := &countingStore{DynamoDB: store}
	r := catalog.NewResolver(counted, policy.DefaultCache)
	ctx := context.Background()
	check := func() error {
		var g errgroup.Group
		g.SetLimit(16)
		for i := range live {
			g.Go(func() error {
				_, err := r.Resolve(ctx, name(i))
				return err
			})
		}
		return g.Wait()
	}
	// The streams went live: each was read once at its handshake.
	if err := check(); err != nil {
		return 0, 0, err
	}
	counted.reads.Store(0)
	start := time.Now()
	tick := time.NewTicker(policy.Recheck)
	defer tick.Stop()
	for time.Since(start) < d {
		<-tick.C
		if err := check(); err != nil {
			return 0, 0, err
		}
	}
	return counted.reads.Load(), time.Since(start), nil
}

// create writes n streams from workers goroutines and times it.
func create(ctx context.Context, store *catalog.DynamoDB, n, workers int, name func(int) string) (int, time.Duration, error) {
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				_, err := store.Create(ctx, catalog.Stream{Name: name(i), Passphrase: catalog.NewPassphrase(), Labels: map[string]string{"bench": "catalog"}})
				if err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
				if d := done.Add(1); d%20_000 == 0 {
					fmt.Fprintf(os.Stderr, "bench: %d streams created\n", d)
				}
			}
		})
	}
	wg.Wait()
	return int(done.Load()), time.Since(start), firstErr
}

// measure times each of samples calls; nil when one failed.
func measure(samples int, f func(i int) error) []time.Duration {
	d := make([]time.Duration, samples)
	for i := range samples {
		t := time.Now()
		if err := f(i); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			return nil
		}
		d[i] = time.Since(t)
	}
	slices.Sort(d)
	return d
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}
