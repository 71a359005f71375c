package rules

import (
	"fmt"
	"slices"
	"strings"
)

// Tags provision puts on a region's node role (provision/instancerole):
// the catalog table its nodes read and the regions the global stack gives
// a replica.
const (
	TagCatalogTable    = "zonecast:catalogTable"
	TagCatalogReplicas = "zonecast:catalogReplicas" // space-separated regions
)

var catalogReplicaPolicy = Policy{
	Name: "catalog-replica",
	Description: "A region's nodes read the stream catalog in their own region: the global stack's DynamoDB " +
		"global table must have a replica there.",
	Remediation: "add the region to the global stack's zonecast:regions and `pulumi up` the global stack before " +
		"the region's stack.",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkCatalogReplica,
}

func checkCatalogReplica(r Resource, _ *Config) []Finding {
	if !r.typeIs(typeRole) {
		return nil
	}
	table, ok := Tag(r, TagCatalogTable).String()
	if !ok || table == "" {
		return nil // not a node role, or nodes without a catalog
	}
	region, ok := Tag(r, TagRegion).String()
	replicas := Tag(r, TagCatalogReplicas)
	list, known := replicas.String()
	if !ok || !known {
		return nil // not known yet
	}
	if slices.Contains(strings.Fields(list), region) {
		return nil
	}
	have := list
	if have == "" {
		have = "none"
	}
	return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
		"%s's nodes read the stream catalog %s in %s, where it has no replica (replicas: %s).",
		describe(r), table, region, have)}}
}
