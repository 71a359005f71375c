package global

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

var testRegions = []string{"eu-west-1", "us-east-1", "ap-southeast-1"}

func testArgs() Args {
	return Args{Name: "zonecast", OriginDomain: "origin.example.com", SecondaryOriginDomain: "origin-b.example.com",
		Regions: testRegions, Partition: "aws", AccountID: "123456789012"}
}

func runGlobal(t *testing.T, args Args) (*mockaws.Mocks, error) {
	t.Helper()
	m := mockaws.New("zonecast", "global", "us-west-2")
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "global", args)
		return err
	})
	return m, err
}

func TestGlobalResources(t *testing.T) {
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		Type: 1,
		"aws:globalaccelerator/accelerator:Accelerator":          1,
		"aws:globalaccelerator/listener:Listener":                3,
		"aws:cloudfront/cachePolicy:CachePolicy":                 3,
		"aws:cloudfront/distribution:Distribution":               1,
		"aws:cloudfront/originAccessControl:OriginAccessControl": 1,
		"aws:dynamodb/table:Table":                               1,
		"aws:dynamodb/tableReplica:TableReplica":                 2,
		"aws:iam/policy:Policy":                                  1,
		"pulumi:providers:aws":                                   3,
	}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d resources, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resource types %v, want exactly %v", got, want)
	}
	// Every resource is a child of the component.
	comp, err := m.Get(Type, "global")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources() {
		if r.Type != Type && r.Parent != comp.URN {
			t.Errorf("%s %s: parent %q, want the component", r.Type, r.Name, r.Parent)
		}
	}
}

func TestAccelerator(t *testing.T) {
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	acc, err := m.Get("aws:globalaccelerator/accelerator:Accelerator", "accelerator")
	if err != nil {
		t.Fatal(err)
	}
	if got := mockaws.Str(acc.Inputs, "ipAddressType"); got != "IPV4" {
		t.Errorf("ipAddressType %q, want IPV4 (two static IPv4 addresses)", got)
	}
	if !mockaws.Bool(acc.Inputs, "enabled") {
		t.Error("accelerator not enabled")
	}
	tests := []struct {
		name     string
		port     ports.Port
		affinity string
	}{
		{"listener-srt", ports.SRT, "SOURCE_IP"},
		{"listener-https", ports.HTTPS, "NONE"},
		{"listener-http3", ports.HTTP3, "SOURCE_IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := m.Get("aws:globalaccelerator/listener:Listener", tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got := mockaws.Str(l.Inputs, "protocol"); got != strings.ToUpper(tt.port.Protocol) {
				t.Errorf("protocol %q, want %q", got, strings.ToUpper(tt.port.Protocol))
			}
			if got := mockaws.Str(l.Inputs, "clientAffinity"); got != tt.affinity {
				t.Errorf("client affinity %q, want %q", got, tt.affinity)
			}
			from, to := mockaws.Num(l.Inputs, "portRanges", 0, "fromPort"), mockaws.Num(l.Inputs, "portRanges", 0, "toPort")
			if int(from) != tt.port.Number || int(to) != tt.port.Number {
				t.Errorf("port range %v–%v, want %d", from, to, tt.port.Number)
			}
			if got := mockaws.Str(l.Inputs, "acceleratorArn"); got != mockaws.Str(acc.Outputs, "arn") {
				t.Errorf("listener on %q, want the accelerator %q", got, mockaws.Str(acc.Outputs, "arn"))
			}
		})
	}
}

