package rules

import (
	"sort"
	"strings"
)

// Tags that place a resource in zonecast's topology. The provision programs
// set them on every regional resource that supports tags (see
// docs/policy-pack.md for the full convention and its fallbacks).
const (
	// TagZone names the zone: "<region>/<key>" (e.g. eu-west-1/a, the edge's
	// load-metric dimension that provision already tags with), or just the
	// key when TagRegion or the provider tells the region.
	TagZone   = "zonecast:zone"
	TagRegion = "zonecast:region" // AWS region name, e.g. eu-west-1 (optional)
	TagAZ     = "zonecast:az"     // availability zone name, e.g. eu-west-1a (optional)
)

// unknownRegion labels resources whose region cannot be told at all; they
// are still judged together as one region.
const unknownRegion = "(region not known)"

// Stack indexes a stack's resources for the stack policies.
type Stack struct {
	Resources     []Resource
	byURN         map[string]int
	defaultRegion string
	// azZone maps an availability zone to the region and zone of the
	// tagged resources placed there, so that untagged resources placed by
	// availability zone (a replication group's preferredCacheClusterAzs)
	// join their zone.
	azZone map[string]zoneKey
}

// NewStack indexes rs. defaultRegion is the stack's aws:region, if any.
func NewStack(rs []Resource, defaultRegion string) *Stack {
	s := &Stack{Resources: rs, byURN: make(map[string]int, len(rs)), defaultRegion: defaultRegion}
	for i, r := range rs {
		s.byURN[r.URN] = i
	}
	s.azZone = map[string]zoneKey{}
	for _, r := range rs {
		if !r.typeIs(typeASG, typeLoadBalancer) {
			continue
		}
		_, zone, _ := zoneTag(r)
		if zone == "" {
			continue
		}
		if azs, complete := s.AZs(r); complete && len(azs) == 1 {
			k := zoneKey{s.Region(r), zone}
			if old, seen := s.azZone[azs[0]]; seen && (old != k || old.zone == "") {
				k.zone = "" // two zones in one AZ: ambiguous, for good
			}
			s.azZone[azs[0]] = k
		}
	}
	return s
}

// regionHasTaggedZones reports whether some tagged resource placed the
// region's zones by availability zone.
func (s *Stack) regionHasTaggedZones(region string) bool {
	for _, k := range s.azZone {
		if k.region == region {
			return true
		}
	}
	return false
}

// zoneTag splits the zonecast:zone tag into its region and zone parts.
func zoneTag(r Resource) (region, zone string, p Presence) {
	t := Tag(r, TagZone)
	v, ok := t.String()
	if !ok || v == "" {
		return "", "", t.Presence
	}
	if i := strings.LastIndex(v, "/"); i >= 0 {
		return v[:i], v[i+1:], Known
	}
	return "", v, Known
}

// OfType lists the resources of the given types, in stack order.
func (s *Stack) OfType(tokens ...string) []Resource {
	var out []Resource
	for _, r := range s.Resources {
		if r.typeIs(tokens...) {
			out = append(out, r)
		}
	}
	return out
}

// Tag reads one tag from `tags` (a map, or the auto-scaling group's list of
// {key, value, propagateAtLaunch}), falling back to `tagsAll`.
func Tag(r Resource, key string) Value {
	for _, prop := range []string{"tags", "tagsAll"} {
		tags := r.get(prop)
		if tags.Presence == Unknown {
			return Value{Presence: Unknown}
		}
		if m, ok := tags.Object(); ok {
			if v := Get(m, key); v.Presence != Absent {
				return v
			}
			continue
		}
		if list, ok := tags.Array(); ok {
			unknown := false
			for _, e := range list {
				em, ok := e.Object()
				if !ok {
					unknown = unknown || e.Presence == Unknown
					continue
				}
				k := Get(em, "key")
				if ks, ok := k.String(); ok && ks == key {
					return Get(em, "value")
				}
				unknown = unknown || k.Presence == Unknown
			}
			if unknown {
				return Value{Presence: Unknown}
			}
		}
	}
	return Value{Presence: Absent}
}

// Region tells which region r serves: the zonecast:region tag, else (for an
// endpoint group) its endpointGroupRegion, else its provider's region, else
// the stack's default region.
func (s *Stack) Region(r Resource) string {
	if v, ok := Tag(r, TagRegion).String(); ok && v != "" {
		return v
	}
	if region, _, _ := zoneTag(r); region != "" {
		return region
	}
	if r.typeIs(typeEndpointGroup) {
		egr := r.get("endpointGroupRegion")
		if v, ok := egr.String(); ok && v != "" {
			return v
		}
		if egr.Presence == Unknown {
			return ""
		}
	}
	if r.ProviderRegion != "" {
		return r.ProviderRegion
	}
	// An availability zone names its region (eu-west-1a is in eu-west-1).
	if azs, _ := s.AZs(r); len(azs) > 0 {
		if k, ok := s.azZone[azs[0]]; ok {
			return k.region
		}
		return strings.TrimRight(azs[0], "abcdefghijklmnopqrstuvwxyz")
	}
	if s.defaultRegion != "" {
		return s.defaultRegion
	}
	return unknownRegion
}

