package stream

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// recorder is a sink that records what it gets; block makes it stall.
type recorder struct {
	mu     sync.Mutex
	data   bytes.Buffer
	discs  int
	events []string
	block  chan struct{}
}

func (r *recorder) WriteTS(p []byte) error {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data.Write(p)
	r.events = append(r.events, "data")
	return nil
}

func (r *recorder) Discontinuity() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.discs++
	r.events = append(r.events, "disc")
}

func (r *recorder) snapshot() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.data.String(), r.discs
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFanOutInOrderAndDiscontinuityOnLoss(t *testing.T) {
	reg := NewRegistry(quiet())
	s, _ := reg.Add("cam1")
	a, b := &recorder{}, &recorder{}
	defer s.Subscribe("a", a)()
	defer s.Subscribe("b", b)()

	p, err := s.Publish(PublisherInfo{Addr: "127.0.0.1:1", Protocol: "srt"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for i := 0; i < 500; i++ {
		chunk := []byte{byte(i), byte(i >> 8)}
		want.Write(chunk)
		if err := p.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Status(); st.State != StateLive || st.Publisher != "127.0.0.1:1" {
		t.Fatalf("status %+v", st)
	}
	p.Close(io.EOF)
	for _, r := range []*recorder{a, b} {
		eventually(t, "all data and one discontinuity", func() bool {
			d, discs := r.snapshot()
			return d == want.String() && discs == 1
		})
	}
	if st := s.Status(); st.State != StateIdle || st.Publisher != "" {
		t.Fatalf("status after loss %+v", st)
	}
	if err := p.Write([]byte{1}); !errors.Is(err, ErrReplaced) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestSlowConsumerBlocksNobody(t *testing.T) {
	reg := NewRegistry(quiet())
	s1, _ := reg.Add("cam1")
	s2, _ := reg.Add("cam2")
	stuck := &recorder{block: make(chan struct{})}
	fast1, fast2 := &recorder{}, &recorder{}
	defer s1.Subscribe("stuck", stuck)()
	defer s1.Subscribe("fast", fast1)()
	defer s2.Subscribe("fast", fast2)()
	p1, _ := s1.Publish(PublisherInfo{Addr: "a"}, false)
	p2, _ := s2.Publish(PublisherInfo{Addr: "b"}, false)

	n := 3 * QueueChunks
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Batches of half a queue, letting the fast sinks drain in
		// between: only the stuck one may lose data.
		for i := 0; i < n; i++ {
			p1.Write([]byte{1})
			p2.Write([]byte{2})
			if i%(QueueChunks/2) == 0 {
				for {
					d1, _ := fast1.snapshot()
					d2, _ := fast2.snapshot()
					if len(d1) == i+1 && len(d2) == i+1 {
						break
					}
					time.Sleep(time.Millisecond)
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a stuck sink blocked the publisher")
	}
	eventually(t, "fast sinks get everything", func() bool {
		d1, _ := fast1.snapshot()
		d2, _ := fast2.snapshot()
		return len(d1) == n && len(d2) == n
	})
	if cs := s1.SinkStats(); cs[0].DroppedChunks == 0 {
		t.Fatalf("stuck sink should have dropped chunks: %+v", cs)
	}
	close(stuck.block)
	// After catching up, the stuck sink sees a discontinuity before new data.
	eventually(t, "discontinuity after loss", func() bool {
		p1.Write([]byte{9})
		stuck.mu.Lock()
		defer stuck.mu.Unlock()
		for i, ev := range stuck.events[:max(0, len(stuck.events)-1)] {
			if ev == "disc" && stuck.events[i+1] == "data" {
				return true
			}
		}
		return false
	})
}

func TestSecondPublisher(t *testing.T) {
	tests := []struct {
		name     string
		takeover bool
	}{{"refuse", false}, {"takeover", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := NewRegistry(quiet()).Add("cam1")
			rec := &recorder{}
			defer s.Subscribe("rec", rec)()
			kicked := make(chan struct{}, 1)
			first, _ := s.Publish(PublisherInfo{Addr: "first", Kick: func() { kicked <- struct{}{} }}, false)
			second, err := s.Publish(PublisherInfo{Addr: "second"}, tt.takeover)
			if !tt.takeover {
				if !errors.Is(err, ErrBusy) || second != nil {
					t.Fatalf("want ErrBusy, got %v", err)
				}
				if s.Status().Publisher != "first" {
					t.Fatal("first publisher lost the stream")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-kicked:
			default:
				t.Fatal("old publisher was not kicked")
			}
			if err := first.Write([]byte{1}); !errors.Is(err, ErrReplaced) {
				t.Fatalf("old publisher write: %v", err)
			}
			first.Close(io.EOF) // the kicked reader exits: must not unpublish the new one
			if s.Status().Publisher != "second" {
				t.Fatalf("status %+v", s.Status())
			}
			eventually(t, "discontinuity on takeover", func() bool { _, d := rec.snapshot(); return d == 1 })
		})
	}
}

type countingObserver struct{ started, stopped int }

func (o *countingObserver) PublisherStarted(*Stream, PublisherInfo) { o.started++ }
func (o *countingObserver) PublisherStopped(*Stream, PublisherInfo) { o.stopped++ }

func TestObserverAndTransportTotals(t *testing.T) {
	s, _ := NewRegistry(quiet()).Add("cam1")
	obs := &countingObserver{}
	s.Observe(obs)
	for i := 0; i < 3; i++ {
		p, _ := s.Publish(PublisherInfo{Addr: "x", Stats: func() TransportStats { return TransportStats{PacketsLost: 2, PacketsRetransmitted: 1} }}, false)
		p.Close(nil)
	}
	if obs.started != 3 || obs.stopped != 3 {
		t.Fatalf("observer %+v", obs)
	}
	if ts := s.TransportStats(); ts.PacketsLost != 6 || ts.PacketsRetransmitted != 3 {
		t.Fatalf("totals %+v", ts)
	}
}

func TestBitrateMeter(t *testing.T) {
	var m bitrateMeter
	t0 := time.Unix(0, 0)
	for i := 0; i <= 100; i++ { // 100 × 1250 bytes over 1 s = 1 Mb/s
		m.add(1250, t0.Add(time.Duration(i)*10*time.Millisecond))
	}
	if r := m.rate(t0.Add(time.Second)); r < 990_000 || r > 1_010_000 {
		t.Fatalf("rate %d", r)
	}
	if r := m.rate(t0.Add(5 * time.Second)); r != 0 {
		t.Fatalf("silent publisher rate %d", r)
	}
}

func BenchmarkFanOut(b *testing.B) {
	s, _ := NewRegistry(quiet()).Add("cam1")
	for i := 0; i < 3; i++ {
		defer s.Subscribe("c", &discard{})()
	}
	p, _ := s.Publish(PublisherInfo{Addr: "x"}, false)
	chunk := make([]byte, 1316)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		p.Write(chunk)
	}
}

type discard struct{}

func (discard) WriteTS([]byte) error { return nil }
func (discard) Discontinuity()       {}

// TestEndAndRemove: a stream deleted from the catalog ends its publisher
// (kicked, observers told, sinks cut, its writes refused) and leaves the
// registry; ending an idle stream or removing an unknown one does nothing.
func TestEndAndRemove(t *testing.T) {
	cases := []struct {
		name    string
		live    bool
		remove  string
		removed bool
	}{
		{"live stream", true, "cam1", true},
		{"idle stream", false, "cam1", true},
		{"unknown name", false, "cam9", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry(quiet())
			s, _ := reg.Add("cam1")
			reg.Add("cam2")
			obs := &countingObserver{}
			s.Observe(obs)
			rec := &recorder{}
			defer s.Subscribe("test", rec)()
			kicked := 0
			var p *Publisher
			if tc.live {
				p, _ = s.Publish(PublisherInfo{Addr: "x", Kick: func() { kicked++ }}, false)
			}
			s.End(errors.New("deleted"))
			want := 0
			if tc.live {
				want = 1
			}
			if kicked != want || obs.stopped != want || s.Live() {
				t.Fatalf("kicked %d, observers told %d, live %v; want %d, %d, false", kicked, obs.stopped, s.Live(), want, want)
			}
			if p != nil && p.Write([]byte{0x47}) == nil {
				t.Fatal("an ended publisher still writes")
			}
			got := reg.Remove(tc.remove)
			if (got != nil) != tc.removed || (reg.Get(tc.remove) != nil) {
				t.Fatalf("Remove(%q) = %v, Get after = %v", tc.remove, got, reg.Get(tc.remove))
			}
			if n := len(reg.List()); (tc.removed && n != 1) || (!tc.removed && n != 2) {
				t.Fatalf("%d streams left", n)
			}
		})
	}
}