func TestCDN(t *testing.T) {
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	dist, err := m.Get("aws:cloudfront/distribution:Distribution", "cdn")
	if err != nil {
		t.Fatal(err)
	}
	in := dist.Inputs
	members := mockaws.Path(in, "originGroups", 0, "members")
	if !members.IsArray() || len(members.ArrayValue()) != failover.DefaultRedundancy.CDNOrigins {
		t.Fatalf("origin group members %v, want %d", members, failover.DefaultRedundancy.CDNOrigins)
	}
	codes := mockaws.Path(in, "originGroups", 0, "failoverCriteria", "statusCodes")
	if !codes.IsArray() || len(codes.ArrayValue()) != len(FailoverStatusCodes) {
		t.Errorf("failover status codes %v, want %v", codes, FailoverStatusCodes)
	}
	if got := mockaws.Str(in, "origins", 0, "domainName"); got != "origin.example.com" {
		t.Errorf("primary origin %q, want the configured origin domain", got)
	}
	if got := mockaws.Str(in, "origins", 1, "domainName"); got != "origin-b.example.com" {
		t.Errorf("secondary origin %q, want the configured secondary domain", got)
	}
	if got := mockaws.Str(in, "origins", 0, "customOriginConfig", "originProtocolPolicy"); got != "https-only" {
		t.Errorf("origin protocol %q, want https-only", got)
	}
	group := mockaws.Str(in, "originGroups", 0, "originId")
	if got := mockaws.Str(in, "defaultCacheBehavior", "targetOriginId"); got != group {
		t.Errorf("default behaviour targets %q, want the origin group %q", got, group)
	}

	policies := map[string]mockaws.Resource{}
	for _, p := range m.OfType("aws:cloudfront/cachePolicy:CachePolicy") {
		policies[mockaws.Str(p.Outputs, "id")] = p
	}
	// Path pattern → the TTL bounds its cache policy must have.
	wantTTL := map[string]CacheTTLs{
		"*.m3u8": PlaylistTTLs(failover.DefaultTimings),
		"*.m4s":  SegmentTTLs(),
		"*.mp4":  SegmentTTLs(),
		"*.ts":   SegmentTTLs(),
	}
	behaviours := mockaws.Path(in, "orderedCacheBehaviors").ArrayValue()
	if len(behaviours) != len(wantTTL)+1 {
		t.Fatalf("%d ordered behaviours, want %d and /vod/*", len(behaviours), len(wantTTL))
	}
	if first := mockaws.Str(in, "orderedCacheBehaviors", 0, "pathPattern"); first != VODPathPattern {
		t.Errorf("first behaviour %q, want the recordings' %s first (before *.m3u8 takes their playlists)", first, VODPathPattern)
	}
	if second := mockaws.Str(in, "orderedCacheBehaviors", 1, "pathPattern"); second != "*.m3u8" {
		t.Errorf("second behaviour %q, want playlists before media", second)
	}
	for i := 1; i < len(behaviours); i++ {
		pattern := mockaws.Str(in, "orderedCacheBehaviors", i, "pathPattern")
		if got := mockaws.Str(in, "orderedCacheBehaviors", i, "targetOriginId"); got != group {
			t.Errorf("%s targets %q, want the origin group", pattern, got)
		}
		p, ok := policies[mockaws.Str(in, "orderedCacheBehaviors", i, "cachePolicyId")]
		if !ok {
			t.Fatalf("%s: cache policy not found", pattern)
		}
		want := wantTTL[pattern]
		got := CacheTTLs{int(mockaws.Num(p.Inputs, "minTtl")), int(mockaws.Num(p.Inputs, "defaultTtl")), int(mockaws.Num(p.Inputs, "maxTtl"))}
		if got != want {
			t.Errorf("%s: TTLs %+v, want %+v", pattern, got, want)
		}
		qs := mockaws.Strings(p.Inputs, "parametersInCacheKeyAndForwardedToOrigin", "queryStringsConfig", "queryStrings", "items")
		if pattern == "*.m3u8" && strings.Join(qs, ",") != strings.Join(LLHLSQueryStrings, ",") {
			t.Errorf("playlist cache key query strings %v, want the LL-HLS directives %v", qs, LLHLSQueryStrings)
		}
	}
	// Playlists are never cached longer than half a segment.
	if max := PlaylistTTLs(failover.DefaultTimings).Max; max*2 > int(failover.DefaultTimings.SegmentDuration.Seconds()) {
		t.Errorf("playlist max TTL %d s exceeds half a segment", max)
	}
}

func TestGlobalRefusesPolicyItCannotMeet(t *testing.T) {
	r := failover.DefaultRedundancy
	r.StaticIPv4 = 3
	args := testArgs()
	args.Redundancy = &r
	if _, err := runGlobal(t, args); err == nil || !strings.Contains(err.Error(), "static IPv4") {
		t.Fatalf("got %v, want an error about static IPv4 addresses", err)
	}
	if _, err := runGlobal(t, Args{}); err == nil {
		t.Fatal("no error without a name")
	}
}

// TestOriginsRequired: the CDN cannot default its origins. The
// accelerator's own name is AWS's (no certificate of the operator's covers
// it, so CloudFront's TLS check fails every request with a 502), and a
// secondary origin of the same name fails over to the same path.
func TestOriginsRequired(t *testing.T) {
	tests := []struct {
		name               string
		primary, secondary string
		want               string
	}{
		{"no origin", "", "origin-b.example.com", "zonecast:originDomain is required"},
		{"no secondary", "origin.example.com", "", "zonecast:secondaryOriginDomain is required"},
		{"same name twice", "origin.example.com", "origin.example.com", "must differ"},
		{"accelerator's name", "a1234567890abcdef.awsglobalaccelerator.com", "origin-b.example.com", "AWS name"},
		{"load balancer's name", "origin.example.com", "zone-b-nlb-0123.elb.eu-west-1.amazonaws.com", "AWS name"},
		{"not a host name", "https://origin.example.com", "origin-b.example.com", "not a DNS host name"},
		{"single label", "origin", "origin-b.example.com", "not a DNS host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := testArgs()
			args.OriginDomain, args.SecondaryOriginDomain = tt.primary, tt.secondary
			_, err := runGlobal(t, args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if err := ValidateOrigins("origin.zonecast.example", "origin-eu.zonecast.example"); err != nil {
		t.Errorf("valid names refused: %v", err)
	}
}

// Origin Shield is on for both origins, in the configured region (by
// default the primary region's), and a region CloudFront offers no shield
// in is refused before anything is created.
func TestOriginShield(t *testing.T) {
	tests := []struct {
		name, region, want, err string
	}{
		{"default: the primary region", "", DefaultOriginShieldRegion, ""},
		{"configured", "us-east-1", "us-east-1", ""},
		{"no shield there", "eu-north-1", "", "not a region CloudFront offers Origin Shield in"},
		{"not a region", "mars-1", "", "not a region CloudFront offers Origin Shield in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := testArgs()
			args.OriginShieldRegion = tt.region
			m, err := runGlobal(t, args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dist, err := m.Get("aws:cloudfront/distribution:Distribution", "cdn")
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 2; i++ {
				if !mockaws.Bool(dist.Inputs, "origins", i, "originShield", "enabled") {
					t.Errorf("origin %d: Origin Shield off", i)
				}
				if got := mockaws.Str(dist.Inputs, "origins", i, "originShield", "originShieldRegion"); got != tt.want {
					t.Errorf("origin %d: Origin Shield in %q, want %q", i, got, tt.want)
				}
			}
		})
	}
	if !slices.Contains(OriginShieldRegions, DefaultOriginShieldRegion) {
		t.Errorf("the default region %s offers no Origin Shield", DefaultOriginShieldRegion)
	}
}
