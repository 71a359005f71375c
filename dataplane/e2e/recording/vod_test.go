package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	rec "github.com/zonecast/zonecast/dataplane/internal/recording"
)

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return b
}

// recordings asks a node's API for the stream's recordings.
func recordings(base, stream string) ([]rec.Entry, error) {
	resp, err := http.Get(base + "/api/v1/streams/" + stream + "/recordings")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%d: %s", resp.StatusCode, b)
	}
	var out []rec.Entry
	return out, json.Unmarshal(b, &out)
}

// waitReady waits until the stream's newest recording is ready, and
// returns every recording listed then.
func waitReady(t *testing.T, base, stream string, d time.Duration, logs func() string) []rec.Entry {
	t.Helper()
	deadline := time.Now().Add(d)
	var last []rec.Entry
	var err error
	for time.Now().Before(deadline) {
		last, err = recordings(base, stream)
		if err == nil && len(last) > 0 && last[len(last)-1].State == rec.StateReady {
			return last
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no ready recording of %s within %v: last listing %+v (err %v)\n%s", stream, d, last, err, logs())
	return nil
}

// vodRendition is one rendition of a recording as its VOD playlist says.
type vodRendition struct {
	name string
	msns []uint64
	// span is from the first segment's PDT to the last one's end; media is
	// the sum of the segments' durations; holes the time between them.
	first, end   time.Time
	media, holes time.Duration
}

// readVOD reads a recording's multivariant playlist and each rendition's
// VOD playlist from base (a node's /vod/), failing on duplicated or
// missing media sequence numbers and on a playlist that is not VOD.
func readVOD(t *testing.T, base string, e rec.Entry) []vodRendition {
	t.Helper()
	mvBody := get(t, base+e.URL)
	pl, err := playlist.Unmarshal(mvBody)
	if err != nil {
		t.Fatalf("multivariant playlist %s: %v\n%s", e.URL, err, mvBody)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok || len(mv.Variants) == 0 {
		t.Fatalf("%s is not a multivariant playlist with variants:\n%s", e.URL, mvBody)
	}
	var out []vodRendition
	for _, v := range mv.Variants {
		u := path.Join(path.Dir(e.URL), v.URI)
		body := get(t, base+u)
		m := testkit.ParseMedia(t, body)
		if m.PlaylistType == nil || *m.PlaylistType != playlist.MediaPlaylistTypeVOD || !m.Endlist {
			t.Fatalf("%s is not a closed VOD playlist:\n%s", u, body)
		}
		r := vodRendition{name: path.Dir(v.URI)}
		var clock time.Time // where the previous segment ended
		for i, s := range m.Segments {
			msn, ok := rec.ParseSegmentName(s.URI)
			if !ok {
				t.Fatalf("%s: segment %q is not named after its number", u, s.URI)
			}
			if want := uint64(m.MediaSequence) + uint64(i); msn != want {
				t.Fatalf("%s: segment %d is MSN %d, want %d (a duplicated or missing media sequence number)\n%s", u, i, msn, want, body)
			}
			if s.DateTime != nil {
				if !clock.IsZero() && s.DateTime.After(clock) {
					r.holes += s.DateTime.Sub(clock)
				}
				clock = *s.DateTime
			}
			if r.first.IsZero() {
				r.first = clock
			}
			r.msns = append(r.msns, msn)
			r.media += s.Duration
			clock = clock.Add(s.Duration)
		}
		r.end = clock
		out = append(out, r)
	}
	return out
}

// videoJump reads every video packet's decode timestamp of a VOD playlist
// with ffprobe and returns the largest step between consecutive ones, and
// where.
func videoJump(t *testing.T, url string) (time.Duration, float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-allowed_extensions", "ALL", "-select_streams", "v",
		"-show_entries", "packet=dts_time", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe packets of %s: %v", url, err)
	}
	var jump time.Duration
	var at, prev float64
	first := true
	for _, l := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(l, ","), 64)
		if err != nil {
			continue
		}
		if !first {
			if d := time.Duration((v - prev) * float64(time.Second)); d > jump || d < 0 {
				jump, at = max(jump, d, -d), v
			}
		}
		prev, first = v, false
	}
	return jump, at
}

// ffprobeVOD reads a rendition's VOD playlist and every segment over HTTP
// with the real ffprobe: any error it prints fails the test.
func ffprobeVOD(t *testing.T, url string) float64 {
	t.Helper()
	testkit.RequireTools(t, "ffprobe")
	cmd := exec.Command("ffprobe", "-v", "error", "-allowed_extensions", "ALL",
		"-show_entries", "format=duration", "-of", "default=nw=1:nk=1", url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, stderr.String())
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", out, err)
	}
	return d
}
