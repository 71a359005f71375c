package redis

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

func testArgs() Args {
	return Args{
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"},
		SubnetGroupName:   pulumi.String("redis-subnets"),
		SecurityGroupID:   pulumi.String("sg-redis"),
		NodeType:          "cache.t4g.micro",
		AuthToken:         pulumi.ToSecret(pulumi.String("redis-test-token-0123456789")).(pulumi.StringOutput),
		Region:            "eu-west-1",
	}
}

func runRedis(t *testing.T, args Args) (*mockaws.Mocks, *Redis, error) {
	t.Helper()
	m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
	var r *Redis
	err := m.Run(func(ctx *pulumi.Context) error {
		var err error
		r, err = New(ctx, "redis", args)
		return err
	})
	return m, r, err
}

func TestReplicationGroupMatchesPolicy(t *testing.T) {
	m, r, err := runRedis(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	groups := m.OfType("aws:elasticache/replicationGroup:ReplicationGroup")
	if len(groups) != 1 {
		t.Fatalf("%d replication groups, want 1", len(groups))
	}
	in := groups[0].Inputs
	if got := int(mockaws.Num(in, "numCacheClusters")); got != failover.DefaultRedundancy.RedisPerRegion {
		t.Errorf("%d nodes, want the policy's %d", got, failover.DefaultRedundancy.RedisPerRegion)
	}
	for _, k := range []string{"automaticFailoverEnabled", "multiAzEnabled", "transitEncryptionEnabled", "atRestEncryptionEnabled"} {
		if !mockaws.Bool(in, k) {
			t.Errorf("%s is not true", k)
		}
	}
	if got := mockaws.Strings(in, "preferredCacheClusterAzs"); strings.Join(got, ",") != "eu-west-1a,eu-west-1b" {
		t.Errorf("node AZs %v, want the primary in the first zone's AZ, the replica in the twin's", got)
	}
	if got := int(mockaws.Num(in, "port")); got != ports.Redis.Number {
		t.Errorf("port %d, want %d", got, ports.Redis.Number)
	}
	if got := mockaws.Str(in, "tags", "zonecast:region"); got != "eu-west-1" {
		t.Errorf("region tag %q", got)
	}
	if !mockaws.IsSecret(in, "authToken") {
		t.Error("auth token input is not a secret")
	}
	// The component's own output stays secret too.
	res, err := internals.UnsafeAwaitOutput(context.Background(), r.AuthToken)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Secret || res.Value != "redis-test-token-0123456789" {
		t.Errorf("AuthToken output secret=%v value=%v, want the secret token", res.Secret, res.Value)
	}
	ep, err := internals.UnsafeAwaitOutput(context.Background(), r.PrimaryEndpoint)
	if err != nil || !strings.HasPrefix(ep.Value.(string), "master.") {
		t.Errorf("primary endpoint %v (%v)", ep.Value, err)
	}
}

func TestPlainTokenBecomesSecret(t *testing.T) {
	a := testArgs()
	a.AuthToken = pulumi.String("plain-token-but-long-enough")
	m, _, err := runRedis(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if !mockaws.IsSecret(m.OfType("aws:elasticache/replicationGroup:ReplicationGroup")[0].Inputs, "authToken") {
		t.Error("a plain auth token reached the resource unencrypted")
	}
}

func TestRedisRefusesLessRedundancy(t *testing.T) {
	one := failover.DefaultRedundancy
	one.RedisPerRegion = 1
	tests := []struct {
		name   string
		change func(*Args)
	}{
		{"one node", func(a *Args) { a.Redundancy = &one }},
		{"same AZ twice", func(a *Args) { a.AvailabilityZones = []string{"eu-west-1a", "eu-west-1a"} }},
		{"one AZ", func(a *Args) { a.AvailabilityZones = a.AvailabilityZones[:1] }},
		{"no token", func(a *Args) { a.AuthToken = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArgs()
			tt.change(&a)
			if _, _, err := runRedis(t, a); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestValidateAuthToken(t *testing.T) {
	tests := []struct {
		token string
		want  string // "" = accepted
	}{
		{"unit-test-auth-token-0123456789", ""},
		{"Aa0!&#$^<>-Aa0!&#$^<>-", ""},
		{strings.Repeat("x", 16), ""},
		{strings.Repeat("x", 128), ""},
		{strings.Repeat("x", 15), "16–128"},
		{strings.Repeat("x", 129), "16–128"},
		{"with-an-at-sign-@-0123", `'@'`},
		{`with-a-quote-"-012345`, `'"'`},
		{"with-a-slash-/-0123456", `'/'`},
		{"with a space 0123456789", `' '`},
		{"with-a-percent-%-01234", `'%'`},
		{"non-ascii-ümlaut-0123456", `'ü'`},
	}
	for _, tt := range tests {
		err := ValidateAuthToken(tt.token)
		if tt.want == "" && err != nil {
			t.Errorf("%q refused: %v", tt.token, err)
		}
		if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%q: got %v, want an error mentioning %s", tt.token, err, tt.want)
		}
	}
}
