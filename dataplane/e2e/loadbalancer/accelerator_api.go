package loadbalancer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The Global Accelerator API's JSON 1.1 target prefix.
const gaTargetPrefix = "GlobalAccelerator_V20180706."

type gaEndpointDescription struct {
	EndpointID                  string `json:"EndpointId"`
	Weight                      int32  `json:"Weight"`
	HealthState                 string `json:"HealthState"`
	HealthReason                string `json:"HealthReason,omitempty"`
	ClientIPPreservationEnabled bool   `json:"ClientIPPreservationEnabled"`
}

type gaEndpointGroup struct {
	EndpointGroupArn           string                  `json:"EndpointGroupArn"`
	EndpointGroupRegion        string                  `json:"EndpointGroupRegion"`
	EndpointDescriptions       []gaEndpointDescription `json:"EndpointDescriptions"`
	TrafficDialPercentage      float32                 `json:"TrafficDialPercentage"`
	HealthCheckPort            int                     `json:"HealthCheckPort"`
	HealthCheckProtocol        string                  `json:"HealthCheckProtocol"`
	HealthCheckPath            string                  `json:"HealthCheckPath"`
	HealthCheckIntervalSeconds int                     `json:"HealthCheckIntervalSeconds"`
	ThresholdCount             int                     `json:"ThresholdCount"`
}

type gaEndpointConfiguration struct {
	EndpointID                  string `json:"EndpointId"`
	Weight                      *int32 `json:"Weight"`
	ClientIPPreservationEnabled *bool  `json:"ClientIPPreservationEnabled"`
}

// gaError is a JSON 1.1 error: its __type and message.
type gaError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (a *Accelerator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), gaTargetPrefix)
	if !ok || r.Method != http.MethodPost {
		a.fail(w, "InvalidArgumentException", fmt.Sprintf("unknown target %q", r.Header.Get("X-Amz-Target")))
		return
	}
	var req struct {
		EndpointGroupArn       string                     `json:"EndpointGroupArn"`
		EndpointConfigurations *[]gaEndpointConfiguration `json:"EndpointConfigurations"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		a.fail(w, "InvalidArgumentException", err.Error())
		return
	}
	if req.EndpointGroupArn != a.GroupARN {
		a.fail(w, "EndpointGroupNotFoundException", fmt.Sprintf("endpoint group %q not found", req.EndpointGroupArn))
		return
	}
	switch op {
	case "DescribeEndpointGroup":
	case "UpdateEndpointGroup":
		if req.EndpointConfigurations != nil {
			if err := a.update(*req.EndpointConfigurations); err != "" {
				a.fail(w, "InvalidArgumentException", err)
				return
			}
		}
	default:
		a.fail(w, "InvalidArgumentException", fmt.Sprintf("operation %q is not served by the stand-in", op))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"EndpointGroup": a.describe()})
}

// update applies UpdateEndpointGroup's configurations. As AWS does, the
// list replaces the group's endpoints: one left out is removed, so callers
// read, modify and write the whole list. The stand-in cannot add an
// endpoint it has no balancer for.
func (a *Accelerator) update(cfgs []gaEndpointConfiguration) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var kept []*endpoint
	for _, c := range cfgs {
		var e *endpoint
		for _, x := range a.endpoints {
			if x.Balancer.ARN == c.EndpointID {
				e = x
			}
		}
		if e == nil {
			return fmt.Sprintf("endpoint %q unknown to the stand-in", c.EndpointID)
		}
		w := int32(128) // AWS's default weight
		if c.Weight != nil {
			w = *c.Weight
		}
		if w < 0 || w > 255 {
			return fmt.Sprintf("weight %d outside 0–255", w)
		}
		cp := *e
		cp.Weight = w
		if c.ClientIPPreservationEnabled != nil {
			cp.clientIP = *c.ClientIPPreservationEnabled
		}
		kept = append(kept, &cp)
	}
	a.endpoints = kept
	return ""
}

func (a *Accelerator) describe() gaEndpointGroup {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := gaEndpointGroup{
		EndpointGroupArn: a.GroupARN, EndpointGroupRegion: a.Region, TrafficDialPercentage: 100,
		HealthCheckPort: a.check.Port, HealthCheckProtocol: a.check.Protocol, HealthCheckPath: a.check.Path,
		HealthCheckIntervalSeconds: a.check.IntervalSeconds, ThresholdCount: a.check.UnhealthyThreshold,
		EndpointDescriptions: []gaEndpointDescription{},
	}
	for _, e := range a.endpoints {
		d := gaEndpointDescription{EndpointID: e.Balancer.ARN, Weight: e.Weight, HealthState: "HEALTHY", ClientIPPreservationEnabled: e.clientIP}
		if !e.Balancer.Healthy() {
			d.HealthState, d.HealthReason = "UNHEALTHY", "no healthy target in the load balancer"
		}
		g.EndpointDescriptions = append(g.EndpointDescriptions, d)
	}
	return g
}

func (a *Accelerator) fail(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(gaError{Type: typ, Message: msg})
}
