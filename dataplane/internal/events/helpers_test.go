package events

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	policy "github.com/zonecast/zonecast/policies/events"
)

// fastPolicy retries within milliseconds; it still passes Validate (the
// horizon stays the promised hour).
func fastPolicy() policy.Delivery {
	p := policy.DefaultDelivery
	p.FirstRetry = 20 * time.Millisecond
	p.MaxBackoff = 160 * time.Millisecond
	p.Timeout = 2 * time.Second
	p.LockTTL = 900 * time.Millisecond
	p.ClockMargin = 200 * time.Millisecond
	return p
}

func testLog(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// step is one announcement of the live-state table and the event it must
// queue ("" for none).
type step struct {
	op     op
	node   string // the announcing node (fence holder unless switch)
	holder string // the lease holder in the fence; "" = node
	to     string // a switch's successor
	want   Type
	prev   string // previous_leader of a failover
}

// liveSteps: the life of one stream through takeovers, as both queues must
// see it: one live per live period, failovers in between, idle only from
// the announced leader.
var liveSteps = []step{
	{op: opLead, node: "a1", want: StreamLive},
	{op: opLead, node: "a1", want: ""},                              // lease taken back after Redis lost it
	{op: opLead, node: "b1", want: StreamFailover, prev: "a1"},      // takeover
	{op: opIdle, node: "a1", want: ""},                              // the deposed leader cannot end it
	{op: opSwitch, node: "b1", to: "a1", want: StreamInputSwitched}, // backup feed on a1
	{op: opLead, node: "a1", want: ""},                              // a1 already announced by the switch
	{op: opIdle, node: "a1", want: StreamIdle},
	{op: opIdle, node: "a1", want: ""},
	{op: opLead, node: "b1", want: StreamLive}, // a new live period: live, not failover
	{op: opPlain, node: "c1", want: StreamUpdated},
}

// runLiveSteps enqueues liveSteps into q (fence: fence(holder)) and checks
// what each queued; events are returned in queue order.
func runLiveSteps(t *testing.T, q queue, stream string, fence func(holder string) *Fence) []Entry {
	t.Helper()
	ctx := context.Background()
	for i, s := range liveSteps {
		holder := s.holder
		if holder == "" {
			holder = s.node
		}
		env := Envelope{ID: NewID(), Type: StreamUpdated, Time: time.Now(), Stream: stream, Node: s.node, Region: "r", Zone: "z",
			Data: map[string]any{"leader": s.node}}
		if s.op == opSwitch {
			env.Type = StreamInputSwitched
		}
		typ, queued, err := q.enqueue(ctx, request{op: s.op, env: env, fence: fence(holder), reason: "leader_lost", successor: s.to})
		if err != nil {
			t.Fatalf("step %d %+v: %v", i, s, err)
		}
		if queued != (s.want != "") || (queued && typ != s.want) {
			t.Fatalf("step %d %+v: queued=%v %q, want %q", i, s, queued, typ, s.want)
		}
	}
	sctx, err := q.session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wantTypes []Type
	for _, s := range liveSteps {
		if s.want != "" {
			wantTypes = append(wantTypes, s.want)
		}
	}
	var out []Entry
	for len(out) < len(wantTypes) {
		es, err := q.fetch(sctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
	}
	if len(out) != len(wantTypes) {
		t.Fatalf("%d entries, want %d", len(out), len(wantTypes))
	}
	for i, e := range out {
		if e.Env.Type != wantTypes[i] || e.Env.Seq != int64(i+1) {
			t.Fatalf("entry %d: %s seq %d, want %s seq %d", i, e.Env.Type, e.Env.Seq, wantTypes[i], i+1)
		}
		if e.Env.Type == StreamFailover && (e.Env.Data["previous_leader"] != "a1" || e.Env.Data["reason"] != "leader_lost" || e.Env.Data["leader"] != "b1") {
			t.Fatalf("failover data %v", e.Env.Data)
		}
	}
	return out
}

func httpClient() *http.Client { return &http.Client{Timeout: time.Second} }

// gather is the sum of a metric's series in c.
func gather(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
