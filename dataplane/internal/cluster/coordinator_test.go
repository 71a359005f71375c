package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// fakeMedia stands in for a packager: its media sequence advances with the
// clock, and it records what the coordinator does to it.
type fakeMedia struct {
	mu      sync.Mutex
	start   time.Time
	fed     int
	resumes int
	resets  int
	cold    bool
}

func (m *fakeMedia) WriteTS(b []byte) error { m.mu.Lock(); m.fed += len(b); m.mu.Unlock(); return nil }
func (m *fakeMedia) Discontinuity()         {}
func (m *fakeMedia) Reset()                 { m.mu.Lock(); m.resets++; m.mu.Unlock() }
func (m *fakeMedia) Listed() int            { return 6 }
func (m *fakeMedia) State() ([]byte, map[string]uint64, error) {
	msn := uint64(time.Since(m.start) / (200 * time.Millisecond))
	b, _ := json.Marshal(map[string]uint64{"next_msn": msn})
	return b, map[string]uint64{"source": msn}, nil
}
func (m *fakeMedia) Resume(_ []byte, cold bool) error {
	m.mu.Lock()
	m.resumes++
	m.cold = m.cold || cold
	m.mu.Unlock()
	return nil
}

func newCoordinator(t *testing.T, c *redistest.Cluster, certs, id, zone string, media Media) *Coordinator {
	t.Helper()
	return newLoggedCoordinator(t, c, certs, id, zone, media, nil)
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func row(co *Coordinator) StreamInfo { return co.Streams(nil)[0] }

// publish starts a local publisher of cam1 on co, sending TS until ctx ends.
func publish(ctx context.Context, co *Coordinator) {
	co.IngestStarted("cam1")
	go func() {
		for ctx.Err() == nil {
			co.IngestTS("cam1", make([]byte, 1316))
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

// threeNodes starts Redis and coordinators a1, a2 (zone a) and b1 (zone b)
// for stream cam1, each with fake media, registered with each other.
func threeNodes(t *testing.T) (a1, b1, a2 *Coordinator, ma, mb, mc *fakeMedia) {
	t.Helper()
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1", "a2")
	ma, mb, mc = &fakeMedia{start: time.Now()}, &fakeMedia{start: time.Now()}, &fakeMedia{start: time.Now()}
	a1 = newCoordinator(t, c, certs, "a1", "a", ma)
	b1 = newCoordinator(t, c, certs, "b1", "b", mb)
	a2 = newCoordinator(t, c, certs, "a2", "a", mc)
	time.Sleep(200 * time.Millisecond) // registry heartbeats
	return
}

// TestCoordinatorRoles: the ingesting node leads and picks the twin-zone
// node as standby (policy placement), which aligns and serves; a drain
// hands the lease over; a third node with no role does not serve.
func TestCoordinatorRoles(t *testing.T) {
	a1, b1, a2, _, mb, _ := threeNodes(t)

	if err := a1.Admit("cam1"); err != nil {
		t.Fatal(err)
	}
	if err := a1.Admit("nope"); err == nil {
		t.Fatal("admitted an unknown stream")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publish(ctx, a1)
	waitFor(t, "a1 leads, b1 stands by", 10*time.Second, func() bool {
		return a1.Serving("cam1") && row(a1).Role == "leader" && row(b1).Role == "standby"
	})
	if r := row(b1); r.Leader != "a1" || r.Standby != "b1" || r.Token != 1 || r.State != "live" {
		t.Fatalf("b1 sees %+v", r)
	}
	if a2.Serving("cam1") || row(a2).Role != "none" {
		t.Fatal("a node with no role serves the stream")
	}
	mb.mu.Lock()
	fed, resumes := mb.fed, mb.resumes
	mb.mu.Unlock()
	if fed == 0 || resumes == 0 {
		t.Fatalf("standby fed %d bytes, aligned %d times", fed, resumes)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	if err := a1.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	if err := a1.Admit("cam1"); err == nil {
		t.Fatal("a draining node admitted a new ingest")
	}
	r := row(b1)
	if r.Role != "leader" || r.Leader != "b1" || r.Token != 2 {
		t.Fatalf("after the drain b1 sees %+v", r)
	}
	wantMetric(t, a1, "a1", "zonecast_cluster_terms_ended_total", map[string]string{"stream": "cam1", "reason": "handover"}, 1)
	wantMetric(t, a1, "a1", "zonecast_cluster_draining", nil, 1)
	if row(a1).Role == "leader" {
		t.Fatal("drained node still leads")
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.cold {
		t.Fatal("the hot standby resumed as a cold successor")
	}
}

// TestStreamsAddedAndRemoved: streams join a running coordinator. A relay
// for a stream the standby has no job for asks its Wire hook, which may
// wire it (the standby then stands by) or refuse (no standby there). A
// removed stream is forgotten: not listed, not admitted.
func TestStreamsAddedAndRemoved(t *testing.T) {
	c := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1")
	tm := fastTimings()
	start := func(id, zone string, wire func(*Coordinator) func(string) error) *Coordinator {
		m := &fakeMedia{start: time.Now()}
		var co *Coordinator
		cfg := CoordinatorConfig{
			Self:   NodeInfo{ID: id, Region: "local", Zone: zone, Capacity: 4, QUIC: "127.0.0.1:0"},
			Ledger: newTestLedger(t, c, tm),
			TLS:    loadTestTLS(t, certs, id),
			Media: func(name string) Media {
				if co != nil && co.job(name) != nil {
					return m
				}
				return nil
			},
			Log: discardLog(),
		}
		if wire != nil {
			cfg.Wire = func(name string) error { return wire(co)(name) }
		}
		var err error
		if co, err = NewCoordinator(cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(co.Close)
		return co
	}
	a1 := start("a1", "a", nil)
	b1 := start("b1", "b", func(co *Coordinator) func(string) error {
		return func(name string) error {
			if name == "deleted" {
				return errors.New("no such stream")
			}
			co.AddStream(name)
			return nil
		}
	})
	time.Sleep(200 * time.Millisecond) // registry heartbeats
	roleOf := func(co *Coordinator, name string) string {
		for _, r := range co.Streams(nil) {
			if r.Name == name {
				return r.Role
			}
		}
		return ""
	}
	cases := []struct {
		stream      string
		wantStandby string // b1's role once a1 leads: "" when it has no job
	}{
		{"match-1", "standby"},
		{"deleted", ""},
	}
	for _, tc := range cases {
		t.Run(tc.stream, func(t *testing.T) {
			if err := a1.Admit(tc.stream); err == nil {
				t.Fatal("a stream not added yet was admitted")
			}
			a1.AddStream(tc.stream)
			a1.AddStream(tc.stream) // twice is once
			if err := a1.Admit(tc.stream); err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			a1.IngestStarted(tc.stream)
			go func() {
				for ctx.Err() == nil {
					a1.IngestTS(tc.stream, make([]byte, 1316))
					time.Sleep(10 * time.Millisecond)
				}
			}()
			waitFor(t, "a1 leads", 10*time.Second, func() bool { return roleOf(a1, tc.stream) == "leader" })
			if tc.wantStandby != "" {
				waitFor(t, "b1 wired by the relay and standing by", 10*time.Second, func() bool { return roleOf(b1, tc.stream) == tc.wantStandby })
			} else {
				time.Sleep(2 * tm.LeaseRenew)
				if b1.job(tc.stream) != nil {
					t.Fatal("b1 wired a stream its Wire hook refused")
				}
			}
			stop()
			a1.IngestStopped(tc.stream)
			for _, co := range []*Coordinator{a1, b1} {
				co.RemoveStream(tc.stream)
				if roleOf(co, tc.stream) != "" || co.Admit(tc.stream) == nil {
					t.Fatalf("%s still lists or admits the removed stream", co.cfg.Self.ID)
				}
			}
		})
	}
}
