package global

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

// fromPulumi reads the Distribution back out of what the program gave
// Pulumi for CloudFront (the distribution and its cache policies).
func fromPulumi(t *testing.T, m *mockaws.Mocks) Distribution {
	t.Helper()
	dist, err := m.Get("aws:cloudfront/distribution:Distribution", "cdn")
	if err != nil {
		t.Fatal(err)
	}
	in := dist.Inputs
	policies := map[string]CachePolicy{}
	for _, p := range m.OfType("aws:cloudfront/cachePolicy:CachePolicy") {
		policies[mockaws.Str(p.Outputs, "id")] = CachePolicy{
			Name:         strings.TrimPrefix(p.Name, "cache-"),
			TTLs:         CacheTTLs{int(mockaws.Num(p.Inputs, "minTtl")), int(mockaws.Num(p.Inputs, "defaultTtl")), int(mockaws.Num(p.Inputs, "maxTtl"))},
			QueryStrings: mockaws.Strings(p.Inputs, "parametersInCacheKeyAndForwardedToOrigin", "queryStringsConfig", "queryStrings", "items"),
		}
	}
	seconds := func(steps ...any) time.Duration { return time.Duration(mockaws.Num(in, steps...)) * time.Second }
	var d Distribution
	for i := range d.Origins {
		d.Origins[i] = Origin{
			ID:                 mockaws.Str(in, "origins", i, "originId"),
			ConnectionAttempts: int(mockaws.Num(in, "origins", i, "connectionAttempts")),
			ConnectionTimeout:  seconds("origins", i, "connectionTimeout"),
			ResponseTimeout:    seconds("origins", i, "customOriginConfig", "originReadTimeout"),
			KeepaliveTimeout:   seconds("origins", i, "customOriginConfig", "originKeepaliveTimeout"),
			HTTPSPort:          int(mockaws.Num(in, "origins", i, "customOriginConfig", "httpsPort")),
		}
		if mockaws.Bool(in, "origins", i, "originShield", "enabled") {
			d.Origins[i].ShieldRegion = mockaws.Str(in, "origins", i, "originShield", "originShieldRegion")
		}
		if got := mockaws.Str(in, "originGroups", 0, "members", i, "originId"); got != d.Origins[i].ID {
			t.Errorf("origin group member %d is %q, origin %d is %q", i, got, i, d.Origins[i].ID)
		}
	}
	d.GroupID = mockaws.Str(in, "originGroups", 0, "originId")
	for _, c := range mockaws.Path(in, "originGroups", 0, "failoverCriteria", "statusCodes").ArrayValue() {
		d.FailoverStatusCodes = append(d.FailoverStatusCodes, int(c.NumberValue()))
	}
	behavior := func(steps ...any) Behavior {
		at := func(k string) []any { return append(append([]any(nil), steps...), k) }
		if got := mockaws.Str(in, at("targetOriginId")...); got != d.GroupID {
			t.Errorf("behaviour %v targets %q, not the origin group", steps, got)
		}
		p, ok := policies[mockaws.Str(in, at("cachePolicyId")...)]
		if !ok {
			t.Fatalf("behaviour %v: cache policy not found", steps)
		}
		pattern := mockaws.Str(in, at("pathPattern")...)
		if pattern == "" {
			pattern = "*" // the default behaviour's
		}
		return Behavior{
			PathPattern:    pattern,
			Policy:         p,
			AllowedMethods: mockaws.Strings(in, at("allowedMethods")...),
			CachedMethods:  mockaws.Strings(in, at("cachedMethods")...),
			Compress:       mockaws.Bool(in, at("compress")...),
		}
	}
	for i := range mockaws.Path(in, "orderedCacheBehaviors").ArrayValue() {
		// /vod/* reads the recording buckets (S3), which the stand-in
		// leaves to the edges: they serve /vod from the same bucket.
		if mockaws.Str(in, "orderedCacheBehaviors", i, "pathPattern") == VODPathPattern {
			continue
		}
		d.Behaviors = append(d.Behaviors, behavior("orderedCacheBehaviors", i))
	}
	d.Default = behavior("defaultCacheBehavior")
	d.ErrorCaching = map[int]int{}
	for i := range mockaws.Path(in, "customErrorResponses").ArrayValue() {
		d.ErrorCaching[int(mockaws.Num(in, "customErrorResponses", i, "errorCode"))] = int(mockaws.Num(in, "customErrorResponses", i, "errorCachingMinTtl"))
	}
	d.SecretHeader = mockaws.Str(in, "origins", 0, "customHeaders", 0, "name")
	// The stand-in's own number, which CloudFront has no field for.
	d.NegativeTTL = failover.DefaultTimings.PartDuration
	return d
}

