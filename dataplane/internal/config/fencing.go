package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Fencing configures fast fencing: how this node takes a dead node out of
// its zone's load balancer, and a dead zone out of the accelerator, before
// their health checks would (the rule and its numbers:
// policies/failover.Fencing). Provision renders it:
//
//	fencing:
//	  enabled: true
//	  target_groups: [arn:aws:elasticloadbalancing:...:targetgroup/srt-a/..., ...]
//	  endpoint: arn:aws:elasticloadbalancing:...:loadbalancer/net/edge-a/...
//	  endpoint_group: arn:aws:globalaccelerator::...:accelerator/.../listener/.../endpoint-group/...
//
// The node publishes target_groups and endpoint in the registry, enabled
// or not, so that a survivor can fence it from any zone.
type Fencing struct {
	Enabled      bool     `yaml:"enabled" usage:"fence dead nodes and zones at the load balancer and accelerator (needs the cluster section and target_groups)"`
	TargetGroups []string `yaml:"target_groups" usage:"ARNs of this node's zone's NLB target groups (SRT, HTTPS, HTTP/3), comma-separated as a flag; published so that survivors can deregister this node"`
	Endpoint     string   `yaml:"endpoint" usage:"ARN of this node's zone's NLB: its endpoint id in the accelerator (published so that survivors can weight this zone)"`
	// EndpointGroup: empty leaves a dead zone to the accelerator's own
	// health checks.
	EndpointGroup  string `yaml:"endpoint_group" usage:"ARN of the region's accelerator endpoint group; empty: zones are not weighted"`
	ELBURL         string `yaml:"elb_url" usage:"ELB API URL override (the local load balancer stand-in; dummy credentials); empty: AWS's, in node.region"`
	AcceleratorURL string `yaml:"accelerator_url" usage:"Global Accelerator API URL override (the local stand-in; dummy credentials); empty: AWS's, in us-west-2"`
}

// Validate reports every problem of the fencing section.
func (f Fencing) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.Enabled && len(f.TargetGroups) == 0 {
		bad("fencing.target_groups must list this zone's target group ARNs when fencing.enabled is set")
	}
	for i, tg := range f.TargetGroups {
		if err := checkARN(tg, "elasticloadbalancing", "targetgroup/"); err != nil {
			bad("fencing.target_groups[%d] %q: %v", i, tg, err)
		}
	}
	if f.Endpoint != "" {
		if err := checkARN(f.Endpoint, "elasticloadbalancing", "loadbalancer/net/"); err != nil {
			bad("fencing.endpoint %q: %v", f.Endpoint, err)
		}
	}
	if f.EndpointGroup != "" {
		if err := checkARN(f.EndpointGroup, "globalaccelerator", "accelerator/"); err != nil {
			bad("fencing.endpoint_group %q: %v", f.EndpointGroup, err)
		} else if !strings.Contains(f.EndpointGroup, "/endpoint-group/") {
			bad("fencing.endpoint_group %q: not an endpoint group (no /endpoint-group/)", f.EndpointGroup)
		}
		if f.Endpoint == "" {
			bad("fencing.endpoint_group needs fencing.endpoint (this zone's NLB ARN)")
		}
	}
	for _, u := range []struct{ key, value string }{{"fencing.elb_url", f.ELBURL}, {"fencing.accelerator_url", f.AcceleratorURL}} {
		if u.value == "" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("%s %q must be an http:// or https:// URL", u.key, u.value)
		}
	}
	return errors.Join(errs...)
}

// checkARN: s is an ARN of service whose resource begins with prefix.
func checkARN(s, service, prefix string) error {
	a, err := arn.Parse(s)
	if err != nil {
		return fmt.Errorf("not an ARN: %w", err)
	}
	if a.Service != service || !strings.HasPrefix(a.Resource, prefix) {
		return fmt.Errorf("want an ARN of %s whose resource begins with %q", service, prefix)
	}
	return nil
}
