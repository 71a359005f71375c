package srt

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseStreamID(t *testing.T) {
	tests := []struct {
		in      string
		want    StreamID
		wantErr error
	}{
		{in: "#!::r=cam1,m=publish", want: StreamID{Resource: "cam1", Mode: ModePublish, Type: "stream"}},
		{in: "#!::m=publish,r=cam1,u=alice,s=abc123,t=stream,h=example.com", want: StreamID{Resource: "cam1", Mode: ModePublish, User: "alice", Session: "abc123", Type: "stream"}},
		{in: "#!::r=cam1", want: StreamID{Resource: "cam1", Mode: ModePublish, Type: "stream"}},
		{in: "#!::r=cam1,m=request", want: StreamID{Resource: "cam1", Mode: ModeRequest, Type: "stream"}},
		{in: "#!::r=cam1,x-app=1", want: StreamID{Resource: "cam1", Mode: ModePublish, Type: "stream"}},
		{in: "cam1", want: StreamID{Resource: "cam1", Mode: ModePublish, Type: "stream"}},
		{in: "publish:cam2", want: StreamID{Resource: "cam2", Mode: ModePublish, Type: "stream"}},
		{in: "live/cam2", want: StreamID{Resource: "cam2", Mode: ModePublish, Type: "stream"}},
		{in: "", wantErr: ErrEmptyStreamID},
		{in: "#!::", wantErr: ErrBadStreamID},
		{in: "#!::m=publish", wantErr: ErrBadStreamID},
		{in: "#!::r=cam1,m=sing", wantErr: ErrBadStreamID},
		{in: "#!::r=cam1,r=cam2", wantErr: ErrBadStreamID},
		{in: "#!::r", wantErr: ErrBadStreamID},
		{in: "cam 1", wantErr: ErrBadStreamID},
		{in: "a=b", wantErr: ErrBadStreamID},
		{in: "\x00\x01", wantErr: ErrBadStreamID},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseStreamID(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseStreamID(f *testing.F) {
	for _, s := range []string{"#!::r=cam1,m=publish", "cam1", "#!::u=a,r=b,s=c,m=request", "publish:x", "#!::=,", "#!::r=a,,m=publish"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseStreamID(s)
		if err != nil {
			if id != (StreamID{}) {
				t.Fatalf("error with a non-zero result: %+v", id)
			}
			return
		}
		if id.Resource == "" {
			t.Fatalf("%q parsed without a resource", s)
		}
		switch id.Mode {
		case ModePublish, ModeRequest, ModeBidirectional:
		default:
			t.Fatalf("%q parsed to mode %q", s, id.Mode)
		}
		if !strings.HasPrefix(s, accessControlPrefix) && utf8.ValidString(s) && !strings.Contains(s, id.Resource) {
			t.Fatalf("bare %q gave resource %q", s, id.Resource)
		}
	})
}
