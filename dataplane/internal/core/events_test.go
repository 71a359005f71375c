package core

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/eventstest"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/events"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// TestNodeEvents: a single edge with a webhook announces its publisher's
// stream live and idle, sends the control API's events through Notifier,
// every one signed, and counts them on /metrics.
func TestNodeEvents(t *testing.T) {
	rcv, err := eventstest.Start("a-webhook-secret", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	cfg, err := config.Load([]string{"-srt.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0", "-streams", "cam1",
		"-events.webhook.url", rcv.URL(), "-events.webhook.secret", "a-webhook-secret"},
		func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	defer func() { cancel(); <-done }()

	n.Notifier().Emit(ctx, "stream.created", "cam1", map[string]any{"name": "cam1"})
	pub, err := n.Streams.Get("cam1").Publish(stream.PublisherInfo{Addr: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rcv.Wait(10*time.Second, func(es []events.Envelope) bool { return len(es) == 2 }) {
		t.Fatalf("received %v, want created and live", eventstest.Types(rcv.Events()))
	}
	pub.Close(nil)
	if !rcv.Wait(10*time.Second, func(es []events.Envelope) bool { return len(es) == 3 }) {
		t.Fatalf("received %v, want idle after the publisher left", eventstest.Types(rcv.Events()))
	}
	want := []events.Type{events.StreamCreated, events.StreamLive, events.StreamIdle}
	if got := eventstest.Types(rcv.Of("cam1")); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if p := rcv.Problems(); len(p) > 0 {
		t.Fatalf("receiver problems: %v", p)
	}
	if e := rcv.Events()[1]; e.Node != cfg.Node.ID || e.Region != cfg.Node.Region || e.Zone != cfg.Node.Zone {
		t.Fatalf("live from %s/%s/%s", e.Node, e.Region, e.Zone)
	}
	resp, err := http.Get("http://" + n.Origin.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range []string{"zonecast_events_queued_total", "zonecast_events_delivered_total", "zonecast_events_pending", "zonecast_events_oldest_pending_seconds"} {
		if !strings.Contains(string(body), m) {
			t.Fatalf("/metrics lacks %s", m)
		}
	}
	if strings.Contains(string(body), "a-webhook-secret") {
		t.Fatal("/metrics shows the secret")
	}
}
