package edge_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitPlaylist waits until a playlist answers 200 with at least n segments.
func (e *edgeProc) waitPlaylist(path string, segments int, timeout time.Duration) string {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := e.get(path)
		if code == 200 && strings.Count(body, "#EXTINF") >= segments {
			return body
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: no playlist with %d segments (last %d):\n%s\nedge log:\n%s", path, segments, code, body, e.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// readHLS reads an HLS URL with ffmpeg for seconds of media and fails on any
// error ffmpeg reports.
func readHLS(t *testing.T, url string, seconds int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+30)*time.Second)
	defer cancel()
	p := startProc(t, ctx, "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-re", "-i", url, "-t", fmt.Sprint(seconds), "-f", "null", "-")
	<-p.done
	out := strings.TrimSpace(p.out.String())
	if p.err != nil || out != "" {
		t.Fatalf("ffmpeg reading %s: %v\n%s", url, p.err, out)
	}
}

// TestFFmpegPublisherAndHLSReaders: the contract path. A live libx264
// encoder publishes cam1 over libsrt with its passphrase; ffprobe sees H.264
// and AAC; ffmpeg reads the LL-HLS and the classic playlists for 10 s each
// without an error; the API and metrics report the publisher.
func TestFFmpegPublisherAndHLSReaders(t *testing.T) {
	requireTools(t, "ffmpeg", "ffprobe")
	e := startEdge(t, contractStreams, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishLive(t, ctx, e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16))

	st := e.waitState("cam1", "live", 15*time.Second)
	if !strings.HasPrefix(st.Publisher, "127.0.0.1:") {
		t.Fatalf("publisher address %q", st.Publisher)
	}
	if idle := e.streams()["cam2"]; idle.State != "idle" || idle.Publisher != "" {
		t.Fatalf("cam2 %+v", idle)
	}
	e.waitPlaylist("/live/cam1/source/index.m3u8", 2, 30*time.Second)

	// The URL rule: multivariant index.m3u8 names LL-HLS media playlists;
	// classic.m3u8 in place of index.m3u8 gives the MPEG-TS variants.
	_, mv := e.get("/live/cam1/index.m3u8")
	if !strings.Contains(mv, "source/index.m3u8") {
		t.Fatalf("multivariant playlist does not name source/index.m3u8:\n%s", mv)
	}
	_, media := e.get("/live/cam1/source/index.m3u8")
	for _, tag := range []string{"#EXT-X-PART:", "#EXT-X-PRELOAD-HINT", "#EXT-X-SERVER-CONTROL", "CAN-BLOCK-RELOAD=YES", "#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-MAP"} {
		if !strings.Contains(media, tag) {
			t.Errorf("LL-HLS playlist lacks %s:\n%s", tag, media)
		}
	}
	_, cmv := e.get("/live/cam1/classic.m3u8")
	if !strings.Contains(cmv, "source/classic.m3u8") {
		t.Fatalf("classic multivariant does not name source/classic.m3u8:\n%s", cmv)
	}
	_, classic := e.get("/live/cam1/source/classic.m3u8")
	if !strings.Contains(classic, ".ts") || strings.Contains(classic, "#EXT-X-PART:") {
		t.Fatalf("classic playlist:\n%s", classic)
	}

	probe := startProc(t, ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", e.httpURL+"/live/cam1/index.m3u8")
	<-probe.done
	if got := probe.out.String(); probe.err != nil || !strings.Contains(got, "h264") || !strings.Contains(got, "aac") {
		t.Fatalf("ffprobe: %v %q", probe.err, got)
	}

	var wg sync.WaitGroup
	for _, path := range []string{"/live/cam1/index.m3u8", "/live/cam1/classic.m3u8"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run("read "+path, func(t *testing.T) { readHLS(t, e.httpURL+path, 10) })
		}()
	}
	wg.Wait()

	if st := e.streams()["cam1"]; st.Bitrate < 200_000 || st.Bitrate > 5_000_000 {
		t.Fatalf("incoming bitrate %d b/s for an ~0.9 Mb/s publisher", st.Bitrate)
	}
	_, metrics := e.get("/metrics")
	for _, want := range []string{`zonecast_stream_live{stream="cam1"} 1`, `zonecast_srt_packets_received_total{stream="cam1"}`,
		`zonecast_srt_packets_retransmitted_total{stream="cam1"}`, `zonecast_hls_segments_written_total{stream="cam1"}`,
		`,kind="segment"}`, `zonecast_stream_bitrate_in_bits_per_second{stream="cam1"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	e.alive()
}

// TestKeyLengths: libsrt publishers with pbkeylen 16, 24 and 32 are all
// admitted and decrypted.
func TestKeyLengths(t *testing.T) {
	t.Parallel() // an edge of its own on free ports, light: overlaps the others
	requireTools(t, "ffmpeg")
	streams := []streamDef{{"k16", "key-length-pass"}, {"k24", "key-length-pass"}, {"k32", "key-length-pass"}}
	e := startEdge(t, streams, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, keylen := range []int{16, 24, 32} {
		publishFile(t, ctx, e.srtURL("#!::r="+streams[i].name+",m=publish", "key-length-pass", keylen))
	}
	for _, s := range streams {
		e.waitState(s.name, "live", 15*time.Second)
		e.waitPlaylist("/live/"+s.name+"/source/index.m3u8", 1, 30*time.Second)
	}
}

// TestSRTLiveTransmitRelay: srt-live-transmit relays a file (paced by ffmpeg
// into its stdin) to the edge; the stream is packaged and readable.
func TestSRTLiveTransmitRelay(t *testing.T) {
	t.Parallel() // an edge of its own on free ports, light: overlaps the others
	requireTools(t, "ffmpeg", "ffprobe", "srt-live-transmit")
	e := startEdge(t, contractStreams, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := e.srtURL("#!::r=cam2,m=publish,u=relay", "second-camera-pass", 16)
	pipeline := fmt.Sprintf("ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i %q -c copy -f mpegts - | srt-live-transmit -q -chunk:1316 file://con %q", fixture, target)
	startProc(t, ctx, "bash", "-c", pipeline)
	e.waitState("cam2", "live", 15*time.Second)
	e.waitPlaylist("/live/cam2/source/index.m3u8", 2, 30*time.Second)
	readHLS(t, e.httpURL+"/live/cam2/index.m3u8", 4)
}
