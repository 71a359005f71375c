package encoders

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/chaos"
	"github.com/zonecast/zonecast/dataplane/e2e/loadbalancer"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

// passphrase is what the listeners and callers share (zonecast's streams
// are encrypted).
const passphrase = chaos.Passphrase

// caller is one caller under one group of settings.
type caller struct {
	name     string // "srt-live-transmit" or "ffmpeg"
	settings string // URL options as given ("" = libsrt's defaults)
}

type running interface {
	NoticedSince(time.Time) time.Duration
	Log() string
	Stop()
}

func (c caller) start(to string) (running, error) {
	opts, err := url.ParseQuery(c.settings)
	if err != nil {
		return nil, err
	}
	switch c.name {
	case "srt-live-transmit":
		return chaos.StartCaller(chaos.Shipped, chaos.CallerURI(to, "", opts))
	case "ffmpeg":
		opts.Set("passphrase", passphrase)
		opts.Set("pbkeylen", "16")
		return StartFFmpegCaller("srt://" + to + "?" + opts.Encode())
	}
	return nil, fmt.Errorf("unknown caller %q", c.name)
}

// callers are the measured settings: libsrt's defaults, the peer-idle
// timeout (srt-live-transmit's peeridletimeo, in ms; ffmpeg 5.1 has no
// option for it, its timeout is the I/O wait, in µs), latency (ms for
// srt-live-transmit, µs for ffmpeg) and the connection timeout.
var callers = []caller{
	{"srt-live-transmit", ""},
	{"srt-live-transmit", "peeridletimeo=10000"},
	{"srt-live-transmit", "peeridletimeo=2000"},
	{"srt-live-transmit", "peeridletimeo=1000"},
	{"srt-live-transmit", "latency=1000"},
	{"srt-live-transmit", "peeridletimeo=1000&latency=1000"},
	{"srt-live-transmit", "peeridletimeo=1000&conntimeo=1000"},
	{"ffmpeg", ""},
	{"ffmpeg", "latency=1000000"},
	{"ffmpeg", "timeout=1000000"},
}

// faults: the listener's process is killed, or frozen.
var faults = []struct {
	name string
	sig  syscall.Signal
}{{"killed", syscall.SIGKILL}, {"frozen", syscall.SIGSTOP}}

// BenchmarkEncoderReconnect measures, per caller, settings and fault, how
// long after the fault the caller noticed (its connection broke) and when
// media reached the other listener (through the stand-in, the dead
// listener deregistered at the fault as fencing does). The figures go to
// ENCODERS_OUT as ENCODER lines (make bench-encoders prints the table).
func BenchmarkEncoderReconnect(b *testing.B) {
	for _, c := range callers {
		for _, f := range faults {
			if f.name == "frozen" && c.settings != "" {
				continue // a frozen listener is as silent as a dead one: defaults show it
			}
			settings := c.settings
			if settings == "" {
				settings = "defaults"
			}
			b.Run(fmt.Sprintf("%s/%s/%s", c.name, settings, f.name), func(b *testing.B) {
				var noticed, back time.Duration
				for range b.N {
					noticed, back = measure(b, c, f.sig)
				}
				b.ReportMetric(noticed.Seconds(), "noticed_s")
				b.ReportMetric(back.Seconds(), "media_back_s")
				record(fmt.Sprintf("ENCODER caller=%s settings=%s fault=%s noticed_s=%.2f media_back_s=%.2f", c.name, settings, f.name, noticed.Seconds(), back.Seconds()))
			})
		}
	}
}

func measure(b *testing.B, c caller, sig syscall.Signal) (noticed, back time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer health.Close()
	group := loadbalancer.NewTargetGroup("arn:aws:elasticloadbalancing:local:000000000000:targetgroup/zc-srt-bench/0", failover.DefaultTimings.NLBHealthCheck())
	defer group.Close()
	lb, err := loadbalancer.ListenBalancer("arn:aws:elasticloadbalancing:local:000000000000:loadbalancer/net/zc-bench/0", "127.0.0.1:0", group)
	if err != nil {
		b.Fatal(err)
	}
	defer lb.Close()
	receivers := map[string]*Receiver{}
	for _, id := range []string{"A", "B"} {
		port, err := testkit.FreeDualPort("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		r, err := StartReceiver(ctx, addr, passphrase)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Stop()
		receivers[id] = r
		group.Register(loadbalancer.Instance{ID: id, Traffic: addr, Health: health.URL + "/readyz"}, int32(port))
	}
	for id := range receivers {
		if err := group.WaitState(id, loadbalancer.StateHealthy, 30*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	run, err := c.start(lb.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer run.Stop()
	// The flow hash chose one listener: it is the one that fails.
	var victim, survivor string
	deadline := time.Now().Add(20 * time.Second)
	for victim == "" {
		if time.Now().After(deadline) {
			b.Fatalf("no listener receives media from %s %s:\n%s", c.name, c.settings, run.Log())
		}
		for id, r := range receivers {
			if r.Receiving(200 * time.Millisecond) {
				victim = id
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	survivor = map[string]string{"A": "B", "B": "A"}[victim]
	time.Sleep(2 * time.Second) // steady sending
	fault := time.Now()
	receivers[survivor].Mark(fault)
	receivers[victim].Signal(sig)
	group.Deregister(victim)
	deadline = fault.Add(30 * time.Second)
	for receivers[survivor].First().IsZero() {
		if time.Now().After(deadline) {
			b.Fatalf("%s %s: no media at the other listener 30 s after the fault:\n%s", c.name, c.settings, run.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return run.NoticedSince(fault), receivers[survivor].First().Sub(fault)
}

// record prints a figure line and appends it to ENCODERS_OUT.
func record(line string) {
	fmt.Println(line)
	testkit.AppendFigure("ENCODERS_OUT", line)
}
