package awsfence

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// gaStandIn answers Global Accelerator's JSON API for one endpoint group.
type gaStandIn struct {
	mu        sync.Mutex
	group     string
	endpoints []map[string]any // EndpointId, Weight, ClientIPPreservationEnabled
	updates   int
}

func (s *gaStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["EndpointGroupArn"] != s.group {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "EndpointGroupNotFoundException", "message": "no such group"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Header.Get("X-Amz-Target") {
	case "GlobalAccelerator_V20180706.DescribeEndpointGroup":
	case "GlobalAccelerator_V20180706.UpdateEndpointGroup":
		s.updates++
		s.endpoints = nil
		for _, c := range in["EndpointConfigurations"].([]any) {
			s.endpoints = append(s.endpoints, c.(map[string]any))
		}
	default:
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"EndpointGroup": map[string]any{
		"EndpointGroupArn": s.group, "EndpointDescriptions": s.endpoints}})
}

// TestAcceleratorKeepsOtherEndpoints: the real SDK client reads the
// group, changes one endpoint's weight and writes every other endpoint
// back as it was.
func TestAcceleratorKeepsOtherEndpoints(t *testing.T) {
	const group = "arn:aws:globalaccelerator::000000000000:accelerator/a/listener/l/endpoint-group/g"
	const a, b = "arn:aws:elasticloadbalancing:local:0:loadbalancer/net/a/1", "arn:aws:elasticloadbalancing:local:0:loadbalancer/net/b/2"
	s := &gaStandIn{group: group, endpoints: []map[string]any{
		{"EndpointId": a, "Weight": 128.0, "ClientIPPreservationEnabled": true},
		{"EndpointId": b, "Weight": 100.0, "ClientIPPreservationEnabled": false},
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acc, err := NewAccelerator(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		weight, wantPrevious, wantUpdates int
		wantA, wantB                      float64
	}{
		{0, 128, 1, 0, 100},
		{0, 0, 1, 0, 100}, // already 0: no write
		{128, 0, 2, 128, 100},
	}
	for i, st := range steps {
		prev, err := acc.SetEndpointWeight(ctx, group, a, st.weight)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		s.mu.Lock()
		got := s.endpoints
		updates := s.updates
		s.mu.Unlock()
		if prev != st.wantPrevious || updates != st.wantUpdates || len(got) != 2 ||
			got[0]["Weight"] != st.wantA || got[1]["Weight"] != st.wantB ||
			got[0]["ClientIPPreservationEnabled"] != true || got[1]["ClientIPPreservationEnabled"] != false {
			t.Fatalf("step %d: previous %d, %d updates, endpoints %v", i, prev, updates, got)
		}
	}
	if _, err := acc.SetEndpointWeight(ctx, group, "arn:unknown", 0); err == nil {
		t.Fatal("an endpoint not in the group was weighted")
	}
	if _, err := acc.SetEndpointWeight(ctx, group+"x", a, 0); err == nil {
		t.Fatal("no error from an unknown group")
	}
}
