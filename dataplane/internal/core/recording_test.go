package core

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/recording"
)

// fakeSource is a packager holding complete segments first..last of each
// rendition (a window), with segment last+1 being cut.
type fakeSource struct {
	renditions  []string
	first, last uint64
}

func (s *fakeSource) RenditionNames() []string { return s.renditions }

func (s *fakeSource) Completed(rendition string, msn uint64) []packager.Completed {
	var out []packager.Completed
	for m := max(msn, s.first); m <= s.last; m++ {
		out = append(out, packager.Completed{Rendition: rendition, MSN: m, Duration: time.Second, Data: []byte{1}})
	}
	return out
}

func (s *fakeSource) State() packager.State {
	st := packager.State{Renditions: map[string]packager.RenditionState{}}
	for _, r := range s.renditions {
		st.Renditions[r] = packager.RenditionState{NextMSN: s.last + 1, Open: &packager.SegmentRef{MSN: s.last + 1}}
	}
	return st
}

// fakeSink records what the follower wrote, as "rendition/msn@token" and "end".
type fakeSink struct{ got []string }

func (k *fakeSink) Write(_ string, token uint64, seg recording.Segment) {
	k.got = append(k.got, fmt.Sprintf("%s/%d@%d", seg.Rendition, seg.MSN, token))
}
func (k *fakeSink) End(string) { k.got = append(k.got, "end") }

// One step of a follower's life.
type recStep struct {
	last    uint64 // the packager's newest complete segment now
	first   uint64 // its oldest held (window)
	leading bool
	token   uint64
	set     *bool // switch recording on/off before polling
	want    []string
}

func on() *bool  { b := true; return &b }
func off() *bool { b := false; return &b }

func TestStreamRecordingFollows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start bool
		steps []recStep
	}{
		{"a leader writes every rendition's segments once, in order", true, []recStep{
			{first: 0, last: 1, leading: true, token: 7, want: []string{"source/0@7", "source/1@7", "720p/0@7", "720p/1@7"}},
			{first: 0, last: 1, leading: true, token: 7, want: nil},
			{first: 0, last: 2, leading: true, token: 7, want: []string{"source/2@7", "720p/2@7"}},
		}},
		{"a standby writes nothing, then on taking over everything it holds, with its token", true, []recStep{
			{first: 0, last: 3, leading: false, want: nil},
			{first: 2, last: 7, leading: false, want: nil},
			{first: 4, last: 9, leading: true, token: 8, want: []string{
				"source/4@8", "source/5@8", "source/6@8", "source/7@8", "source/8@8", "source/9@8",
				"720p/4@8", "720p/5@8", "720p/6@8", "720p/7@8", "720p/8@8", "720p/9@8"}},
			{first: 5, last: 10, leading: true, token: 8, want: []string{"source/10@8", "720p/10@8"}},
		}},
		{"switched off: the segment being cut is the last, then the recording ends", true, []recStep{
			{first: 0, last: 1, leading: true, token: 1, want: []string{"source/0@1", "source/1@1", "720p/0@1", "720p/1@1"}},
			{first: 0, last: 1, leading: true, token: 1, set: off(), want: nil},
			{first: 0, last: 2, leading: true, token: 1, want: []string{"source/2@1", "720p/2@1", "end"}},
			{first: 0, last: 4, leading: true, token: 1, want: nil},
		}},
		{"switched on mid-event: recording starts with the next segment", false, []recStep{
			{first: 0, last: 3, leading: true, token: 1, want: nil},
			{first: 0, last: 3, leading: true, token: 1, set: on(), want: nil},
			{first: 0, last: 5, leading: true, token: 1, want: []string{"source/5@1", "720p/5@1"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{renditions: []string{"source", "720p"}}
			sink := &fakeSink{}
			var leading bool
			var token uint64
			r := &streamRecording{name: "cam1", rec: sink, src: src, on: tc.start, next: map[string]uint64{},
				stopWithin: time.Hour, token: func(string) (uint64, bool) { return token, leading }}
			for i, st := range tc.steps {
				src.first, src.last, leading, token = st.first, st.last, st.leading, st.token
				if st.set != nil {
					r.set(*st.set)
				}
				sink.got = nil
				r.poll(time.Now())
				if !slices.Equal(sink.got, st.want) {
					t.Fatalf("step %d: wrote %v, want %v", i, sink.got, st.want)
				}
			}
		})
	}
}

// A removed stream: recording stops at the boundary, the recording is
// closed, and the follower ends; switching it on again does nothing.
func TestStreamRecordingDetach(t *testing.T) {
	src := &fakeSource{renditions: []string{"source"}, first: 0, last: 1}
	sink := &fakeSink{}
	r := &streamRecording{name: "cam1", rec: sink, src: src, on: true, next: map[string]uint64{},
		stopWithin: time.Hour, token: func(string) (uint64, bool) { return 1, true }}
	if r.poll(time.Now()) {
		t.Fatal("a recording follower ended before its stream was removed")
	}
	r.detach()
	r.set(true)
	if r.poll(time.Now()) {
		t.Fatal("the follower ended before the segment being cut completed")
	}
	src.last = 3
	if !r.poll(time.Now()) {
		t.Fatal("the follower did not end once the recording was closed")
	}
	if want := []string{"source/0@1", "source/1@1", "source/2@1", "end"}; !slices.Equal(sink.got, want) {
		t.Fatalf("wrote %v, want %v", sink.got, want)
	}
}
