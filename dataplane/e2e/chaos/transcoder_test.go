package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The warm ladder (docs/cluster.md): with transcoding on, the standby feeds
// the relayed TS to its own transcoder, so its ladder renditions carry the
// leader's names and numbers; when only the leader's ffmpeg dies, the
// leader hands the lease to the standby at once and a viewer of a ladder
// rendition loses nothing.

// ladderRung is the chaos ladder: the source is 320x180, and this machine
// (2 cores) carries it twice (leader and standby) beside the broadcaster.
const ladderRung = "160p"

// enableLadder turns transcoding on for every edge the test starts, through
// the contract's environment variables (ZONECAST_TRANSCODE_*): libx264
// only (no GPU probe), a one-rung ladder, capacity one (no calibration run).
func enableLadder(t *testing.T) {
	t.Setenv("ZONECAST_TRANSCODE_ENABLED", "true")
	t.Setenv("ZONECAST_TRANSCODE_ENCODERS", "libx264")
	t.Setenv("ZONECAST_TRANSCODE_LADDER", ladderRung+":200k")
	t.Setenv("ZONECAST_TRANSCODE_CAPACITY", "1")
}

// TestFaultsTranscoder (named so that `make chaos`, which runs TestFaults*,
// reports it; CHAOS_ONLY=transcoder runs it alone): a1 leads with b1
// standing by, both transcoding; SIGKILL of a1's ffmpeg.
func TestFaultsTranscoder(t *testing.T) {
	const name = "transcoder-sigkill-leader-ffmpeg"
	if only := os.Getenv("CHAOS_ONLY"); only != "" && !matchesAny(name, strings.Split(only, ",")) {
		t.Skipf("CHAOS_ONLY=%s does not select %s", only, name)
	}
	enableLadder(t)
	h := NewHarness(t, edgeBin, Local, "a1", "b1")
	h.Rendition = ladderRung
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)
	rolesAt := time.Now()
	dump := func() string {
		var b strings.Builder
		for _, n := range h.Nodes {
			fmt.Fprintf(&b, "--- %s\n%s\n", n.ID, tail(n.Log(), 80))
		}
		return b.String()
	}

	// Before the fault: b1's ladder playlist lists a1's segments under the
	// same numbers, names and durations.
	common, diffs := waitLadderAligned(h, 40*time.Second)
	if common < 3 || len(diffs) > 0 {
		t.Fatalf("before the fault the standby's %s playlist does not match the leader's: %d common segments, differences %v\n%s",
			ladderRung, common, diffs, dump())
	}
	t.Logf("before the fault: %d %s segments listed by both nodes under the same numbers, names and durations", common, ladderRung)
	time.Sleep(2 * time.Second) // the reader follows the ladder, the standby's status says its ladder runs
	before := h.Reader.Report()
	if before.Segments == 0 {
		t.Fatalf("the reader saw no %s segment before the fault\n%s", ladderRung, dump())
	}
	// A term younger than a lease does not hand over for a ladder failure
	// (no ping-pong between two failing ladders): fault an established one.
	if d := Local.Timings.LeaseTTL - time.Since(rolesAt); d > 0 {
		time.Sleep(d)
	}
	h.Reader.ResetStall()

	pid, err := ffmpegPID(h.Node("a1"))
	if err != nil {
		t.Fatalf("a1's ffmpeg: %v\n%s", err, dump())
	}
	injected := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL ffmpeg %d: %v", pid, err)
	}
	time.Sleep(8 * time.Second)

	rep := h.Reader.Report()
	line := fmt.Sprintf("CHAOS fault=%s stall_s=%.2f media_lost_s=%.2f pdt_gap_s=%.2f longest_segment_s=%.2f broadcaster_reconnect_s=%.2f terms=%d served_by=%v rendition=%s",
		name, rep.MaxStall.Seconds(), rep.MediaLost.Seconds(), rep.MaxPDTGap.Seconds(), rep.LongestSeg.Seconds(),
		reconnectSince(h, injected).Seconds(), h.Mon.Terms(), rep.ServedBy, ladderRung)
	t.Log(line)
	appendFigure(line)

	for _, n := range h.Nodes {
		if l := n.Log(); strings.Contains(l, "WARNING: DATA RACE") {
			i := strings.Index(l, "WARNING: DATA RACE")
			t.Errorf("%s (built with -race) reported a data race:\n%s", n.ID, l[i:min(len(l), i+3000)])
		}
	}
	if !strings.Contains(h.Node("a1").Log(), "ladder failed: handed over to the standby") {
		t.Errorf("a1 did not hand the stream over when its ffmpeg died")
	}
	if o := h.Mon.Overlaps(); len(o) > 0 {
		t.Errorf("two nodes led at once: %v", o)
	}
	if len(rep.MSNBack) > 0 {
		t.Errorf("media sequence went back: %v", rep.MSNBack)
	}
	if len(rep.Mismatches) > 0 {
		t.Errorf("same media sequence number, different segment: %v", rep.Mismatches)
	}
	if rep.MediaLost > 0 {
		t.Errorf("%v of %s media lost (PDT holes %v at most, longest segment %v)", rep.MediaLost, ladderRung, rep.MaxPDTGap, rep.LongestSeg)
	}
	if rep.MaxStall >= Local.Segment() {
		t.Errorf("longest stall %v, want under one segment (%v) (at %s, fault at %s)", rep.MaxStall, Local.Segment(),
			rep.StallAt.Format("15:04:05.000"), injected.Format("15:04:05.000"))
	}
	if role := h.Mon.Role("b1"); role != "leader" {
		t.Errorf("b1 is %q at the end, want leader (its ladder was continuous)", role)
	}
	if rep.ServedBy["b1"] == 0 {
		t.Errorf("the reader was never served by b1: %v", rep.ServedBy)
	}
	if t.Failed() || os.Getenv("CHAOS_LOGS") != "" {
		t.Log(dump())
	}
}

