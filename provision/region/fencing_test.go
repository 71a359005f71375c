package region

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/instancerole"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

// envLine reads one variable of a rendered edge environment.
func envLine(env, key string) (string, bool) {
	for _, l := range strings.Split(env, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return strings.Trim(v, `"`), true
		}
	}
	return "", false
}

// TestFencingSettings: each zone's nodes are told their own zone's target
// groups and load balancer, and the region's SRT endpoint group, which
// exists only after every zone's load balancer does.
func TestFencingSettings(t *testing.T) {
	args := testArgs()
	m, err := runRegion(t, args)
	if err != nil {
		t.Fatal(err)
	}
	srt, err := m.Get("aws:globalaccelerator/endpointGroup:EndpointGroup", "endpoints-srt")
	if err != nil {
		t.Fatal(err)
	}
	group := mockaws.Str(srt.Outputs, "arn")
	if !strings.HasPrefix(group, "arn:aws:globalaccelerator::") {
		t.Fatalf("the SRT endpoint group's ARN is %q", group)
	}
	for i := range args.AvailabilityZones {
		key := ZoneKey(i)
		t.Run("zone "+key, func(t *testing.T) {
			var env string
			for _, p := range m.OfType("aws:ssm/parameter:Parameter") {
				if mockaws.Str(p.Inputs, "name") == ConfigParameter(args.Stack, key) {
					env = mockaws.Str(p.Inputs, "value")
				}
			}
			nlb, err := m.Get("aws:lb/loadBalancer:LoadBalancer", "zone-"+key+"-nlb")
			if err != nil {
				t.Fatal(err)
			}
			var groups []string
			for _, suffix := range []string{"srt", "https"} {
				tg, err := m.Get("aws:lb/targetGroup:TargetGroup", "zone-"+key+"-"+suffix)
				if err != nil {
					t.Fatal(err)
				}
				groups = append(groups, mockaws.Str(tg.Outputs, "arn"))
			}
			for _, want := range []struct{ key, value string }{
				{"ZONECAST_FENCING_ENABLED", "true"},
				{"ZONECAST_FENCING_TARGET_GROUPS", strings.Join(groups, ",")},
				{"ZONECAST_FENCING_ENDPOINT", mockaws.Str(nlb.Outputs, "arn")},
				{"ZONECAST_FENCING_ENDPOINT_GROUP", group},
			} {
				if got, _ := envLine(env, want.key); got != want.value {
					t.Errorf("%s=%q, want %q", want.key, got, want.value)
				}
			}
		})
	}
}

// TestFencingPolicyNamesItsResources: the nodes may deregister targets of
// their region's zonecast target groups only, and change the weights of the
// region's SRT endpoint group only, each named by ARN.
func TestFencingPolicyNamesItsResources(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	var targetGroups []string
	for _, tg := range m.OfType("aws:lb/targetGroup:TargetGroup") {
		targetGroups = append(targetGroups, mockaws.Str(tg.Outputs, "arn"))
	}
	srt, err := m.Get("aws:globalaccelerator/endpointGroup:EndpointGroup", "endpoints-srt")
	if err != nil {
		t.Fatal(err)
	}
	rp, err := m.Get("aws:iam/rolePolicy:RolePolicy", "edge-role-fencing")
	if err != nil {
		t.Fatal(err)
	}
	var doc instancerole.Document
	if err := json.Unmarshal([]byte(mockaws.Str(rp.Inputs, "policy")), &doc); err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{}
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			allowed[a] = append(allowed[a], s.Resource...)
		}
	}
	slices.Sort(targetGroups)
	tests := []struct {
		action string
		want   []string
	}{
		{instancerole.DeregisterTargetsAction, targetGroups},
		{instancerole.DescribeEndpointGroupAction, []string{mockaws.Str(srt.Outputs, "arn")}},
		{instancerole.UpdateEndpointGroupAction, []string{mockaws.Str(srt.Outputs, "arn")}},
		{instancerole.DescribeTargetHealthAction, []string{"*"}},
		{"elasticloadbalancing:RegisterTargets", nil},
	}
	for _, tt := range tests {
		got := slices.Clone(allowed[tt.action])
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s on %q, want %q", tt.action, got, tt.want)
		}
	}
}

// TestNoFencing: with fencing off the nodes get neither the settings nor
// the permissions, and the SRT target groups keep the drain's delay.
func TestNoFencing(t *testing.T) {
	args := testArgs()
	off := failover.DefaultFencing
	off.Enabled = false
	args.Fencing = &off
	m, err := runRegion(t, args)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("aws:iam/rolePolicy:RolePolicy", "edge-role-fencing"); err == nil {
		t.Error("a region without fencing grants fencing's permissions")
	}
	for _, p := range m.OfType("aws:ssm/parameter:Parameter") {
		env := mockaws.Str(p.Inputs, "value")
		if !strings.Contains(env, "ZONECAST_") {
			continue
		}
		if v, _ := envLine(env, "ZONECAST_FENCING_ENABLED"); v != "false" {
			t.Errorf("%s: ZONECAST_FENCING_ENABLED=%q", mockaws.Str(p.Inputs, "name"), v)
		}
		if _, ok := envLine(env, "ZONECAST_FENCING_TARGET_GROUPS"); ok {
			t.Errorf("%s names target groups without fencing", mockaws.Str(p.Inputs, "name"))
		}
	}
	want := failover.DefaultProvisioning.DeregistrationDelay(failover.DefaultTimings).Seconds()
	for _, tg := range m.OfType("aws:lb/targetGroup:TargetGroup") {
		if got := mockaws.Num(tg.Inputs, "deregistrationDelay"); got != want {
			t.Errorf("%s: deregistration delay %v s without fencing, want the drain's %v s", tg.Name, got, want)
		}
	}
}
