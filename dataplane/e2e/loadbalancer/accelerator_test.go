package loadbalancer

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ga "github.com/aws/aws-sdk-go-v2/service/globalaccelerator"
	gatypes "github.com/aws/aws-sdk-go-v2/service/globalaccelerator/types"

	"github.com/zonecast/zonecast/policies/failover"
)

const groupARN = "arn:aws:globalaccelerator::123456789012:accelerator/zc/listener/srt/endpoint-group/eu-west-1"

// twoZones is a region: an accelerator over two zones' stand-ins of one
// node each, the zones' nodes healthy.
func twoZones(t *testing.T, affinity string, shift time.Duration) (a *Accelerator, za, zb *zone, c *ga.Client) {
	t.Helper()
	za = newZone(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zc-a/"+t.Name(), "i-0a1")
	zb = newZone(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zc-b/"+t.Name(), "i-0b1")
	za.register(t, elbClient(za.url))
	zb.register(t, elbClient(zb.url))
	za.waitHealthy(t)
	zb.waitHealthy(t)
	a, err := ListenAccelerator(groupARN, "eu-west-1", "127.0.0.1:0", affinity, shift, shipped,
		Endpoint{Balancer: za.lb, Weight: 128}, Endpoint{Balancer: zb.lb, Weight: 128})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	c = ga.New(ga.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSTANDIN", "secret", "")})
	return a, za, zb, c
}

// setWeight is what a fencing node does: read, modify, write the group.
func setWeight(t *testing.T, c *ga.Client, endpoint string, w int32) {
	t.Helper()
	out, err := c.DescribeEndpointGroup(t.Context(), &ga.DescribeEndpointGroupInput{EndpointGroupArn: aws.String(groupARN)})
	if err != nil {
		t.Fatal(err)
	}
	var cfgs []gatypes.EndpointConfiguration
	for _, d := range out.EndpointGroup.EndpointDescriptions {
		weight := d.Weight
		if aws.ToString(d.EndpointId) == endpoint {
			weight = aws.Int32(w)
		}
		cfgs = append(cfgs, gatypes.EndpointConfiguration{EndpointId: d.EndpointId, Weight: weight, ClientIPPreservationEnabled: d.ClientIPPreservationEnabled})
	}
	if _, err := c.UpdateEndpointGroup(t.Context(), &ga.UpdateEndpointGroupInput{EndpointGroupArn: aws.String(groupARN), EndpointConfigurations: cfgs}); err != nil {
		t.Fatal(err)
	}
}

// TestAcceleratorAPI drives the accelerator stand-in with aws-sdk-go-v2's
// client, and a zone's weight of 0 moves new flows to the other zone.
func TestAcceleratorAPI(t *testing.T) {
	t.Parallel()
	a, za, _, c := twoZones(t, "NONE", time.Hour)
	out, err := c.DescribeEndpointGroup(t.Context(), &ga.DescribeEndpointGroupInput{EndpointGroupArn: aws.String(groupARN)})
	if err != nil {
		t.Fatal(err)
	}
	g := out.EndpointGroup
	if aws.ToString(g.EndpointGroupRegion) != "eu-west-1" || len(g.EndpointDescriptions) != 2 || g.EndpointDescriptions[0].HealthState != gatypes.HealthStateHealthy ||
		aws.ToInt32(g.EndpointDescriptions[1].Weight) != 128 || aws.ToString(g.HealthCheckPath) != shipped.Path {
		t.Fatalf("endpoint group %+v", g)
	}
	if _, err := c.DescribeEndpointGroup(t.Context(), &ga.DescribeEndpointGroupInput{EndpointGroupArn: aws.String("arn:nope")}); apiCode(err) != "EndpointGroupNotFoundException" {
		t.Fatalf("unknown group: %v", err)
	}
	// Flows land on both zones; one of zone a is kept to see it stay.
	var onA *client
	for range 16 {
		cl := newClient(t, a.Addr())
		if cl.ask() == "i-0a1" {
			onA = cl
		}
	}
	if onA == nil {
		t.Fatal("no flow of 16 reached zone a at equal weights")
	}
	setWeight(t, c, za.lb.ARN, 0)
	if w := a.Weight(za.lb.ARN); w != 0 {
		t.Fatalf("zone a's weight %d after the update", w)
	}
	for range 8 {
		if got := newClient(t, a.Addr()).ask(); got != "i-0b1" {
			t.Fatalf("a new flow reached %q with zone a at weight 0", got)
		}
	}
	if got := onA.ask(); got != "i-0a1" {
		t.Fatalf("zone a's existing flow moved to %q with the weight change", got)
	}
	setWeight(t, c, za.lb.ARN, 128)
	if got := newClient(t, a.Addr()).ask(); got == "" {
		t.Fatal("no answer after the weight was put back")
	}
}

// TestAcceleratorShift: a zone whose NLB has no healthy target keeps new
// flows until the traffic shift has passed, then loses them and its flows.
func TestAcceleratorShift(t *testing.T) {
	t.Parallel()
	shift := 2 * time.Second // the shipped 30 s would only lengthen the test
	a, za, _, _ := twoZones(t, "NONE", shift)
	var onA *client
	for range 16 {
		cl := newClient(t, a.Addr())
		if cl.ask() == "i-0a1" {
			onA = cl
		}
	}
	if onA == nil {
		t.Fatal("no flow of 16 reached zone a")
	}
	za.nodes["i-0a1"].status.Store(http.StatusServiceUnavailable)
	if err := za.group.WaitState("i-0a1", StateUnhealthy, unhealthyWithin); err != nil {
		t.Fatal(err)
	}
	// Zone a's NLB fails open meanwhile: its flow still reaches i-0a1.
	deadline := time.Now().Add(shift + 5*time.Second)
	for onA.ask() == "i-0a1" {
		if time.Now().After(deadline) {
			t.Fatalf("zone a still gets its flow %v after its NLB lost its last healthy target", shift+5*time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := onA.ask(); got != "i-0b1" {
		t.Fatalf("zone a's flow went to %q after the shift, want zone b", got)
	}
}

// TestSourceIPAffinity: with the SRT listener's affinity every flow of a
// client (a reconnection has a new source port) goes to one zone, the one
// EndpointFor names, and other source addresses reach the other zone.
func TestSourceIPAffinity(t *testing.T) {
	t.Parallel()
	a, za, zb, _ := twoZones(t, failover.SRTClientAffinity, time.Hour)
	node := map[string]string{za.lb.ARN: "i-0a1", zb.lb.ARN: "i-0b1"}
	seen := map[string]bool{}
	for i := 1; i <= 8; i++ {
		src := netip.AddrFrom4([4]byte{127, 0, 0, byte(i)})
		want := node[a.EndpointFor(src)]
		for range 3 {
			conn, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(a.Addr())))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			if got := (&client{t: t, conn: conn}).ask(); got != want {
				t.Fatalf("a flow from %s reached %q, want %q", src, got, want)
			}
		}
		seen[want] = true
	}
	if len(seen) != 2 {
		t.Fatalf("8 source addresses all went to %v", seen)
	}
}
