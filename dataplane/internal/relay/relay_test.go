package relay

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/zonecast/zonecast/policies/failover"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

func loadTLS(t testing.TB, dir, id string) *TLS {
	t.Helper()
	c, err := LoadTLS(filepath.Join(dir, "ca.pem"), filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem"), "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collector is a Sink that keeps what it gets.
type collector struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	discs    int
	controls []Control
	closed   chan error
}

func newCollector() *collector { return &collector{closed: make(chan error, 1)} }

func (c *collector) WriteTS(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(b)
	return nil
}
func (c *collector) Discontinuity() { c.mu.Lock(); c.discs++; c.mu.Unlock() }
func (c *collector) Control(x Control) {
	c.mu.Lock()
	c.controls = append(c.controls, x)
	c.mu.Unlock()
}
func (c *collector) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Status{Node: "b1", RedisOK: true, Bytes: uint64(c.buf.Len())}
}
func (c *collector) Close(err error) { c.closed <- err }

func startServer(t *testing.T, tl *TLS, h Handler) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", tl, failover.DefaultTimings, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRelayCarriesTS relays a real ffmpeg-made TS file chunk by chunk and
// checks the standby got exactly the same bytes, the control message and
// the end of stream; the leader sees the standby's status.
func TestRelayCarriesTS(t *testing.T) {
	certs := testkit.NodeCerts(t, "a1", "b1")
	ts, err := os.ReadFile(testkit.MakeTS(t, t.TempDir(), testkit.TS{Seconds: 3}))
	if err != nil {
		t.Fatal(err)
	}
	sink := newCollector()
	var gotPeer string
	srv := startServer(t, loadTLS(t, certs, "b1"), func(peer string, h Hello) (Sink, error) {
		gotPeer = peer
		if h.Stream != "cam1" || h.Leader != "a1" || h.Token != 7 {
			return nil, errors.New("unexpected hello")
		}
		return sink, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Dial(ctx, srv.Addr(), loadTLS(t, certs, "a1"), failover.DefaultTimings, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Name != "b1" {
		t.Fatalf("standby certificate name %q", p.Name)
	}
	out, err := p.Open(ctx, Hello{Stream: "cam1", Leader: "a1", Token: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(ts); i += 1316 { // SRT payload size
		if err := out.WriteTS(ts[i:min(i+1316, len(ts))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Control(Control{Token: 8}); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		if st, at := out.PeerStatus(); !at.IsZero() && st.Bytes == uint64(len(ts)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := out.PeerStatus(); st.Bytes != uint64(len(ts)) || !st.RedisOK || st.Node != "b1" {
		t.Fatalf("peer status %+v, want %d bytes", st, len(ts))
	}
	out.Close()
	select {
	case <-sink.closed:
	case <-ctx.Done():
		t.Fatal("standby did not see the end of the relay stream")
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !bytes.Equal(sink.buf.Bytes(), ts) {
		t.Fatalf("standby got %d bytes, differing from the %d sent", sink.buf.Len(), len(ts))
	}
	if len(sink.controls) != 1 || sink.controls[0].Token != 8 || sink.discs != 0 {
		t.Fatalf("controls %+v discontinuities %d", sink.controls, sink.discs)
	}
	if gotPeer != "a1" {
		t.Fatalf("leader identified as %q", gotPeer)
	}
}

// TestRelayRefusesStrangers: mutual TLS refuses a client or server whose
// certificate another CA signed.
func TestRelayRefusesStrangers(t *testing.T) {
	ours := testkit.NodeCerts(t, "a1", "b1")
	theirs := testkit.NodeCerts(t, "x1")
	srv := startServer(t, loadTLS(t, ours, "b1"), func(string, Hello) (Sink, error) { return newCollector(), nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cases := []struct {
		name string
		tls  *TLS
	}{
		{"client from another CA", loadTLS(t, theirs, "x1")},
		{"client without certificate", func() *TLS {
			c := loadTLS(t, ours, "a1")
			c.Client.Certificates = nil
			return c
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Dial(ctx, srv.Addr(), tc.tls, failover.DefaultTimings, nil)
			if err == nil {
				// TLS 1.3: the server's refusal of a client certificate can
				// arrive after the client's handshake completes.
				_, err = p.Open(ctx, Hello{Stream: "cam1", Leader: "x"})
				if err == nil {
					select {
					case <-p.Done():
						err = errors.New("closed")
					case <-time.After(2 * time.Second):
					}
				}
				p.Close()
			}
			if err == nil {
				t.Fatal("a stranger could open a relay stream")
			}
		})
	}
	t.Run("server from another CA", func(t *testing.T) {
		bad := startServer(t, loadTLS(t, theirs, "x1"), func(string, Hello) (Sink, error) { return newCollector(), nil })
		if _, err := Dial(ctx, bad.Addr(), loadTLS(t, ours, "a1"), failover.DefaultTimings, nil); err == nil {
			t.Fatal("dialled a standby whose certificate our CA did not sign")
		}
	})
}

// TestRelayTimeout: a leader that stops sending (frozen, or its link is
// cut) is noticed within the relay timeout.
func TestRelayTimeout(t *testing.T) {
	certs := testkit.NodeCerts(t, "a1", "b1")
	sink := newCollector()
	srv := startServer(t, loadTLS(t, certs, "b1"), func(string, Hello) (Sink, error) { return sink, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A raw QUIC client that says hello and then nothing at all, with
	// keep-alives so that only the relay's own timeout can fire.
	conf := quicConfig(failover.DefaultTimings)
	conf.MaxIdleTimeout = 10 * time.Second
	conn, err := quic.DialAddr(ctx, srv.Addr(), loadTLS(t, certs, "a1").Client, conf)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(st, frameHello, Hello{Stream: "cam1", Leader: "a1"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-sink.closed:
		if !errors.Is(err, ErrRelayTimeout) {
			t.Fatalf("closed with %v, want ErrRelayTimeout", err)
		}
		if d := time.Since(start); d > failover.DefaultTimings.RelayTimeout+time.Second {
			t.Fatalf("timeout noticed after %v", d)
		}
	case <-ctx.Done():
		t.Fatal("silent leader never noticed")
	}
}

// TestRelayPeerDeath: when the leader's connection dies, the standby's sink
// is closed within the relay timeout.
func TestRelayPeerDeath(t *testing.T) {
	certs := testkit.NodeCerts(t, "a1", "b1")
	sink := newCollector()
	srv := startServer(t, loadTLS(t, certs, "b1"), func(string, Hello) (Sink, error) { return sink, nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Dial(ctx, srv.Addr(), loadTLS(t, certs, "a1"), failover.DefaultTimings, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Open(ctx, Hello{Stream: "cam1", Leader: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	_ = out.WriteTS(make([]byte, 188))
	time.Sleep(100 * time.Millisecond)
	p.Close()
	select {
	case err := <-sink.closed:
		if err == nil {
			t.Fatal("closed without a reason")
		}
	case <-ctx.Done():
		t.Fatal("standby did not notice the leader's connection closing")
	}
}
