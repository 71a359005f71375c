package core

import (
	"testing"

	"github.com/zonecast/zonecast/dataplane/internal/catalog"
)

// A stream's record names its ladder: its own rungs, the node's, or none.
func TestStreamLadder(t *testing.T) {
	tests := []struct {
		ladder     string
		wantRungs  []string
		transcodes bool
		wantErr    bool
	}{
		{"", nil, true, false},
		{catalog.LadderSource, nil, false, false},
		{"480p:1500k,360p:800k", []string{"480p", "360p"}, true, false},
		{"720p:3000k", []string{"720p"}, true, false},
		{"not a ladder", nil, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.ladder, func(t *testing.T) {
			rungs, transcodes, err := streamLadder(catalog.Stream{Name: "cam", Ladder: tc.ladder})
			if (err != nil) != tc.wantErr || transcodes != tc.transcodes {
				t.Fatalf("transcodes %v err %v, want %v err %v", transcodes, err, tc.transcodes, tc.wantErr)
			}
			var names []string
			for _, r := range rungs {
				names = append(names, r.Name())
			}
			if len(names) != len(tc.wantRungs) {
				t.Fatalf("rungs %v, want %v", names, tc.wantRungs)
			}
			for i := range names {
				if names[i] != tc.wantRungs[i] {
					t.Fatalf("rungs %v, want %v", names, tc.wantRungs)
				}
			}
		})
	}
}
