package global

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

// TestCatalog: the stream catalog is a global table at home in the first
// region with a replica in every other one, each with point-in-time
// recovery and deletion protection, encrypted, and a writer policy that
// covers every replica.
func TestCatalog(t *testing.T) {
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	table, err := m.Get("aws:dynamodb/table:Table", "catalog")
	if err != nil {
		t.Fatal(err)
	}
	in := table.Inputs
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"named zonecast-streams", mockaws.Str(in, "name") == DefaultCatalogTable},
		{"keyed by name", mockaws.Str(in, "hashKey") == CatalogKey && mockaws.Str(in, "attributes", 0, "name") == CatalogKey},
		{"on demand", mockaws.Str(in, "billingMode") == "PAY_PER_REQUEST"},
		{"streamed (global tables replicate through it)", mockaws.Bool(in, "streamEnabled") && mockaws.Str(in, "streamViewType") == "NEW_AND_OLD_IMAGES"},
		{"point-in-time recovery", mockaws.Bool(in, "pointInTimeRecovery", "enabled")},
		{"deletion protection", mockaws.Bool(in, "deletionProtectionEnabled")},
		{"encrypted with KMS", mockaws.Bool(in, "serverSideEncryption", "enabled")},
	} {
		if !c.ok {
			t.Errorf("catalog table not %s: %v", c.what, in)
		}
	}
	providerRegion := func(r mockaws.Resource) string {
		t.Helper()
		for _, p := range m.OfType("pulumi:providers:aws") {
			if strings.HasPrefix(r.Provider, p.URN+"::") {
				return mockaws.Str(p.Inputs, "region")
			}
		}
		t.Fatalf("%s %s has no explicit provider (%q)", r.Type, r.Name, r.Provider)
		return ""
	}
	if got := providerRegion(table); got != testRegions[0] {
		t.Errorf("the table's home is %s, want the first region %s", got, testRegions[0])
	}
	regions := []string{providerRegion(table)}
	for _, rep := range m.OfType("aws:dynamodb/tableReplica:TableReplica") {
		if !mockaws.Bool(rep.Inputs, "pointInTimeRecovery") || !mockaws.Bool(rep.Inputs, "deletionProtectionEnabled") {
			t.Errorf("replica %s lacks point-in-time recovery or deletion protection: %v", rep.Name, rep.Inputs)
		}
		if got := mockaws.Str(rep.Inputs, "globalTableArn"); got != mockaws.Str(table.Outputs, "arn") {
			t.Errorf("replica %s of %q, not of the table", rep.Name, got)
		}
		regions = append(regions, providerRegion(rep))
	}
	slices.Sort(regions)
	want := slices.Sorted(slices.Values(testRegions))
	if !slices.Equal(regions, want) {
		t.Errorf("catalog copies in %v, want one in every region %v", regions, want)
	}

	writer, err := m.Get("aws:iam/policy:Policy", "catalog-writer")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Action, Resource []string
		}
	}
	if err := json.Unmarshal([]byte(mockaws.Str(writer.Inputs, "policy")), &doc); err != nil {
		t.Fatal(err)
	}
	var resources []string
	for _, r := range testRegions {
		resources = append(resources, CatalogTableArn("aws", r, "123456789012", DefaultCatalogTable))
	}
	if len(doc.Statement) != 1 || !slices.Equal(doc.Statement[0].Resource, resources) || !slices.Contains(doc.Statement[0].Action, "dynamodb:PutItem") {
		t.Errorf("writer policy %+v, want the writes on %v", doc, resources)
	}
}

func TestRegionsRequired(t *testing.T) {
	tests := []struct {
		name    string
		regions []string
		want    string
	}{
		{"none", nil, "zonecast:regions is required"},
		{"twice", []string{"eu-west-1", "eu-west-1"}, "twice"},
		{"not a region", []string{"eu-west-1a"}, "not an AWS region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := testArgs()
			args.Regions = tt.regions
			if _, err := runGlobal(t, args); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestVOD: /vod/* comes before every other behaviour and reads the first
// two regions' recording buckets through origin access control, the
// second when the first has no such key.
func TestVOD(t *testing.T) {
	m, err := runGlobal(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	dist, err := m.Get("aws:cloudfront/distribution:Distribution", "cdn")
	if err != nil {
		t.Fatal(err)
	}
	oac, err := m.Get("aws:cloudfront/originAccessControl:OriginAccessControl", "vod-oac")
	if err != nil {
		t.Fatal(err)
	}
	if mockaws.Str(oac.Inputs, "originAccessControlOriginType") != "s3" || mockaws.Str(oac.Inputs, "signingBehavior") != "always" {
		t.Errorf("origin access control %v", oac.Inputs)
	}
	in := dist.Inputs
	if got := mockaws.Str(in, "orderedCacheBehaviors", 0, "targetOriginId"); got != vodGroupID {
		t.Fatalf("/vod/* targets %q, want the buckets' group", got)
	}
	group := mockaws.Path(in, "originGroups", 1)
	if got := mockaws.Str(in, "originGroups", 1, "originId"); got != vodGroupID {
		t.Fatalf("second origin group %v", group)
	}
	codes := mockaws.Path(in, "originGroups", 1, "failoverCriteria", "statusCodes").ArrayValue()
	if len(codes) != 2 || codes[0].NumberValue() != 403 || codes[1].NumberValue() != 404 {
		t.Errorf("the buckets' group fails over on %v, want 403 and 404", codes)
	}
	for i, r := range testRegions[:2] {
		bucket, err := RecordingBucket("zonecast", "123456789012", r)
		if err != nil {
			t.Fatal(err)
		}
		o := 2 + i // after the two edge origins
		if got := mockaws.Str(in, "origins", o, "domainName"); got != bucket+".s3."+r+".amazonaws.com" {
			t.Errorf("VOD origin %d is %q, want %s's bucket", i, got, r)
		}
		if got := mockaws.Str(in, "origins", o, "originAccessControlId"); got != mockaws.Str(oac.Outputs, "id") {
			t.Errorf("VOD origin %d reads through %q, not the origin access control", i, got)
		}
		if got := mockaws.Str(in, "originGroups", 1, "members", i, "originId"); got != mockaws.Str(in, "origins", o, "originId") {
			t.Errorf("VOD group member %d is %q", i, got)
		}
	}
}

func TestRecordingBucketNames(t *testing.T) {
	b, err := RecordingBucket("zonecast-dev", "123456789012", "ap-southeast-1")
	if err != nil || b != "zonecast-dev-rec-123456789012-ap-southeast-1" {
		t.Errorf("got %q, %v", b, err)
	}
	if _, err := RecordingBucket("Zonecast", "123456789012", "eu-west-1"); err == nil {
		t.Error("an upper-case bucket name was accepted")
	}
	if _, err := RecordingBucket(strings.Repeat("z", 40), "123456789012", "eu-west-1"); err == nil {
		t.Error("a bucket name over 63 characters was accepted")
	}
}
