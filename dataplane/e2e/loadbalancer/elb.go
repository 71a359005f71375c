package loadbalancer

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

// elbVersion and elbNamespace are the ELBv2 Query API's.
const (
	elbVersion   = "2015-12-01"
	elbNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// ELB is the region's Elastic Load Balancing API endpoint as the nodes
// call it: AWS's Query protocol (form POST, Action and Version, XML
// answers and errors), so that aws-sdk-go-v2's elasticloadbalancingv2
// client talks to it unchanged. It serves RegisterTargets,
// DeregisterTargets and DescribeTargetHealth over the target groups added
// to it, resolving instance ids through the instances added to it.
// Requests are not authenticated (SigV4 signatures are ignored).
type ELB struct {
	mu        sync.Mutex
	groups    map[string]*TargetGroup
	instances map[string]Instance
}

// NewELB makes an API endpoint with no groups or instances.
func NewELB() *ELB {
	return &ELB{groups: map[string]*TargetGroup{}, instances: map[string]Instance{}}
}

// AddGroup makes a target group callable by its ARN.
func (e *ELB) AddGroup(g *TargetGroup) {
	e.mu.Lock()
	e.groups[g.ARN] = g
	e.mu.Unlock()
}

// AddInstance makes an instance id registrable.
func (e *ELB) AddInstance(inst Instance) {
	e.mu.Lock()
	e.instances[inst.ID] = inst
	e.mu.Unlock()
}

// elbError is an API error: its code, HTTP status and message.
type elbError struct {
	code, message string
	status        int
}

func (e *elbError) Error() string { return e.code + ": " + e.message }

// elbTarget is a TargetDescription of a request.
type elbTarget struct {
	ID   string
	Port int32
}

func (e *ELB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.fail(w, &elbError{"MalformedQueryString", err.Error(), http.StatusBadRequest})
		return
	}
	action := r.Form.Get("Action")
	if v := r.Form.Get("Version"); v != elbVersion {
		e.fail(w, &elbError{"InvalidAction", fmt.Sprintf("version %q is not %s", v, elbVersion), http.StatusBadRequest})
		return
	}
	g, targets, err := e.request(r)
	if err != nil {
		e.fail(w, err)
		return
	}
	var result any
	switch action {
	case "RegisterTargets":
		insts, err := e.resolve(targets)
		if err != nil {
			e.fail(w, err)
			return
		}
		for i, inst := range insts {
			g.Register(inst, targets[i].Port)
		}
		result = &struct {
			XMLName xml.Name `xml:"RegisterTargetsResult"`
		}{}
	case "DeregisterTargets":
		if _, err := e.resolve(targets); err != nil {
			e.fail(w, err)
			return
		}
		for _, t := range targets {
			g.Deregister(t.ID)
		}
		result = &struct {
			XMLName xml.Name `xml:"DeregisterTargetsResult"`
		}{}
	case "DescribeTargetHealth":
		result = describeTargetHealth(g, targets)
	default:
		e.fail(w, &elbError{"InvalidAction", fmt.Sprintf("action %q is not served by the stand-in", action), http.StatusBadRequest})
		return
	}
	e.reply(w, action, result)
}

