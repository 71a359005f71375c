package rules

import (
	"encoding/json"
	"fmt"
	"strings"
)

// S3 type tokens (the V2 resources provision uses, and the older inline
// forms someone might write).
const (
	typeBucket       = "aws:s3/bucket:Bucket"
	typeBucketV2     = "aws:s3/bucketV2:BucketV2"
	typeBucketBlock  = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeBucketSSE    = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typeBucketSSEV1  = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
	typeBucketACL    = "aws:s3/bucketAclV2:BucketAclV2"
	typeBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
)

var recordingBucketPolicy = Policy{
	Name: "recording-bucket-private",
	Description: "Every S3 bucket of a zonecast stack (the regions' recording buckets) blocks public access " +
		"(all four settings of a public access block), encrypts objects by default, has no public ACL and no " +
		"bucket policy statement allowing everyone without a condition.",
	Remediation: "give the bucket an aws:s3/bucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, " +
		"ignorePublicAcls and restrictPublicBuckets true, and an aws:s3/bucketServerSideEncryptionConfigurationV2 " +
		"(AES256 or aws:kms); let CloudFront read through origin access control (a policy conditioned on the " +
		"distribution's ARN), never a public grant.",
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkBuckets,
}

// publicACLs are the canned ACLs that grant everyone or every AWS account.
var publicACLs = map[string]bool{"public-read": true, "public-read-write": true, "authenticated-read": true}

func checkBuckets(s *Stack, _ *Config) []Finding {
	buckets := s.OfType(typeBucket, typeBucketV2)
	if len(buckets) == 0 {
		return nil
	}
	type state struct {
		blocked, encrypted, unknown bool
		public                      []string
	}
	states := map[string]*state{}
	for _, b := range buckets {
		st := &state{}
		states[b.URN] = st
		// The older inline forms.
		if b.get("serverSideEncryptionConfiguration").Presence != Absent {
			st.encrypted = true
		}
		if acl, ok := b.get("acl").String(); ok && publicACLs[acl] {
			st.public = append(st.public, "its ACL "+acl)
		}
	}
	configured := func(cfg Resource) []Resource {
		v, _ := cfg.get("bucket").String()
		return s.Refs(cfg, "bucket", []string{v}, typeBucket, typeBucketV2)
	}
	for _, cfg := range s.OfType(typeBucketBlock, typeBucketSSE, typeBucketSSEV1, typeBucketACL, typeBucketPolicy) {
		for _, b := range configured(cfg) {
			st := states[b.URN]
			switch {
			case cfg.typeIs(typeBucketBlock):
				all, known := true, true
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					v := cfg.get(k)
					on, ok := v.Bool()
					known = known && (ok || v.Presence != Unknown)
					all = all && ok && on
				}
				st.blocked = st.blocked || all
				st.unknown = st.unknown || !known
			case cfg.typeIs(typeBucketSSE, typeBucketSSEV1):
				rules, _ := cfg.get("rules").Array()
				for _, rule := range rules {
					m, ok := rule.Object()
					if !ok {
						continue
					}
					alg := Path(m, "applyServerSideEncryptionByDefault", "sseAlgorithm")
					if a, ok := alg.String(); ok && a != "" {
						st.encrypted = true
					} else if alg.Presence == Unknown {
						st.unknown = true
					}
				}
			case cfg.typeIs(typeBucketACL):
				if acl, ok := cfg.get("acl").String(); ok && publicACLs[acl] {
					st.public = append(st.public, describe(cfg)+"'s ACL "+acl)
				}
			case cfg.typeIs(typeBucketPolicy):
				if doc, ok := cfg.get("policy").String(); ok && allowsEveryone(doc) {
					st.public = append(st.public, describe(cfg)+", which allows everyone without a condition")
				}
			}
		}
	}
	var out []Finding
	for _, b := range buckets {
		st := states[b.URN]
		var problems []string
		if !st.blocked && !st.unknown {
			problems = append(problems, "has no public access block with all four settings on")
		}
		if !st.encrypted && !st.unknown {
			problems = append(problems, "has no default encryption")
		}
		for _, p := range st.public {
			problems = append(problems, "is made public by "+p)
		}
		if len(problems) > 0 {
			out = append(out, Finding{URN: b.URN, Problem: fmt.Sprintf("bucket %s %s.", b.Name, strings.Join(problems, "; "))})
		}
	}
	return out
}

// allowsEveryone reports whether a bucket policy has an Allow statement
// for any principal ("*" or {"AWS": "*"}) without a condition.
func allowsEveryone(doc string) bool {
	var pd struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &pd) != nil {
		return false
	}
	type statement struct {
		Effect    string
		Principal json.RawMessage
		Condition json.RawMessage
	}
	var stmts []statement
	if len(pd.Statement) > 0 && pd.Statement[0] == '{' {
		var s statement
		if json.Unmarshal(pd.Statement, &s) == nil {
			stmts = append(stmts, s)
		}
	} else {
		_ = json.Unmarshal(pd.Statement, &stmts)
	}
	for _, s := range stmts {
		if !strings.EqualFold(s.Effect, "Allow") || len(s.Condition) > 0 && string(s.Condition) != "null" && string(s.Condition) != "{}" {
			continue
		}
		var p any
		if json.Unmarshal(s.Principal, &p) != nil {
			continue
		}
		switch p := p.(type) {
		case string:
			if p == "*" {
				return true
			}
		case map[string]any:
			if aws, _ := p["AWS"].(string); aws == "*" {
				return true
			}
			if list, ok := p["AWS"].([]any); ok {
				for _, e := range list {
					if e == "*" {
						return true
					}
				}
			}
		}
	}
	return false
}