// Zone tells which zone of its region r belongs to: the zonecast:zone tag,
// else its single availability zone. known is false when that cannot be
// told yet (unknown values) or r is not zonal.
func (s *Stack) Zone(r Resource) (zone string, known bool) {
	_, zone, p := zoneTag(r)
	if zone != "" {
		return zone, true
	}
	if p == Unknown {
		return "", false
	}
	azs, all := s.AZs(r)
	if all && len(azs) == 1 {
		if k, ok := s.azZone[azs[0]]; ok {
			return k.zone, k.zone != ""
		}
		if s.regionHasTaggedZones(s.Region(r)) {
			return "", false // an AZ no tagged zone uses: cannot tell
		}
		return azs[0], true
	}
	return "", false
}

// AZs lists the availability zones r is placed in, and whether that list is
// complete: an auto-scaling group's availabilityZones or its subnets' zones,
// a replication group's preferred zones, else the zonecast:az tag.
func (s *Stack) AZs(r Resource) (azs []string, complete bool) {
	set := map[string]bool{}
	add := func(v string) {
		if v != "" {
			set[v] = true
		}
	}
	complete = true
	switch {
	case r.typeIs(typeASG):
		if v := r.get("availabilityZones"); v.Presence != Absent {
			list, all := v.Strings()
			for _, az := range list {
				add(az)
			}
			complete = all
			break
		}
		subnetIDs := r.get("vpcZoneIdentifiers")
		if subnetIDs.Presence == Absent {
			break
		}
		ids, _ := subnetIDs.Strings()
		subnets := s.Refs(r, "vpcZoneIdentifiers", ids, "aws:ec2/subnet:Subnet")
		if len(subnets) == 0 {
			complete = false
		}
		for _, sn := range subnets {
			if az, ok := sn.get("availabilityZone").String(); ok {
				add(az)
			} else {
				complete = false
			}
		}
	case r.typeIs(typeLoadBalancer):
		key := "subnets"
		ids, _ := r.get("subnets").Strings()
		if r.get("subnets").Presence == Absent {
			key = "subnetMappings"
			list, _ := r.get("subnetMappings").Array()
			for _, e := range list {
				if m, ok := e.Object(); ok {
					if id, ok := Get(m, "subnetId").String(); ok {
						ids = append(ids, id)
					}
				}
			}
		}
		subnets := s.Refs(r, key, ids, "aws:ec2/subnet:Subnet")
		if len(subnets) == 0 {
			complete = false
		}
		for _, sn := range subnets {
			if az, ok := sn.get("availabilityZone").String(); ok {
				add(az)
			} else {
				complete = false
			}
		}
	case r.typeIs(typeReplicationGroup):
		if list, all := r.get("preferredCacheClusterAzs").Strings(); len(list) > 0 {
			add(list[0])
			complete = all
		}
	}
	if len(set) == 0 {
		t := Tag(r, TagAZ)
		if v, ok := t.String(); ok {
			add(v)
		} else if t.Presence == Unknown {
			complete = false
		}
	}
	out := make([]string, 0, len(set))
	for az := range set {
		out = append(out, az)
	}
	sort.Strings(out)
	return out, complete
}

// Refs resolves what r's property key points at: resources of the given
// types whose id, arn or name is one of the known values, and those the
// engine recorded as the property's dependencies (which is how links are
// told during a preview, when IDs and ARNs are still unknown).
func (s *Stack) Refs(r Resource, key string, values []string, types ...string) []Resource {
	var out []Resource
	seen := map[int]bool{}
	take := func(i int) {
		o := s.Resources[i]
		if seen[i] || o.URN == r.URN || (len(types) > 0 && !o.typeIs(types...)) {
			return
		}
		seen[i] = true
		out = append(out, o)
	}
	for _, u := range r.PropertyDependencies[key] {
		if i, ok := s.byURN[u]; ok {
			take(i)
		}
	}
	want := map[string]bool{}
	for _, v := range values {
		if v != "" {
			want[v] = true
		}
	}
	if len(want) == 0 {
		return out
	}
	for i, o := range s.Resources {
		for _, k := range []string{"id", "arn", "name"} {
			if v, ok := o.get(k).String(); ok && want[v] {
				take(i)
				break
			}
		}
	}
	return out
}

// zoneKey identifies one zone of one region.
type zoneKey struct{ region, zone string }

func (k zoneKey) String() string { return k.region + "/" + k.zone }
