package cluster

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/internal/relay"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// logLines counts the messages a coordinator logs.
type logLines struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

func (l *logLines) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// TestProtection: a stream's standby is in the twin zone; when the twin
// zone has no node, another node of the leader's zone stands by (never
// none while one accepts), and the standby moves back when the twin zone
// recovers; with no node at all the stream shows as unprotected on
// /metrics and in the streams API, and the log says so once.
func TestProtection(t *testing.T) {
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1", "a2")
	lines := &logLines{}
	a1 := newLoggedCoordinator(t, c, certs, "a1", "a", &fakeMedia{start: time.Now()}, slog.New(lines))
	b1 := newCoordinator(t, c, certs, "b1", "b", &fakeMedia{start: time.Now()})
	a2 := newCoordinator(t, c, certs, "a2", "a", &fakeMedia{start: time.Now()})
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publish(ctx, a1)
	protection := func(p Protection) func() bool {
		return func() bool { return row(a1).Role == "leader" && row(a1).Protection == p }
	}
	waitFor(t, "a twin-zone standby", 10*time.Second, func() bool { return protection(ProtectionTwinZone)() && row(b1).Role == "standby" })
	if row(a2).Role != "none" {
		t.Fatalf("a2 is %s, want none", row(a2).Role)
	}
	wantMetric(t, a1, "a1", "zonecast_cluster_standby_missing", map[string]string{"stream": "cam1"}, 0)
	wantMetric(t, a1, "a1", "zonecast_cluster_standby_same_zone", map[string]string{"stream": "cam1"}, 0)

	// The twin zone's only node dies: a2, in a1's own zone, stands by.
	b1.Close()
	ttl := nodeTTL()
	waitFor(t, "a same-zone standby", ttl+5*time.Second, protection(ProtectionSameZone))
	waitFor(t, "a2 stands by", 5*time.Second, func() bool { return row(a2).Role == "standby" })
	if r := row(a2); r.Standby != "a2" {
		t.Fatalf("the lease names standby %q, want a2", r.Standby)
	}
	wantMetric(t, a1, "a1", "zonecast_cluster_standby_same_zone", map[string]string{"stream": "cam1"}, 1)

	// The twin zone recovers: the standby moves back, and a2 lets go.
	b1 = newCoordinator(t, c, certs, "b1", "b", &fakeMedia{start: time.Now()})
	waitFor(t, "the standby back in the twin zone", 10*time.Second, protection(ProtectionTwinZone))
	waitFor(t, "b1 stands by, a2 does not", 10*time.Second, func() bool { return row(b1).Role == "standby" && row(a2).Role == "none" })
	wantMetric(t, a1, "a1", "zonecast_cluster_standby_same_zone", map[string]string{"stream": "cam1"}, 0)

	// No other node at all: unprotected, said once.
	b1.Close()
	a2.Close()
	waitFor(t, "no standby", ttl+5*time.Second, func() bool {
		return protection(ProtectionNone)() && strings.Contains(a1.job("cam1").protectionReason(), "no other node")
	})
	wantMetric(t, a1, "a1", "zonecast_cluster_standby_missing", map[string]string{"stream": "cam1"}, 1)
	time.Sleep(3 * time.Second) // the leader keeps looking, every renewal
	if n := lines.count("stream has no hot standby"); n > 2 {
		// At most one line per reason: the dead b1 unreachable, then no node.
		t.Fatalf("logged %d times that the stream has no standby, want each reason once", n)
	}
}

// protectionReason is why the stream has no standby, when it has none.
func (j *job) protectionReason() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.leader.protectionWhy
}

func nodeTTL() time.Duration { return fastTimings().NodeTTL }

func loadTestTLS(t *testing.T, certs, id string) *relay.TLS {
	t.Helper()
	tl, err := relay.LoadTLS(filepath.Join(certs, "ca.pem"), filepath.Join(certs, id+".pem"), filepath.Join(certs, id+"-key.pem"), "")
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newLoggedCoordinator(t *testing.T, c *redistest.Cluster, certs, id, zone string, media Media, log *slog.Logger) *Coordinator {
	t.Helper()
	tm := fastTimings()
	co, err := NewCoordinator(CoordinatorConfig{
		Self:    NodeInfo{ID: id, Region: "local", Zone: zone, Capacity: 4, QUIC: "127.0.0.1:0"},
		Streams: []string{"cam1"},
		Ledger:  newTestLedger(t, c, tm),
		TLS:     loadTestTLS(t, certs, id),
		Media:   func(string) Media { return media },
		Log:     log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(co.Close)
	return co
}
