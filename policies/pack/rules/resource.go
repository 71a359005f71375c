package rules

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Resource is what a rule sees of one resource: the same facts whether they
// come from the engine over gRPC (Analyze: checked inputs; AnalyzeStack:
// outputs), from a `pulumi stack export`, or from a mocked program in a unit
// test.
type Resource struct {
	URN        string
	Type       string // type token, e.g. aws:autoscaling/group:Group
	Name       string // logical name
	Properties resource.PropertyMap
	Parent     string
	// Dependencies and PropertyDependencies name, by URN, the resources this
	// one's inputs came from. Stack rules use them to link resources whose
	// IDs and ARNs are still unknown during a preview.
	Dependencies         []string
	PropertyDependencies map[string][]string
	// ProviderRegion is the `region` input of the resource's provider, when
	// known (empty otherwise).
	ProviderRegion string
}

// Level is a policy's enforcement level.
type Level string

const (
	Mandatory Level = "mandatory"
	Advisory  Level = "advisory"
	Disabled  Level = "disabled"
)

// Violation is one finding: which policy, which resource, what is wrong and
// how to fix it.
type Violation struct {
	Policy  string
	URN     string
	Level   Level
	Message string
}

func (v Violation) String() string {
	return string(v.Level) + " " + v.Policy + " " + v.URN + ": " + v.Message
}

// typeIs reports whether r has one of the type tokens. The aws:alb/* tokens
// are aliases of aws:lb/*, so either spelling matches.
func (r Resource) typeIs(tokens ...string) bool {
	t := strings.Replace(r.Type, "aws:alb/", "aws:lb/", 1)
	for _, tok := range tokens {
		if t == tok {
			return true
		}
	}
	return false
}

// get reads a top-level property.
func (r Resource) get(key string) Value { return Get(r.Properties, key) }

// path reads a nested property.
func (r Resource) path(steps ...any) Value { return Path(r.Properties, steps...) }

// Type tokens the rules know.
const (
	typeASG              = "aws:autoscaling/group:Group"
	typeLifecycleHook    = "aws:autoscaling/lifecycleHook:LifecycleHook"
	typeLaunchTemplate   = "aws:ec2/launchTemplate:LaunchTemplate"
	typeLaunchConfig     = "aws:ec2/launchConfiguration:LaunchConfiguration"
	typeReplicationGroup = "aws:elasticache/replicationGroup:ReplicationGroup"
	typeCacheCluster     = "aws:elasticache/cluster:Cluster"
	typeAccelerator      = "aws:globalaccelerator/accelerator:Accelerator"
	typeListener         = "aws:globalaccelerator/listener:Listener"
	typeEndpointGroup    = "aws:globalaccelerator/endpointGroup:EndpointGroup"
	typeLoadBalancer     = "aws:lb/loadBalancer:LoadBalancer"
	typeTargetGroup      = "aws:lb/targetGroup:TargetGroup"
	typeDistribution     = "aws:cloudfront/distribution:Distribution"
	typeSecurityGroup    = "aws:ec2/securityGroup:SecurityGroup"
	typeSGRule           = "aws:ec2/securityGroupRule:SecurityGroupRule"
	typeSGIngressRule    = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeRole             = "aws:iam/role:Role"
	typeRolePolicy       = "aws:iam/rolePolicy:RolePolicy"
	typePolicy           = "aws:iam/policy:Policy"
	typeRolePolicyAttach = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
)
