package edge_test

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"
)

// TestBadInputSurvived: while cam1 is published and followed like a player
// would, every kind of bad input hits the edge. Each is refused or survived
// with a clear log line, and cam1's playlist keeps advancing with no gap (no
// discontinuity, contiguous PROGRAM-DATE-TIME, media sequence never back).
func TestBadInputSurvived(t *testing.T) {
	requireTools(t, "ffmpeg")
	e := startEdge(t, contractStreams, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishFile(t, ctx, e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16))
	e.waitPlaylist("/live/cam1/source/index.m3u8", 2, 30*time.Second)
	watch := follow(ctx, e.httpURL+"/live/cam1/source/index.m3u8")

	refused := []struct {
		name, streamID, pass, logReason string
	}{
		{"wrong passphrase", "#!::r=cam2,m=publish", "not-the-camera-pass", "reason=bad_passphrase"},
		{"unknown stream", "#!::r=cam9,m=publish", "second-camera-pass", "reason=unknown_stream"},
		{"second publisher", "#!::r=cam1,m=publish", "correct-horse-battery", "reason=busy"},
		{"no passphrase", "cam2", "", "reason=unencrypted"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			mark := e.logMark()
			p := publishFile(t, ctx, e.srtURL(tt.streamID, tt.pass, 16))
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				t.Fatalf("ffmpeg was not refused: %s", p.out.String())
			}
			if p.err == nil {
				t.Fatalf("ffmpeg exited cleanly after a refusal: %s", p.out.String())
			}
			line := e.waitLogAfter(mark, 5*time.Second, "publisher refused", tt.logReason)
			t.Logf("edge: %s", line)
		})
	}

	t.Run("UDP garbage", func(t *testing.T) {
		conn, err := net.Dial("udp", e.srtAddr)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		for i := 0; i < 3000; i++ {
			n := 1 + mrand.IntN(1500)
			rand.Read(buf[:n])
			if i%2 == 0 {
				buf[0] |= 0x80 // a control packet...
				buf[4], buf[5], buf[6], buf[7] = 0, 0, 0, 0
				buf[12], buf[13], buf[14], buf[15] = 0, 0, 0, 0 // ...to socket 0: the handshake path
			}
			conn.Write(buf[:n])
			if i%100 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
		conn.Close()
		e.alive()
		// The listener still admits publishers.
		p := publishFile(t, ctx, e.srtURL("#!::r=cam2,m=publish", "second-camera-pass", 16))
		e.waitState("cam2", "live", 15*time.Second)
		p.kill()
		e.waitState("cam2", "idle", 10*time.Second)
	})

	t.Run("corrupt and truncated TS", func(t *testing.T) {
		data, err := os.ReadFile(fixture)
		if err != nil {
			t.Fatal(err)
		}
		corrupt(data)
		mark := e.logMark()
		sendRawTS(t, e.srtAddr, "#!::r=cam2,m=publish", "second-camera-pass", data[:len(data)*2/3+101], 6*time.Second)
		line := e.waitLogAfter(mark, 10*time.Second, "stream=cam2", "bad MPEG-TS input skipped")
		t.Logf("edge: %s", line)
		e.waitState("cam2", "idle", 10*time.Second)
		e.alive()
	})

	t.Run("publisher vanishes mid-stream", func(t *testing.T) {
		cam2 := follow(ctx, e.httpURL+"/live/cam2/source/index.m3u8")
		p := publishFile(t, ctx, e.srtURL("#!::r=cam2,m=publish", "second-camera-pass", 16))
		e.waitState("cam2", "live", 15*time.Second)
		e.waitPlaylist("/live/cam2/source/index.m3u8", 2, 30*time.Second)
		before := cam2.report().newest
		mark := e.logMark()
		p.kill() // SIGKILL: no SRT shutdown, the edge notices by the idle timeout
		line := e.waitLogAfter(mark, 10*time.Second, "publisher stopped", "stream=cam2", "vanished")
		t.Logf("edge: %s", line)
		e.waitState("cam2", "idle", 10*time.Second)
		// The broadcaster comes back: the playlist continues after a
		// discontinuity, media sequence never back.
		publishFile(t, ctx, e.srtURL("#!::r=cam2,m=publish", "second-camera-pass", 16))
		e.waitState("cam2", "live", 15*time.Second)
		deadline := time.Now().Add(30 * time.Second)
		for cam2.report().newest < before+3 {
			if time.Now().After(deadline) {
				t.Fatalf("cam2 did not continue after reconnect: %+v", cam2.report())
			}
			time.Sleep(200 * time.Millisecond)
		}
		_, pl := e.get("/live/cam2/source/index.m3u8")
		if !strings.Contains(pl, "#EXT-X-DISCONTINUITY") {
			t.Errorf("no EXT-X-DISCONTINUITY after the reconnect:\n%s", pl)
		}
		if r := cam2.report(); len(r.problems) > 0 {
			t.Errorf("cam2 playlist problems across the reconnect: %v", r.problems)
		}
	})

	// Meanwhile cam1 never missed a beat.
	time.Sleep(2 * time.Second)
	r := watch.report()
	t.Logf("cam1: %d segments seen, newest %d, longest wait for a new segment %v, last new one %v ago", r.segments, r.newest, r.maxStall, r.sinceNew)
	if len(r.problems) > 0 {
		t.Errorf("cam1 playlist problems: %v", r.problems)
	}
	if r.discontinuity > 0 {
		t.Errorf("cam1 got %d discontinuities", r.discontinuity)
	}
	if r.segments < 8 {
		t.Errorf("cam1 advanced only %d segments", r.segments)
	}
	// Segments are 2 s; a playlist that went 6 s without a new one stalled.
	if r.maxStall > 6*time.Second || r.sinceNew > 6*time.Second {
		t.Errorf("cam1 stalled: longest %v, last new segment %v ago", r.maxStall, r.sinceNew)
	}
	e.alive()
}

// corrupt damages TS in place: flipped bytes, broken sync bytes, cut
// packets (a packet's tail overwritten by the next one's head).
func corrupt(data []byte) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i+188 <= len(data); i += 188 {
		switch r.IntN(50) {
		case 0:
			data[i] = 0x00 // lost sync
		case 1, 2:
			for k := 0; k < 8; k++ {
				data[i+r.IntN(188)] ^= byte(r.IntN(255) + 1)
			}
		case 3:
			copy(data[i+90:i+188], data[i+188*2:]) // truncated packet
		}
	}
}

// sendRawTS publishes bytes as they are (ffmpeg would repair them) with a
// gosrt caller, paced over d, then leaves.
func sendRawTS(t *testing.T, addr, streamID, pass string, data []byte, d time.Duration) {
	t.Helper()
	cfg := gosrt.DefaultConfig()
	cfg.StreamId = streamID
	cfg.Passphrase = pass
	conn, err := gosrt.Dial("srt", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const chunk = 1316
	chunks := (len(data) + chunk - 1) / chunk
	interval := d / time.Duration(chunks)
	next := time.Now()
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if _, err := conn.Write(data[off:end]); err != nil {
			t.Fatalf("send: %v", err)
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
}
