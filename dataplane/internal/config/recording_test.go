package config

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/rewind"
)

const recordingYAML = `recording: {bucket: zonecast-rec, region: local, endpoint: "http://127.0.0.1:7070", prefix: rec, spool_dir: /var/spool/zonecast, spool_max: 1GiB, idle_close: 45s}
`

func TestRecordingContract(t *testing.T) {
	file := writeFile(t, strings.Replace(contractYAML,
		`- {name: cam2, passphrase: "second-camera-pass"}`,
		`- {name: cam2, passphrase: "second-camera-pass", record: true}`, 1)+recordingYAML)
	cfg, err := Load([]string{"-config", file}, envOf(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := Recording{Bucket: "zonecast-rec", Region: "local", Endpoint: "http://127.0.0.1:7070", Prefix: "rec",
		SpoolDir: "/var/spool/zonecast", SpoolMax: 1 << 30, SpoolMaxAge: time.Hour, IdleClose: 45 * time.Second,
		Rewind: rewind.DefaultWindow}
	if cfg.Recording != want {
		t.Fatalf("recording %+v, want %+v", cfg.Recording, want)
	}
	if cfg.Streams[0].Record || !cfg.Streams[1].Record {
		t.Fatalf("record flags: %+v", cfg.Streams)
	}
}

func TestRecordingValidate(t *testing.T) {
	ok := Recording{Bucket: "b", Region: "eu-west-1", SpoolDir: "/spool", SpoolMax: 2 << 30, SpoolMaxAge: time.Hour, IdleClose: time.Minute}
	cases := []struct {
		name    string
		edit    func(*Recording)
		wantErr string
	}{
		{"contract section", func(*Recording) {}, ""},
		{"off", func(r *Recording) { *r = Recording{} }, ""},
		{"local endpoint", func(r *Recording) { r.Endpoint = "http://127.0.0.1:7070" }, ""},
		{"no region", func(r *Recording) { r.Region = "" }, "recording.region"},
		{"bad endpoint", func(r *Recording) { r.Endpoint = "127.0.0.1:7070" }, "recording.endpoint"},
		{"slashed prefix", func(r *Recording) { r.Prefix = "/rec" }, "recording.prefix"},
		{"no spool", func(r *Recording) { r.SpoolDir = "" }, "recording.spool_dir"},
		{"tiny spool", func(r *Recording) { r.SpoolMax = 1 << 20 }, "recording.spool_max"},
		{"no age", func(r *Recording) { r.SpoolMaxAge = 0 }, "recording.spool_max_age"},
		{"no idle close", func(r *Recording) { r.IdleClose = 0 }, "recording.idle_close"},
		{"rewind off", func(r *Recording) { r.Rewind = 0 }, ""},
		{"rewind too short", func(r *Recording) { r.Rewind = time.Second }, "recording.rewind"},
		{"rewind too long", func(r *Recording) { r.Rewind = 7 * 24 * time.Hour }, "recording.rewind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			err := r.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// The flag and variable form: name[+record][:passphrase], where a
// passphrase may hold colons and a name cannot hold "+".
func TestStreamsFlagForm(t *testing.T) {
	cases := []struct {
		in      string
		want    Streams
		text    string
		wantErr string
	}{
		{"cam1", Streams{{Name: "cam1"}}, "cam1", ""},
		{"cam1:correct-horse", Streams{{Name: "cam1", Passphrase: "correct-horse"}}, "cam1:***", ""},
		{"cam1+record", Streams{{Name: "cam1", Record: true}}, "cam1+record", ""},
		{"cam1+record:a:b:c:d:e:f, cam2", Streams{{Name: "cam1", Passphrase: "a:b:c:d:e:f", Record: true}, {Name: "cam2"}}, "cam1+record:***,cam2", ""},
		{"+record:x", nil, "", "empty name"},
		{"cam1+rec", nil, "", "unknown option"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			var s Streams
			err := s.UnmarshalText([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != len(tc.want) {
				t.Fatalf("%+v, want %+v", s, tc.want)
			}
			for i := range s {
				if s[i] != tc.want[i] {
					t.Fatalf("%+v, want %+v", s, tc.want)
				}
			}
			if b, _ := s.MarshalText(); string(b) != tc.text {
				t.Fatalf("text %q, want %q", b, tc.text)
			}
		})
	}
}

func TestRecordNeedsBucket(t *testing.T) {
	_, err := Load([]string{"-streams", "cam1+record"}, envOf(nil), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "record needs recording.bucket") {
		t.Fatalf("err %v", err)
	}
	cfg, err := Load([]string{"-streams", "cam1+record", "-recording.bucket", "b", "-recording.region", "local", "-recording.spool_dir", t.TempDir()},
		envOf(map[string]string{"ZONECAST_RECORDING_SPOOL_MAX": "64MiB"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Streams[0].Record || cfg.Recording.SpoolMax != 64<<20 {
		t.Fatalf("%+v %+v", cfg.Streams, cfg.Recording)
	}
}

func TestSize(t *testing.T) {
	cases := []struct {
		in      string
		want    Size
		wantErr bool
	}{
		{"2GiB", 2 << 30, false},
		{"512MB", 512e6, false},
		{"1048576", 1 << 20, false},
		{"1.5 KiB", 1536, false},
		{"lots", 0, true},
	}
	for _, tc := range cases {
		var s Size
		err := s.UnmarshalText([]byte(tc.in))
		if (err != nil) != tc.wantErr || s != tc.want {
			t.Errorf("%q: %d %v, want %d (error %v)", tc.in, s, err, tc.want, tc.wantErr)
		}
	}
}
