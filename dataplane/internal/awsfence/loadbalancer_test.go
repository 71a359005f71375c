package awsfence

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// elbStandIn answers the ELBv2 Query API's DeregisterTargets as AWS does
// (form post, XML answer), with the error codes queued in fail first.
type elbStandIn struct {
	mu    sync.Mutex
	fail  []string // error codes of the next calls
	calls []map[string]string
}

func (s *elbStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	call := map[string]string{}
	for k := range r.PostForm {
		call[k] = r.PostForm.Get(k)
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	code := ""
	if len(s.fail) > 0 {
		code, s.fail = s.fail[0], s.fail[1:]
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if code != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s from the stand-in</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code, code)
		return
	}
	fmt.Fprint(w, `<DeregisterTargetsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DeregisterTargetsResult/><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DeregisterTargetsResponse>`)
}

// TestLoadBalancerSpeaksELBv2: the real SDK client, pointed at the API
// override, sends DeregisterTargets as the ELBv2 Query API has it, reports
// an API error, and takes "not a target" as done.
func TestLoadBalancerSpeaksELBv2(t *testing.T) {
	const tg = "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/srt-a/0123456789abcdef"
	cases := []struct {
		name    string
		fail    string
		wantErr string
	}{
		{"deregistered", "", ""},
		{"throttled", "Throttling", "Throttling"},
		{"not a target", "InvalidTarget", ""},
		{"no such group", "TargetGroupNotFound", "TargetGroupNotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &elbStandIn{}
			if c.fail != "" {
				s.fail = []string{c.fail}
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			lb, err := NewLoadBalancer(ctx, "local", srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = lb.DeregisterTargets(ctx, tg, "i-0abc")
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one with %q", err, c.wantErr)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.calls) != 1 {
				t.Fatalf("%d calls, want 1 (the fencer retries, not the SDK)", len(s.calls))
			}
			want := map[string]string{"Action": "DeregisterTargets", "Version": "2015-12-01", "TargetGroupArn": tg, "Targets.member.1.Id": "i-0abc"}
			for k, v := range want {
				if s.calls[0][k] != v {
					t.Errorf("form %s = %q, want %q (all: %v)", k, s.calls[0][k], v, s.calls[0])
				}
			}
		})
	}
}