// request is the action's target group and targets
// (Targets.member.N.Id / .Port).
func (e *ELB) request(r *http.Request) (*TargetGroup, []elbTarget, error) {
	arn := r.Form.Get("TargetGroupArn")
	if arn == "" {
		return nil, nil, &elbError{"ValidationError", "TargetGroupArn is required", http.StatusBadRequest}
	}
	e.mu.Lock()
	g := e.groups[arn]
	e.mu.Unlock()
	if g == nil {
		return nil, nil, &elbError{"TargetGroupNotFound", fmt.Sprintf("One or more target groups not found: %s", arn), http.StatusBadRequest}
	}
	var targets []elbTarget
	for i := 1; ; i++ {
		id := r.Form.Get(fmt.Sprintf("Targets.member.%d.Id", i))
		if id == "" {
			break
		}
		t := elbTarget{ID: id}
		if p := r.Form.Get(fmt.Sprintf("Targets.member.%d.Port", i)); p != "" {
			n, err := strconv.ParseInt(p, 10, 32)
			if err != nil || n < 1 || n > 65535 {
				return nil, nil, &elbError{"ValidationError", fmt.Sprintf("port %q out of range", p), http.StatusBadRequest}
			}
			t.Port = int32(n)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 && r.Form.Get("Action") != "DescribeTargetHealth" {
		return nil, nil, &elbError{"ValidationError", "Targets is required", http.StatusBadRequest}
	}
	return g, targets, nil
}

// resolve maps target ids to instances; an unknown id is InvalidTarget,
// as for an instance that does not exist.
func (e *ELB) resolve(targets []elbTarget) ([]Instance, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Instance, len(targets))
	for i, t := range targets {
		inst, ok := e.instances[t.ID]
		if !ok {
			return nil, &elbError{"InvalidTarget", fmt.Sprintf("The following targets are not valid instances: '%s'", t.ID), http.StatusBadRequest}
		}
		out[i] = inst
	}
	return out, nil
}

type xmlTargetHealthDescription struct {
	HealthCheckPort string `xml:"HealthCheckPort,omitempty"`
	Target          struct {
		ID   string `xml:"Id"`
		Port int32  `xml:"Port,omitempty"`
	} `xml:"Target"`
	TargetHealth struct {
		State       string `xml:"State"`
		Reason      string `xml:"Reason,omitempty"`
		Description string `xml:"Description,omitempty"`
	} `xml:"TargetHealth"`
}

type xmlDescribeTargetHealthResult struct {
	XMLName      xml.Name                     `xml:"DescribeTargetHealthResult"`
	Descriptions []xmlTargetHealthDescription `xml:"TargetHealthDescriptions>member"`
}

// describeTargetHealth reports the named targets (unregistered ones as
// unused), or every registered target.
func describeTargetHealth(g *TargetGroup, targets []elbTarget) *xmlDescribeTargetHealthResult {
	res := &xmlDescribeTargetHealthResult{}
	port := strconv.Itoa(g.Check.Port)
	add := func(h TargetHealth) {
		var d xmlTargetHealthDescription
		d.HealthCheckPort = port
		d.Target.ID, d.Target.Port = h.ID, h.Port
		d.TargetHealth.State, d.TargetHealth.Reason = h.State, h.Reason
		if h.State == StateUnused {
			d.TargetHealth.Reason, d.TargetHealth.Description = "Target.NotRegistered", "Target is not registered to the target group"
		}
		res.Descriptions = append(res.Descriptions, d)
	}
	all := g.Health()
	if len(targets) == 0 {
		for _, h := range all {
			add(h)
		}
		return res
	}
	for _, t := range targets {
		h := TargetHealth{ID: t.ID, Port: t.Port, State: StateUnused}
		for _, r := range all {
			if r.ID == t.ID {
				h = r
			}
		}
		add(h)
	}
	return res
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// reply writes <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>.
func (e *ELB) reply(w http.ResponseWriter, action string, result any) {
	out := struct {
		XMLName xml.Name
		Xmlns   string `xml:"xmlns,attr"`
		Result  any
		Meta    struct {
			RequestID string `xml:"RequestId"`
		} `xml:"ResponseMetadata"`
	}{XMLName: xml.Name{Local: action + "Response"}, Xmlns: elbNamespace, Result: result}
	out.Meta.RequestID = requestID()
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

// fail writes the Query protocol's ErrorResponse.
func (e *ELB) fail(w http.ResponseWriter, err error) {
	ee, ok := err.(*elbError)
	if !ok {
		ee = &elbError{"InternalFailure", err.Error(), http.StatusInternalServerError}
	}
	out := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}{Xmlns: elbNamespace, RequestID: requestID()}
	out.Error.Type, out.Error.Code, out.Error.Message = "Sender", ee.code, ee.message
	if ee.status >= 500 {
		out.Error.Type = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(ee.status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}
