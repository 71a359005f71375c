// Command bench measures the stream catalog against the local DynamoDB-API
// server (make bench-catalog):
//
//   - creations per second into a table of N streams (through the store;
//     the control API adds its HTTP round trip on top);
//   - the handshake's stream lookup, p50/p99: today's static list, a
//     resolver answering from memory, and a resolver miss (one strongly
//     consistent read of a table holding N streams).
//
// The miss budget of the resolver is lifted for the run, since the run
// measures reads and not the flood guard (its test counts that).
//
//	go run ./dataplane/e2e/catalog/bench -streams 100000 -out .cache/bench-catalog.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

func main() {
	streams := flag.Int("streams", 100_000, "streams in the catalog")
	workers := flag.Int("concurrency", 32, "concurrent creations")
	samples := flag.Int("samples", 2000, "lookups measured per kind")
	out := flag.String("out", "", "also write the markdown report here")
	flag.Parse()

	var report strings.Builder
	w := io.MultiWriter(os.Stdout, &report)
	if err := run(w, *streams, *workers, *samples); err != nil {
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

func run(w io.Writer, n, workers, samples int) error {
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
	return nil
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
