package srt

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// logBuffer collects the server's log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type sink struct {
	mu    sync.Mutex
	data  bytes.Buffer
	discs int
}

func (s *sink) WriteTS(p []byte) error { s.mu.Lock(); s.data.Write(p); s.mu.Unlock(); return nil }
func (s *sink) Discontinuity()         { s.mu.Lock(); s.discs++; s.mu.Unlock() }
func (s *sink) len() int               { s.mu.Lock(); defer s.mu.Unlock(); return s.data.Len() }

type fixture struct {
	srv  *Server
	reg  *stream.Registry
	logs *logBuffer
	addr string
}

func startServer(t *testing.T, takeover bool) *fixture {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	reg := stream.NewRegistry(log)
	keys := map[string][]string{"cam1": {"correct-horse-battery"}, "open": nil,
		"twin": {"primary-encoder-key", "backup-encoder-key"}, "slow": nil}
	for name := range keys {
		reg.Add(name)
	}
	// "slow" waits like a catalog read that hangs: it must not hold the
	// other handshakes, which Quick sends down the ordered path.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, err := Listen(Options{
		Listen:          "127.0.0.1:0",
		Latency:         120 * time.Millisecond,
		PeerIdleTimeout: 1 * time.Second,
		Takeover:        takeover,
		Log:             log,
		Quick:           func(name string) bool { return name != "slow" },
		Lookup: func(ctx context.Context, name string) (Target, error) {
			switch name {
			case "down":
				return Target{}, fmt.Errorf("%w: catalog timed out and %q is not known here", ErrLookupUnavailable, name)
			case "flood":
				return Target{}, fmt.Errorf("%w: %q not looked up", ErrLookupThrottled, name)
			case "slow":
				select {
				case <-release:
				case <-ctx.Done():
				}
				return Target{}, fmt.Errorf("%w: %q", ErrUnknownStream, name)
			}
			k, ok := keys[name]
			if !ok {
				return Target{}, fmt.Errorf("%w: %q", ErrUnknownStream, name)
			}
			return Target{Stream: reg.Get(name), Passphrases: k}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, reg: reg, logs: logs, addr: srv.Addr().String()}
}

func dial(addr, streamID, passphrase string, keylen int) (gosrt.Conn, error) {
	cfg := gosrt.DefaultConfig()
	cfg.StreamId = streamID
	cfg.Passphrase = passphrase
	if keylen != 0 {
		cfg.PBKeylen = keylen
	}
	cfg.ConnectionTimeout = 2 * time.Second
	return gosrt.Dial("srt", addr, cfg)
}

func rejectText(r gosrt.RejectionReason) string {
	return "REJECT (" + strconv.FormatUint(uint64(r), 32) + ")"
}

func TestRejections(t *testing.T) {
	f := startServer(t, false)
	holder, err := dial(f.addr, "#!::r=cam1,m=publish", "correct-horse-battery", 16)
	if err != nil {
		t.Fatalf("first publisher: %v", err)
	}
	defer holder.Close()

	tests := []struct {
		name     string
		streamID string
		pass     string
		reason   gosrt.RejectionReason
		logLine  string
	}{
		{"wrong passphrase", "#!::r=cam1,m=publish", "wrong-horse-battery", gosrt.REJ_BADSECRET, "reason=bad_passphrase"},
		{"missing passphrase", "#!::r=cam1,m=publish", "", gosrt.REJ_UNSECURE, "reason=unencrypted"},
		{"unexpected passphrase", "#!::r=open,m=publish", "some-passphrase", gosrt.REJ_UNSECURE, "reason=unexpected_encryption"},
		{"unknown stream", "#!::r=cam9,m=publish", "correct-horse-battery", gosrt.REJX_NOTFOUND, "reason=unknown_stream"},
		{"second publisher", "cam1", "correct-horse-battery", gosrt.REJX_CONFLICT, "reason=busy"},
		{"play request", "#!::r=open,m=request", "", gosrt.REJX_BAD_MODE, "reason=bad_mode"},
		{"malformed", "#!::m=publish", "", gosrt.REJX_BAD_REQUEST, "reason=bad_streamid"},
		{"catalog unreachable", "publish:down", "", gosrt.REJX_DOWN, "reason=catalog_unavailable"},
		{"lookups throttled", "publish:flood", "", gosrt.REJX_OVERLOAD, "reason=lookup_throttled"},
		{"neither encoder's key", "publish:twin", "third-encoder-key", gosrt.REJ_BADSECRET, "reason=bad_passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dial(f.addr, tt.streamID, tt.pass, 16)
			if err == nil {
				c.Close()
				t.Fatal("connection accepted")
			}
			if !strings.Contains(err.Error(), rejectText(tt.reason)) {
				t.Fatalf("error %q, want reject reason %d (%s)", err, tt.reason, rejectText(tt.reason))
			}
			if !strings.Contains(f.logs.String(), tt.logLine) {
				t.Fatalf("no %q log line in:\n%s", tt.logLine, f.logs.String())
			}
		})
	}
	if got := f.srv.Rejections()["busy"]; got != 1 {
		t.Fatalf("busy rejections %d", got)
	}
	if st := f.reg.Get("cam1").Status(); st.State != stream.StateLive {
		t.Fatalf("first publisher lost cam1: %+v", st)
	}
}

