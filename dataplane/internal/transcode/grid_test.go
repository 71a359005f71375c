package transcode

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// A standby's ladder starts when its relay does, mid-GOP and seconds after
// the leader's: fed the same TS, it must force its keyframes, hence cut its
// segments, at the same timestamps as the leader's. Two real transcoders,
// one fed the whole source and one joining 40 % in (on a TS packet
// boundary, not at a keyframe), must cut the same segments wherever both
// have output.
func TestLateJoinerCutsTheSameGrid(t *testing.T) {
	src := readFile(t, sourceTS(t, 640, 360, 12, 5000.3))
	set := testSettings(t)
	set.Segment = time.Second
	set.Ladder = config.Ladder{{Height: 144, Bitrate: 150_000}}
	join := len(src) * 2 / 5 / 1316 * 1316 // a chunk boundary, hence a TS packet's
	leaderOut, joinerOut := newOutputs(), newOutputs()
	leader := newTranscoder("leader", set, leaderOut, NewCapacity(1, "test"), testLogger(t))
	defer leader.Close()
	joiner := newTranscoder("joiner", set, joinerOut, NewCapacity(1, "test"), testLogger(t))
	defer joiner.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); publish(ctx, src, leader) }()
	go func() {
		defer wg.Done()
		// The joiner's input is the same TS from the join on, at the same
		// moment of the stream: wait until the leader's feed reaches it.
		time.Sleep(time.Duration(float64(12*time.Second) * float64(join) / float64(len(src))))
		publish(ctx, src[join:], joiner)
	}()
	wg.Wait()
	time.Sleep(1500 * time.Millisecond) // the last frames out of both
	leader.Close()
	joiner.Close()

	_, lp := ffprobe(t, mustSnapshot(leaderOut, "144p"))
	_, jp := ffprobe(t, mustSnapshot(joinerOut, "144p"))
	lc, lruns := checkLadderFrames(t, "leader", lp, set.Segment)
	jc, jruns := checkLadderFrames(t, "joiner", jp, set.Segment)
	if lruns != 1 || jruns != 1 {
		t.Fatalf("runs: leader %d, joiner %d, want one each", lruns, jruns)
	}
	if len(jc) < 4 {
		t.Fatalf("the joiner cut only %d segments (%v)", len(jc), jc)
	}
	// The joiner's first cut is the start of its run (wherever its input
	// began); every later one must be the leader's, and the leader must
	// cut nowhere else while both produce.
	first, last := jc[1], jp[len(jp)-1].Pts
	var leaderInRange []int64
	for _, c := range lc {
		if c >= first && c <= last && c <= lp[len(lp)-1].Pts {
			leaderInRange = append(leaderInRange, c)
		}
	}
	var joinerInRange []int64
	for _, c := range jc[1:] {
		if c <= lp[len(lp)-1].Pts {
			joinerInRange = append(joinerInRange, c)
		}
	}
	if !slices.Equal(joinerInRange, leaderInRange) {
		t.Errorf("the late joiner cuts at %v, the leader at %v over the same span", joinerInRange, leaderInRange)
	}
	t.Logf("joiner started %.2f s into the leader's output; %d common cuts at %v", float64(jp[0].Pts-lp[0].Pts)/90000, len(joinerInRange), joinerInRange)
}