// The VCL the stand-in runs and the distribution CloudFront is given come
// from one Distribution: read back from the Pulumi program's resources, it
// is the one the VCL is rendered from, and renders the same VCL.
func TestVCLAgreesWithPulumi(t *testing.T) {
	const secret = "an-origin-secret-value"
	t.Setenv("PULUMI_CONFIG", `{"`+OriginSecretKey+`":"`+secret+`"}`)
	t.Setenv("PULUMI_CONFIG_SECRET_KEYS", `["`+OriginSecretKey+`"]`)
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	dist, err := m.Get("aws:cloudfront/distribution:Distribution", "cdn")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if got := mockaws.Str(dist.Inputs, "origins", i, "customHeaders", 0, "value"); got != secret {
			t.Errorf("origin %d sends %q in its custom header, want the configured secret", i, got)
		}
		if !mockaws.IsSecret(dist.Inputs, "origins", i, "customHeaders", 0, "value") {
			t.Errorf("origin %d: the secret's value is not a Pulumi secret", i)
		}
	}

	want := NewDistribution(failover.DefaultTimings).Shielded(DefaultOriginShieldRegion)
	got := fromPulumi(t, m)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the Pulumi distribution says\n%+v\nthe description says\n%+v", got, want)
	}
	standIn := StandIn{Primary: "127.0.0.1:8081", Secondary: "127.0.0.1:8082", Secret: secret}
	fromCloudFront, err := got.VCL(standIn)
	if err != nil {
		t.Fatal(err)
	}
	vcl, err := want.VCL(standIn)
	if err != nil {
		t.Fatal(err)
	}
	if fromCloudFront != vcl {
		t.Fatal("the VCL rendered from the Pulumi distribution differs from the stand-in's")
	}

	// And the numbers a reader checks first, in the VCL's own words.
	timeout := int(mockaws.Num(dist.Inputs, "origins", 0, "customOriginConfig", "originReadTimeout"))
	for _, re := range []string{
		`\.first_byte_timeout = ` + strconv.Itoa(timeout) + `s;`,
		`beresp\.status == 500 \|\| beresp\.status == 502 \|\| beresp\.status == 503 \|\| beresp\.status == 504`,
		`\[\?&\]_HLS_msn=`, `\[\?&\]_HLS_part=`, `\[\?&\]_HLS_skip=`,
		`"\^/\.\*\\\.m3u8\$"`,
		`set bereq\.http\.X-Origin-Secret = "` + secret + `";`,
		`if \(beresp\.ttl > 1s\)`,
		`if \(beresp\.ttl > 31536000s\)`,
		`set beresp\.grace = 0s;`,
		`# Origin Shield in ` + DefaultOriginShieldRegion + `:`,
	} {
		if !regexp.MustCompile(re).MatchString(vcl) {
			t.Errorf("the VCL lacks %s", re)
		}
	}
}

// Without the secret configured, CloudFront sends no custom header and the
// stand-in none either.
func TestNoOriginSecret(t *testing.T) {
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	dist, err := m.Get("aws:cloudfront/distribution:Distribution", "cdn")
	if err != nil {
		t.Fatal(err)
	}
	if h := mockaws.Path(dist.Inputs, "origins", 0, "customHeaders"); h.IsArray() && len(h.ArrayValue()) > 0 {
		t.Errorf("custom headers %v without a secret configured", h)
	}
	vcl, err := NewDistribution(failover.DefaultTimings).VCL(StandIn{Primary: "127.0.0.1:1", Secondary: "127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(vcl, "unset bereq.http.X-Origin-Secret;") {
		t.Error("the stand-in forwards a viewer's secret header")
	}
}

func TestPatternRegexp(t *testing.T) {
	cases := []struct {
		pattern, path string
		match         bool
	}{
		{"*.m3u8", "/live/cam1/index.m3u8", true},
		{"*.m3u8", "/live/cam1/index.m3u8x", false},
		{"*.m4s", "/live/cam1/source/part12.3.m4s", true},
		{"*.ts", "/live/cam1/source/seg3.ts", true},
		{"*.ts", "/live/cam1/source/seg3xts", false},
		{"/live/*", "/live/cam1/index.m3u8", true},
		{"/live/*", "/vod/cam1/index.m3u8", false},
		{"seg?.ts", "/seg3.ts", true},
		{"seg?.ts", "/seg13.ts", false},
	}
	for _, c := range cases {
		if got := regexp.MustCompile(PatternRegexp(c.pattern)).MatchString(c.path); got != c.match {
			t.Errorf("%s ~ %s: %v, want %v", c.path, c.pattern, got, c.match)
		}
	}
}

func TestVCLRefusesUnquotableSecret(t *testing.T) {
	if _, err := NewDistribution(failover.DefaultTimings).VCL(StandIn{Primary: "127.0.0.1:1", Secondary: "127.0.0.1:2", Secret: `a"b`}); err == nil {
		t.Fatal("a secret with a quote was written into the VCL")
	}
}
