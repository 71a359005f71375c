package loadbalancer

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/zonecast/zonecast/policies/failover"
)

// shipped is the health check every target group ships with.
var shipped = failover.DefaultTimings.NLBHealthCheck()

// fakeNode is a target: a UDP echo that prefixes its answers with its id,
// and an HTTPS /readyz whose status can be switched.
type fakeNode struct {
	inst   Instance
	conn   *net.UDPConn
	status atomic.Int32
	got    atomic.Int64 // packets received
}

func newFakeNode(t *testing.T, id string) *fakeNode {
	t.Helper()
	n := &fakeNode{}
	n.status.Store(http.StatusOK)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != shipped.Path {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(n.status.Load()))
	}))
	t.Cleanup(srv.Close)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n.conn = conn
	n.inst = Instance{ID: id, Traffic: conn.LocalAddr().String(), Health: srv.URL + shipped.Path}
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			n.got.Add(1)
			_, _ = conn.WriteToUDP(append([]byte(id+":"), buf[:k]...), from)
		}
	}()
	return n
}

// client is a broadcaster's socket: one 5-tuple.
type client struct {
	t    *testing.T
	conn *net.UDPConn
}

func newClient(t *testing.T, to string) *client {
	t.Helper()
	ua, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn}
}

// ask sends a packet and returns which target answered ("" if none did
// within a second: the packet went nowhere or to a dead target).
func (c *client) ask() string {
	c.t.Helper()
	if _, err := c.conn.Write([]byte("ping")); err != nil {
		c.t.Fatal(err)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 2048)
	k, err := c.conn.Read(buf)
	if err != nil {
		return ""
	}
	id, rest, _ := strings.Cut(string(buf[:k]), ":")
	if rest != "ping" {
		c.t.Fatalf("reply %q does not carry the packet back", buf[:k])
	}
	return id
}

// zone is one NLB stand-in with its ELB API and fake nodes.
type zone struct {
	api   *ELB
	group *TargetGroup
	lb    *Balancer
	url   string
	nodes map[string]*fakeNode
}

func newZone(t *testing.T, arn string, ids ...string) *zone {
	t.Helper()
	z := &zone{api: NewELB(), group: NewTargetGroup(arn+"/tg/srt", shipped), nodes: map[string]*fakeNode{}}
	t.Cleanup(z.group.Close)
	z.api.AddGroup(z.group)
	for _, id := range ids {
		n := newFakeNode(t, id)
		z.nodes[id] = n
		z.api.AddInstance(n.inst)
	}
	lb, err := ListenBalancer(arn, "127.0.0.1:0", z.group)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lb.Close)
	z.lb = lb
	srv := httptest.NewServer(z.api)
	t.Cleanup(srv.Close)
	z.url = srv.URL
	return z
}

func elbClient(url string) *elb.Client {
	return elb.New(elb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTANDIN", "secret", "")})
}

// registerHealthy registers the zone's nodes through the API and waits
// until the shipped health check finds them healthy.
func (z *zone) registerHealthy(t *testing.T, c *elb.Client) {
	t.Helper()
	z.register(t, c)
	z.waitHealthy(t)
}

// register registers the zone's nodes through the API.
func (z *zone) register(t *testing.T, c *elb.Client) {
	t.Helper()
	var targets []elbtypes.TargetDescription
	for id := range z.nodes {
		targets = append(targets, elbtypes.TargetDescription{Id: aws.String(id), Port: aws.Int32(9000)})
	}
	if _, err := c.RegisterTargets(t.Context(), &elb.RegisterTargetsInput{TargetGroupArn: aws.String(z.group.ARN), Targets: targets}); err != nil {
		t.Fatal(err)
	}
}

// waitHealthy waits until the shipped health check finds the zone's nodes
// healthy.
func (z *zone) waitHealthy(t *testing.T) {
	t.Helper()
	for id := range z.nodes {
		if err := z.group.WaitState(id, StateHealthy, healthyWithin); err != nil {
			t.Fatal(err)
		}
	}
}

// healthyWithin is when a registered target is healthy at the latest: a
// check at registration and HealthyThreshold-1 intervals later, plus
// slack for a loaded machine.
var healthyWithin = time.Duration(shipped.HealthyThreshold)*time.Duration(shipped.IntervalSeconds)*time.Second + 5*time.Second

// unhealthyWithin: UnhealthyThreshold checks from a failing target.
var unhealthyWithin = time.Duration(shipped.UnhealthyThreshold+1)*time.Duration(shipped.IntervalSeconds)*time.Second + 5*time.Second

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestShippedHealthCheck guards what the stand-in is tested with: the
// target group's check as it ships.
func TestShippedHealthCheck(t *testing.T) {
	if shipped.IntervalSeconds != 5 || shipped.HealthyThreshold != 2 || shipped.UnhealthyThreshold != 2 || shipped.Path != "/readyz" || shipped.Protocol != "HTTPS" {
		t.Fatalf("the NLB health check changed (%+v): review the stand-in's tests and docs/loadbalancer.md", shipped)
	}
}

// TestELBAPI drives the ELB stand-in with aws-sdk-go-v2's client.
func TestELBAPI(t *testing.T) {
	t.Parallel()
	z := newZone(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zc-a/1", "i-0a1", "i-0a2")
	c := elbClient(z.url)
	ctx := t.Context()
	health := func(ids ...string) map[string]string {
		t.Helper()
		in := &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(z.group.ARN)}
		for _, id := range ids {
			in.Targets = append(in.Targets, elbtypes.TargetDescription{Id: aws.String(id)})
		}
		out, err := c.DescribeTargetHealth(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, d := range out.TargetHealthDescriptions {
			m[aws.ToString(d.Target.Id)] = string(d.TargetHealth.State)
		}
		return m
	}
	if got := health(); len(got) != 0 {
		t.Fatalf("empty group reports %v", got)
	}
	z.registerHealthy(t, c)
	if got := health(); got["i-0a1"] != "healthy" || got["i-0a2"] != "healthy" {
		t.Fatalf("after registration: %v", got)
	}
	for range 2 { // idempotent
		if _, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(z.group.ARN),
			Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0a1")}}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := health("i-0a1", "i-0a2"); got["i-0a1"] != "unused" || got["i-0a2"] != "healthy" {
		t.Fatalf("after deregistration: %v", got)
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"unknown group", func() error {
			_, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String("arn:nope"),
				Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0a1")}}})
			return err
		}, "TargetGroupNotFound"},
		{"unknown instance", func() error {
			_, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(z.group.ARN),
				Targets: []elbtypes.TargetDescription{{Id: aws.String("i-nope")}}})
			return err
		}, "InvalidTarget"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.call()); got != tc.code {
			t.Errorf("%s: error code %q, want %q", tc.name, got, tc.code)
		}
	}
}

