package rules

import (
	"encoding/json"
	"fmt"
	"strings"
)

var iamWildcardPolicy = Policy{
	Name: "iam-no-wildcard-actions",
	Description: "IAM policies (role inline policies, managed policies and attachments) allow only named actions: " +
		"no `*`, no `service:*`, no NotAction, and no AWS-managed administrator or full-access policy.",
	Remediation: "list the exact actions the instance needs (CloudWatch PutMetricData, the segment bucket's object " +
		"actions, SSM parameter reads) instead of wildcards.",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkIAM,
}

func checkIAM(r Resource, _ *Config) []Finding {
	var docs []Value
	switch {
	case r.typeIs(typeRolePolicy, typePolicy):
		docs = append(docs, r.get("policy"))
	case r.typeIs(typeRole):
		list, _ := r.get("inlinePolicies").Array()
		for _, e := range list {
			if m, ok := e.Object(); ok {
				docs = append(docs, Get(m, "policy"))
			}
		}
	case r.typeIs(typeRolePolicyAttach):
		arn, ok := r.get("policyArn").String()
		if ok && broadManagedPolicy(arn) {
			return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
				"%s attaches %s, which grants wildcard actions.", describe(r), arn)}}
		}
		return nil
	default:
		return nil
	}
	var out []Finding
	for _, d := range docs {
		text, ok := d.String()
		if !ok {
			continue // unknown until the ARNs it names exist
		}
		bad, err := wildcardActions(text)
		if err != nil {
			out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf("%s has a policy document that is not valid JSON: %v.", describe(r), err),
				Fix: "write the policy as a JSON IAM policy document."})
			continue
		}
		if len(bad) > 0 {
			out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
				"%s allows wildcard actions: %s.", describe(r), strings.Join(bad, ", "))})
		}
	}
	return out
}

func broadManagedPolicy(arn string) bool {
	name, ok := strings.CutPrefix(arn, "arn:aws:iam::aws:policy/")
	if !ok {
		return false
	}
	name = name[strings.LastIndex(name, "/")+1:]
	return name == "AdministratorAccess" || name == "PowerUserAccess" || strings.HasSuffix(name, "FullAccess")
}

// policyStatement is one statement of an IAM policy document, its
// action and resource lists left raw (a string or a list of strings).
type policyStatement struct {
	Effect      string
	Action      json.RawMessage
	NotAction   json.RawMessage
	Resource    json.RawMessage
	NotResource json.RawMessage
}

// policyStatements reads a policy document's statements, whether it holds
// one statement object or a list of them.
func policyStatements(doc string) ([]policyStatement, error) {
	var pd struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &pd); err != nil {
		return nil, err
	}
	var stmts []policyStatement
	if len(pd.Statement) > 0 && pd.Statement[0] == '{' {
		var s policyStatement
		if err := json.Unmarshal(pd.Statement, &s); err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
	} else if len(pd.Statement) > 0 {
		if err := json.Unmarshal(pd.Statement, &stmts); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// wildcardActions lists the Allow statements' wildcard actions (and
// NotAction, which allows everything it does not name).
func wildcardActions(doc string) ([]string, error) {
	stmts, err := policyStatements(doc)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, s := range stmts {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		if len(s.NotAction) > 0 {
			bad = append(bad, "NotAction")
		}
		actions, err := stringOrList(s.Action)
		if err != nil {
			return nil, err
		}
		for _, a := range actions {
			if strings.Contains(a, "*") {
				bad = append(bad, a)
			}
		}
	}
	return bad, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	err := json.Unmarshal(raw, &many)
	return many, err
}
