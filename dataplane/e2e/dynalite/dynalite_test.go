package dynalite

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStartStop: the server answers the DynamoDB API on its port, and its
// port is closed once stopped.
func TestStartStop(t *testing.T) {
	s := StartT(t)
	cases := []struct {
		name     string
		stop     bool
		wantDial bool
	}{
		{"running", false, true},
		{"stopped", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.stop {
				s.Stop()
			}
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.Endpoint(), "http://"), time.Second)
			if (err == nil) != tc.wantDial {
				t.Fatalf("dial: %v, want reachable=%v", err, tc.wantDial)
			}
			if err != nil {
				return
			}
			c.Close()
			req, _ := http.NewRequest("POST", s.Endpoint(), strings.NewReader("{}"))
			req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
			req.Header.Set("X-Amz-Date", "20200101T000000Z")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("ListTables: %s", resp.Status)
			}
		})
	}
}

// TestMissingSaysHow: without dynalite installed, the error says how to get it.
func TestMissingSaysHow(t *testing.T) {
	dir := t.TempDir()
	saved := repoRoot
	repoRoot = func() string { return dir }
	t.Cleanup(func() { repoRoot = saved })
	_, err := Start(Options{})
	if err == nil || !strings.Contains(err.Error(), "bash scripts/deps.sh") {
		t.Fatalf("err %v, want one naming bash scripts/deps.sh", err)
	}
}