// waitLadderAligned waits until the leader (a1) and the standby (b1) list
// at least three common media sequence numbers in the ladder rung's
// playlist; it returns how many they share and every number under which
// they list different segments (name or duration).
func waitLadderAligned(h *Harness, d time.Duration) (int, []string) {
	deadline := time.Now().Add(d)
	var common int
	var diffs []string
	for time.Now().Before(deadline) {
		a, errA := mediaPlaylist(h.Node("a1"), ladderRung)
		b, errB := mediaPlaylist(h.Node("b1"), ladderRung)
		if errA == nil && errB == nil {
			common, diffs = compareSegments(a, b)
			if common >= 3 && len(diffs) == 0 {
				return common, nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return common, diffs
}

// listedSegment is one segment of a media playlist.
type listedSegment struct {
	uri string
	dur float64
}

// mediaPlaylist fetches a rendition's media playlist and lists its complete
// segments by media sequence number.
func mediaPlaylist(n *Node, rendition string) (map[uint64]listedSegment, error) {
	r, err := http.Get("http://" + n.HTTP + "/live/" + StreamName + "/" + rendition + "/index.m3u8")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", n.ID, r.Status)
	}
	return parseSegments(string(body)), nil
}

func parseSegments(body string) map[uint64]listedSegment {
	out := map[uint64]listedSegment{}
	var msn uint64
	var dur float64
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
			msn, _ = strconv.ParseUint(strings.TrimPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
		case strings.HasPrefix(l, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(l, "#EXTINF:"), ",")
			dur, _ = strconv.ParseFloat(v, 64)
		case l != "" && !strings.HasPrefix(l, "#"):
			out[msn] = listedSegment{uri: l, dur: dur}
			msn++
		}
	}
	return out
}

// compareSegments counts the numbers both playlists list and reports those
// that name different segments (name, or duration beyond 50 ms).
func compareSegments(a, b map[uint64]listedSegment) (common int, diffs []string) {
	for msn, sa := range a {
		sb, ok := b[msn]
		if !ok {
			continue
		}
		common++
		if sa.uri != sb.uri || sa.dur-sb.dur > 0.05 || sb.dur-sa.dur > 0.05 {
			diffs = append(diffs, fmt.Sprintf("msn %d: a1 %s (%.3fs), b1 %s (%.3fs)", msn, sa.uri, sa.dur, sb.uri, sb.dur))
		}
	}
	return common, diffs
}

// ffmpegPID is the pid of the node's ladder ffmpeg (GET /api/v1/transcode).
func ffmpegPID(n *Node) (int, error) {
	r, err := http.Get("http://" + n.HTTP + "/api/v1/transcode")
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	var body struct {
		Streams []struct {
			Stream  string `json:"stream"`
			Running bool   `json:"running"`
			PID     int    `json:"ffmpeg_pid"`
		} `json:"streams"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return 0, err
	}
	for _, s := range body.Streams {
		if s.Stream == StreamName && s.Running && s.PID > 0 {
			return s.PID, nil
		}
	}
	return 0, fmt.Errorf("%s: no running ffmpeg for %s in %+v", n.ID, StreamName, body.Streams)
}