// TestBackupKeyAndSlowLookup: a stream takes its backup encoder's key as
// well as its primary's, and a lookup that hangs does not hold another
// publisher's handshake.
func TestBackupKeyAndSlowLookup(t *testing.T) {
	f := startServer(t, false)
	slow := make(chan error, 1)
	go func() {
		c, err := dial(f.addr, "publish:slow", "", 16)
		if err == nil {
			c.Close()
		}
		slow <- err
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is waiting now
	for _, key := range []string{"primary-encoder-key", "backup-encoder-key"} {
		c, err := dial(f.addr, "publish:twin", key, 16)
		if err != nil {
			t.Fatalf("key %q refused while another lookup waits: %v", key, err)
		}
		c.Close()
		waitFor(t, "idle after close", func() bool { return !f.reg.Get("twin").Live() })
	}
	select {
	case err := <-slow:
		t.Fatalf("the slow lookup was answered before it was released: %v", err)
	default:
	}
}

func TestKeyLengthsAndData(t *testing.T) {
	f := startServer(t, false)
	rec := &sink{}
	defer f.reg.Get("cam1").Subscribe("test", rec)()
	for _, keylen := range []int{16, 24, 32} {
		t.Run(strconv.Itoa(keylen), func(t *testing.T) {
			c, err := dial(f.addr, "#!::r=cam1,m=publish,u=alice,s=1", "correct-horse-battery", keylen)
			if err != nil {
				t.Fatalf("pbkeylen %d: %v", keylen, err)
			}
			before := rec.len()
			payload := bytes.Repeat([]byte{0x47}, 1316)
			for i := 0; i < 50; i++ {
				if _, err := c.Write(payload); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "data through the stream", func() bool { return rec.len() >= before+50*1316 })
			c.Close()
			waitFor(t, "idle after close", func() bool { return !f.reg.Get("cam1").Live() })
		})
	}
	if ts := f.reg.Get("cam1").TransportStats(); ts.PacketsReceived < 150 {
		t.Fatalf("transport stats %+v", ts)
	}
}

func TestTakeover(t *testing.T) {
	f := startServer(t, true)
	first, err := dial(f.addr, "open", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	waitFor(t, "first live", func() bool { return f.reg.Get("open").Live() })
	firstAddr := f.reg.Get("open").Status().Publisher
	second, err := dial(f.addr, "open", "", 0)
	if err != nil {
		t.Fatalf("takeover refused: %v", err)
	}
	defer second.Close()
	waitFor(t, "second publisher owns the stream", func() bool {
		st := f.reg.Get("open").Status()
		return st.State == stream.StateLive && st.Publisher != firstAddr
	})
	if !strings.Contains(f.logs.String(), "publisher taken over") {
		t.Fatal("no takeover log line")
	}
}

func TestGarbageUDPAndPublisherLoss(t *testing.T) {
	f := startServer(t, false)
	rec := &sink{}
	defer f.reg.Get("cam1").Subscribe("test", rec)()
	c, err := dial(f.addr, "#!::r=cam1,m=publish", "correct-horse-battery", 16)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte{0x47}, 1316)

	// Garbage at the listening port while a publisher streams.
	udp, err := net.Dial("udp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for i := 0; i < 2000; i++ {
		n := 1 + i%1500
		rand.Read(buf[:n])
		if i%3 == 0 { // looks like a control packet: exercise the handshake parser
			buf[0] = 0x80
		}
		udp.Write(buf[:n])
		if i%20 == 0 {
			c.Write(payload)
		}
	}
	udp.Close()
	// The publisher goes on streaming (as a live encoder does): its data
	// keeps arriving.
	mark := rec.len()
	waitFor(t, "the publisher's data after the garbage", func() bool {
		c.Write(payload)
		return rec.len() >= mark+50*1316
	})

	// New publishers are still admitted (a flood can drop handshakes; libsrt
	// callers retry them, gosrt's Dial does not, so retry here).
	var other gosrt.Conn
	for attempt := 0; attempt < 3 && other == nil; attempt++ {
		other, err = dial(f.addr, "open", "", 0)
	}
	if err != nil {
		t.Fatalf("after garbage: %v", err)
	}
	other.Close()

	// Losing the publisher ends the publication and tells consumers.
	c.Close()
	waitFor(t, "idle after the publisher left", func() bool { return !f.reg.Get("cam1").Live() })
	waitFor(t, "discontinuity after publisher loss", func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return rec.discs > 0 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReceiveBufferReachable(t *testing.T) {
	f := startServer(t, false)
	// If a gosrt upgrade hides the socket, this fails rather than letting
	// 64-publisher nodes silently lose packets.
	if !setReceiveBuffer(f.srv.ln, 1<<20) {
		t.Fatal("the gosrt listener's UDP socket is no longer reachable")
	}
}
