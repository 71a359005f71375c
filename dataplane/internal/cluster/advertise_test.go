package cluster

import (
	"strings"
	"testing"
)

func TestAdvertiseAddr(t *testing.T) {
	cases := []struct {
		name      string
		bound     string
		advertise string
		toward    []string
		want      string
		wantErr   string
	}{
		{"explicit advertise wins", "[::]:9100", "10.0.1.7:9100", nil, "10.0.1.7:9100", ""},
		{"specific listener", "127.0.0.1:9100", "", nil, "127.0.0.1:9100", ""},
		{"named host", "node-a1.internal:9100", "", nil, "node-a1.internal:9100", ""},
		{"every interface, IPv6 form", "[::]:9100", "", []string{"127.0.0.1:26379"}, "127.0.0.1:9100", ""},
		{"every interface, IPv4 form", "0.0.0.0:9123", "", []string{"127.0.0.1:6379"}, "127.0.0.1:9123", ""},
		{"first unusable target skipped", "[::]:9100", "", []string{"not an address", "127.0.0.1:26379"}, "127.0.0.1:9100", ""},
		{"no target", "[::]:9100", "", nil, "", "set cluster.quic.advertise"},
		{"bad listener", "nonsense", "", nil, "", "relay listener address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AdvertiseAddr(tc.bound, tc.advertise, tc.toward)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
