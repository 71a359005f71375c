package catalog

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := Stream{Name: "cam1", Passphrase: "correct-horse-battery", Latency: LatencyLow}
	long := strings.Repeat("x", 81)
	cases := []struct {
		name  string
		edit  func(*Stream)
		field string // "" for valid
		says  string
	}{
		{"minimal", func(*Stream) {}, "", ""},
		{"everything", func(s *Stream) {
			s.BackupPassphrase = "second-encoder-key"
			s.Ladder = "720p:3M,480p:1500k"
			s.Latency = LatencyStandard
			s.Record = true
			s.Labels = map[string]string{"match": "ARS-CHE", "league/round": "12"}
		}, "", ""},
		{"no passphrase", func(s *Stream) { s.Passphrase = "" }, "", ""},
		{"source ladder", func(s *Stream) { s.Ladder = LadderSource }, "", ""},
		{"empty name", func(s *Stream) { s.Name = "" }, "name", "1–64 of A-Z a-z 0-9 _ . -"},
		{"slash in name", func(s *Stream) { s.Name = "live/cam1" }, "name", "starting with a letter or digit"},
		{"comma in name", func(s *Stream) { s.Name = "r=a,m=publish" }, "name", "must be"},
		{"dot name", func(s *Stream) { s.Name = ".." }, "name", "must be"},
		{"long name", func(s *Stream) { s.Name = strings.Repeat("a", 65) }, "name", "must be"},
		{"short passphrase", func(s *Stream) { s.Passphrase = "short" }, "passphrase", "10–80 characters"},
		{"long passphrase", func(s *Stream) { s.Passphrase = long }, "passphrase", "got 81"},
		{"space in passphrase", func(s *Stream) { s.Passphrase = "correct horse battery" }, "passphrase", "printable ASCII"},
		{"short backup", func(s *Stream) { s.BackupPassphrase = "short" }, "backup_passphrase", "10–80"},
		{"same backup", func(s *Stream) { s.BackupPassphrase = s.Passphrase }, "backup_passphrase", "must differ"},
		{"backup alone", func(s *Stream) { s.Passphrase = ""; s.BackupPassphrase = "second-encoder-key" }, "backup_passphrase", "needs a passphrase"},
		{"bad ladder", func(s *Stream) { s.Ladder = "720p" }, "ladder", "HEIGHTp:BITRATE"},
		{"bad bitrate", func(s *Stream) { s.Ladder = "720p:fast" }, "ladder", "want e.g. 800k"},
		{"empty ladder list", func(s *Stream) { s.Ladder = "," }, "ladder", "no rung"},
		{"latency", func(s *Stream) { s.Latency = "ultra" }, "latency", `"low" (LL-HLS) or "standard"`},
		{"label key", func(s *Stream) { s.Labels = map[string]string{"bad key": "v"} }, "labels", "key \"bad key\""},
		{"label value", func(s *Stream) { s.Labels = map[string]string{"k": strings.Repeat("v", 257)} }, "labels", "at most 256"},
		{"too many labels", func(s *Stream) {
			s.Labels = map[string]string{}
			for i := range 33 {
				s.Labels[strings.Repeat("k", i+1)] = "v"
			}
		}, "labels", "33 labels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var inv Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err %v, want Invalid", err)
			}
			for _, fe := range inv {
				if fe.Field == tc.field && strings.Contains(fe.Problem, tc.says) {
					return
				}
			}
			t.Fatalf("err %v, want field %s saying %q", err, tc.field, tc.says)
		})
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		in, want Stream
	}{
		{Stream{Name: "a"}, Stream{Name: "a", Latency: LatencyLow}},
		{Stream{Name: "a", Latency: LatencyStandard, Ladder: "480p:1.5M, 720p:3M"}, Stream{Name: "a", Latency: LatencyStandard, Ladder: "720p:3000k,480p:1500k"}},
		{Stream{Name: "a", Ladder: LadderSource, Labels: map[string]string{}}, Stream{Name: "a", Ladder: LadderSource, Latency: LatencyLow}},
	}
	for _, tc := range cases {
		got := tc.in
		got.normalize()
		if got.Latency != tc.want.Latency || got.Ladder != tc.want.Ladder || got.Labels != nil {
			t.Errorf("normalize(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestNewPassphrase(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := NewPassphrase()
		if len(p) != PassphraseLength {
			t.Fatalf("%q: %d characters, want %d", p, len(p), PassphraseLength)
		}
		if problem := passphraseProblem(p); problem != "" {
			t.Fatalf("%q: %s", p, problem)
		}
		if strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("%q leaves the URL-safe alphabet", p)
		}
		if seen[p] {
			t.Fatalf("%q twice", p)
		}
		seen[p] = true
	}
}
