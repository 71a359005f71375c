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

// TestRecordingBucket: one bucket for the region, encrypted, closed to
// the public, expiring as the stack says, aborting what a node never
// finished, readable only by the CDN's distribution and only over TLS.
func TestRecordingBucket(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	get := func(typ, name string) mockaws.Resource {
		t.Helper()
		r, err := m.Get(typ, name)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	bucket := get("aws:s3/bucketV2:BucketV2", "recordings")
	if got := mockaws.Str(bucket.Inputs, "bucket"); got != testArgs().Recording.Bucket {
		t.Errorf("bucket %q, want the name the global stack gave", got)
	}
	id := mockaws.Str(bucket.Outputs, "id")
	block := get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "recordings-public-access")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if !mockaws.Bool(block.Inputs, k) {
			t.Errorf("public access block: %s is off", k)
		}
	}
	sse := get("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "recordings-encryption")
	if got := mockaws.Str(sse.Inputs, "rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"); got != RecordingSSEAlgorithm {
		t.Errorf("default encryption %q", got)
	}
	lc := get("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "recordings-lifecycle")
	if got := mockaws.Num(lc.Inputs, "rules", 0, "expiration", "days"); int(got) != 90 {
		t.Errorf("recordings expire after %v days, want the stack's 90", got)
	}
	if got := mockaws.Num(lc.Inputs, "rules", 1, "abortIncompleteMultipartUpload", "daysAfterInitiation"); int(got) != failover.DefaultProvisioning.AbortIncompleteUploadsDays {
		t.Errorf("incomplete uploads aborted after %v days", got)
	}
	for _, r := range []mockaws.Resource{block, sse, lc, get("aws:s3/bucketPolicy:BucketPolicy", "recordings-policy")} {
		if got := mockaws.Str(r.Inputs, "bucket"); got != id {
			t.Errorf("%s configures bucket %q, not the recording bucket %q", r.Name, got, id)
		}
	}

	var policy struct {
		Statement []struct {
			Sid, Effect string
			Principal   any
			Condition   map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(mockaws.Str(get("aws:s3/bucketPolicy:BucketPolicy", "recordings-policy").Inputs, "policy")), &policy); err != nil {
		t.Fatal(err)
	}
	for _, st := range policy.Statement {
		switch st.Effect {
		case "Allow":
			if st.Condition["StringEquals"]["AWS:SourceArn"] != testDistribution {
				t.Errorf("%s allows without the distribution's ARN as its condition: %+v", st.Sid, st)
			}
		case "Deny":
			if st.Condition["Bool"]["aws:SecureTransport"] != "false" {
				t.Errorf("%s: %+v", st.Sid, st)
			}
		}
	}
}

// TestNodeRoleReadsItsReplicaAndWritesItsPrefix: the nodes read the
// catalog in their own region's replica only, never write it, and write
// recordings only under the bucket's prefix.
func TestNodeRoleReadsItsReplicaAndWritesItsPrefix(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	rp, err := m.Get("aws:iam/rolePolicy:RolePolicy", "edge-role-policy")
	if err != nil {
		t.Fatal(err)
	}
	var doc instancerole.Document
	if err := json.Unmarshal([]byte(mockaws.Str(rp.Inputs, "policy")), &doc); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "dynamodb:") {
				found["catalog"] = true
				if !slices.Contains(instancerole.CatalogReadActions, a) {
					t.Errorf("the node role may %s on the catalog; it only reads", a)
				}
				if want := "arn:aws:dynamodb:eu-west-1:123456789012:table/zonecast-streams"; !slices.Equal(st.Resource, []string{want}) {
					t.Errorf("the node role reads %v, want its own region's replica %s", st.Resource, want)
				}
			}
			if strings.HasPrefix(a, "s3:") {
				found["recordings"] = true
				for _, r := range st.Resource {
					if r != "arn:aws:s3:::zonecast-rec-123456789012-eu-west-1/vod/*" && r != "arn:aws:s3:::zonecast-rec-123456789012-eu-west-1" {
						t.Errorf("the node role may %s on %s, beyond its bucket's prefix", a, r)
					}
				}
				if a == "s3:ListBucket" && st.Condition == nil {
					t.Error("the node role lists the whole bucket, not its prefix")
				}
			}
		}
	}
	if !found["catalog"] || !found["recordings"] {
		t.Errorf("the node role lacks the catalog or the recordings: %+v", doc)
	}
	role, err := m.Get("aws:iam/role:Role", "edge-role")
	if err != nil {
		t.Fatal(err)
	}
	if got := mockaws.Str(role.Inputs, "tags", instancerole.TagCatalogReplicas); got != "eu-west-1 us-east-1" {
		t.Errorf("the role's replica tag %q", got)
	}
}

// TestCatalogAdminRegion: by default the node role only reads the catalog;
// a region whose nodes serve the control API's writes gets the global
// stack's writer policy attached, and nothing broader.
func TestCatalogAdminRegion(t *testing.T) {
	const writer = "arn:aws:iam::123456789012:policy/catalog-writer-0123"
	for _, tt := range []struct {
		name   string
		policy string
	}{{"read only", ""}, {"admin path", writer}} {
		t.Run(tt.name, func(t *testing.T) {
			args := testArgs()
			args.Catalog.WriterPolicyArn = tt.policy
			m, err := runRegion(t, args)
			if err != nil {
				t.Fatal(err)
			}
			attached := m.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
			if tt.policy == "" {
				if len(attached) != 0 {
					t.Fatalf("a read-only region attaches %d policies", len(attached))
				}
				return
			}
			role, err := m.Get("aws:iam/role:Role", "edge-role")
			if err != nil {
				t.Fatal(err)
			}
			if len(attached) != 1 || mockaws.Str(attached[0].Inputs, "policyArn") != writer ||
				mockaws.Str(attached[0].Inputs, "role") != mockaws.Str(role.Outputs, "name") {
				t.Fatalf("attachments %+v, want the writer policy on the node role", attached)
			}
		})
	}
}
