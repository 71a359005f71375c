package transcode

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

func TestOutputClockProducing(t *testing.T) {
	const window = time.Second
	now := time.Unix(1000, 0)
	ago := func(d time.Duration) int64 { return now.Add(-d).UnixNano() }
	tests := []struct {
		name        string
		first, last []int64 // per rendition; 0: no output yet
		want        bool
	}{
		{"no renditions", nil, nil, false},
		{"every rendition for long, recently", []int64{ago(5 * time.Second), ago(4 * time.Second)}, []int64{ago(10 * time.Millisecond), ago(300 * time.Millisecond)}, true},
		{"one rendition never produced", []int64{ago(5 * time.Second), 0}, []int64{ago(10 * time.Millisecond), 0}, false},
		{"one rendition quiet for over a window", []int64{ago(5 * time.Second), ago(5 * time.Second)}, []int64{ago(10 * time.Millisecond), ago(1500 * time.Millisecond)}, false},
		{"started less than a window ago", []int64{ago(500 * time.Millisecond)}, []int64{ago(10 * time.Millisecond)}, false},
		{"exactly one window old and fresh", []int64{ago(window)}, []int64{ago(window)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newOutputClock(len(tc.first))
			for i := range tc.first {
				c.first[i].Store(tc.first[i])
				c.last[i].Store(tc.last[i])
			}
			if got := c.producing(now, window); got != tc.want {
				t.Errorf("producing = %v, want %v", got, tc.want)
			}
		})
	}
}

// A real ffmpeg killed under a running ladder: the failure hook is told
// the cause before the renditions are cut (a leader hands its stream over
// before it publishes a truncated segment), Producing says the ladder runs
// before and not while it is down, and again after the restart.
func TestFailureHookBeforeTheCut(t *testing.T) {
	src := sourceTS(t, 640, 360, 16, 4000.2)
	set := testSettings(t)
	set.Segment = time.Second
	set.RestartMin = 2 * time.Second // long enough to observe the ladder down
	set.Ladder = config.Ladder{{Height: 144, Bitrate: 150_000}}
	outs := newOutputs()
	tr := newTranscoder("cam", set, outs, NewCapacity(1, "test"), testLogger(t))
	defer tr.Close()

	type report struct {
		cause           string
		discontinuities int
		producing       bool
	}
	var mu sync.Mutex
	var reports []report
	tr.OnFailure(func(cause string) {
		_, d := outs.get("144p").snapshot()
		mu.Lock()
		reports = append(reports, report{cause, d, tr.Producing()})
		mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go publish(ctx, readFile(t, src), tr)

	waitFor(t, 20*time.Second, "a producing ladder", tr.Producing)
	pid := tr.Status().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the failure report", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(reports) > 0
	})
	if tr.Producing() {
		t.Error("Producing while ffmpeg is down (back-off)")
	}
	waitFor(t, 20*time.Second, "a producing ladder after the restart", tr.Producing)
	mu.Lock()
	defer mu.Unlock()
	want := report{cause: CauseExit, discontinuities: 0, producing: false}
	if len(reports) != 1 || reports[0] != want {
		t.Fatalf("failure reports %+v, want exactly %+v", reports, want)
	}
	if _, d := outs.get("144p").snapshot(); d != 1 {
		t.Errorf("%d discontinuities after the restart, want 1", d)
	}
}