// TestFlows: flows are sticky, and move as NLB moves them.
func TestFlows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// act breaks the target the flow goes to (dead) and returns how
		// long the flow may take to move.
		act func(t *testing.T, z *zone, c *elb.Client, dead string) time.Duration
		// moves: the flow's next packets reach the other target; else
		// they still reach the dead one (fail-open).
		moves bool
	}{
		{"deregistered", func(t *testing.T, z *zone, c *elb.Client, dead string) time.Duration {
			if _, err := c.DeregisterTargets(t.Context(), &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(z.group.ARN),
				Targets: []elbtypes.TargetDescription{{Id: aws.String(dead)}}}); err != nil {
				t.Fatal(err)
			}
			return 0 // at once: connection termination, no delay
		}, true},
		{"unhealthy", func(t *testing.T, z *zone, c *elb.Client, dead string) time.Duration {
			z.nodes[dead].status.Store(http.StatusServiceUnavailable)
			if err := z.group.WaitState(dead, StateUnhealthy, unhealthyWithin); err != nil {
				t.Fatal(err)
			}
			return 0
		}, true},
		{"all unhealthy: fail open", func(t *testing.T, z *zone, c *elb.Client, dead string) time.Duration {
			for _, n := range z.nodes {
				n.status.Store(http.StatusServiceUnavailable)
			}
			for id := range z.nodes {
				if err := z.group.WaitState(id, StateUnhealthy, unhealthyWithin); err != nil {
					t.Fatal(err)
				}
			}
			return 0
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z := newZone(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zc-a/"+strings.ReplaceAll(tc.name, " ", ""), "i-0a1", "i-0a2")
			c := elbClient(z.url)
			z.registerHealthy(t, c)
			cl := newClient(t, z.lb.Addr())
			first := cl.ask()
			if first == "" {
				t.Fatal("no answer through the balancer")
			}
			for range 5 {
				if got := cl.ask(); got != first {
					t.Fatalf("flow moved from %s to %s with both targets healthy", first, got)
				}
			}
			tc.act(t, z, c, first)
			got := cl.ask()
			if tc.moves && (got == first || got == "") {
				t.Fatalf("the flow's next packet reached %q, want the other target than %s", got, first)
			}
			if !tc.moves && got != first {
				t.Fatalf("the flow's next packet reached %q, want %s still (fail-open)", got, first)
			}
			if z.lb.FlowsTo(got) != 1 {
				t.Fatalf("%d flows to %s, want 1", z.lb.FlowsTo(got), got)
			}
		})
	}
}

func TestNoTargetDrops(t *testing.T) {
	t.Parallel()
	z := newZone(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zc-empty/1")
	if got := newClient(t, z.lb.Addr()).ask(); got != "" {
		t.Fatalf("a balancer with no targets answered as %q", got)
	}
}

// TestHashSpreads: many flows spread over both healthy targets, each
// sticking to its own.
func TestHashSpreads(t *testing.T) {
	t.Parallel()
	z := newZone(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zc-spread/1", "i-0a1", "i-0a2")
	z.registerHealthy(t, elbClient(z.url))
	seen := map[string]int{}
	for range 16 {
		c := newClient(t, z.lb.Addr())
		id := c.ask()
		if again := c.ask(); again != id {
			t.Fatalf("flow went to %s then %s", id, again)
		}
		seen[id]++
	}
	if seen["i-0a1"] == 0 || seen["i-0a2"] == 0 {
		t.Fatalf("16 flows went to %v, want both targets", seen)
	}
}
