package rules

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/zonecast/zonecast/policies/failover"
)

// extraHourlyPriceUSD extends policies/failover InstanceTypes' prices (the
// types zonecast ships with) to the other sizes of the NVENC families:
// approximate on-demand Linux prices in us-east-1, USD per hour. Prices vary
// by region and change; the policy is advisory and its config's
// hourlyPriceUSD overrides both tables.
var extraHourlyPriceUSD = map[string]float64{
	"g4dn.2xlarge": 0.752, "g4dn.4xlarge": 1.204, "g4dn.8xlarge": 2.176, "g4dn.12xlarge": 3.912, "g4dn.16xlarge": 4.352,
	"g5.2xlarge": 1.212, "g5.4xlarge": 1.624, "g5.8xlarge": 2.448, "g5.12xlarge": 5.672, "g5.16xlarge": 4.096,
	"g5.24xlarge": 8.144, "g5.48xlarge": 16.288,
	"g6.2xlarge": 0.978, "g6.4xlarge": 1.323, "g6.8xlarge": 2.014, "g6.12xlarge": 4.602, "g6.16xlarge": 3.397,
	"g6.24xlarge": 6.675, "g6.48xlarge": 13.350,
	"g6e.xlarge": 1.861, "g6e.2xlarge": 2.242, "g6e.4xlarge": 3.004, "g6e.8xlarge": 4.529, "g6e.12xlarge": 10.493,
	"g6e.16xlarge": 7.577, "g6e.24xlarge": 15.066, "g6e.48xlarge": 30.131,
}

// DefaultCostConfig is the budget the cost policy applies unless configured,
// all derived from policies/failover: the families of the instance types
// zonecast ships with, each zone's default auto-scaling maximum, and the
// cost of one region's zones all at that maximum on the dearest shipped type.
func DefaultCostConfig() CostConfig {
	var families []string
	dearest := 0.0
	for _, t := range failover.InstanceTypes {
		if f := failover.InstanceFamily(t.Name); !slices.Contains(families, f) {
			families = append(families, f)
		}
		dearest = max(dearest, t.USDPerHour)
	}
	zones := failover.DefaultRedundancy.ZonesPerRegion
	return CostConfig{
		AllowedFamilies: families,
		MaxSizePerZone:  failover.DefaultASG.Max,
		MaxHourlyUSD:    math.Ceil(float64(zones*failover.DefaultASG.Max) * dearest),
	}
}

// HourlyPrice is the configured or built-in price of an instance type.
func (c CostConfig) HourlyPrice(instanceType string) (float64, bool) {
	if p, ok := c.HourlyPriceUSD[instanceType]; ok {
		return p, true
	}
	if t, err := failover.LookupInstanceType(instanceType); err == nil {
		return t.USDPerHour, true
	}
	p, ok := extraHourlyPriceUSD[instanceType]
	return p, ok
}

var costBudgetPolicy = Policy{
	Name: "cost-budget",
	Description: "Advisory: auto-scaling groups use the configured instance families, stay within the configured " +
		"maximum size per zone, and each region's cost at every group's maximum size stays within the hourly budget.",
	Remediation: "lower maxSize or pick a cheaper type, or raise the budget in the policy pack config " +
		"(--policy-pack-config: {\"cost-budget\": {\"maxHourlyUSD\": …}}).",
	Default: Advisory,
	Kind:    StackKind,
	Stack:   checkCost,
	ConfigSchema: map[string]any{
		"allowedFamilies": map[string]any{"type": "array", "items": map[string]any{"type": "string"},
			"default": toAny(DefaultCostConfig().AllowedFamilies)},
		"maxSizePerZone": map[string]any{"type": "integer", "minimum": 1, "default": DefaultCostConfig().MaxSizePerZone},
		"maxHourlyUSD":   map[string]any{"type": "number", "minimum": 0, "default": DefaultCostConfig().MaxHourlyUSD},
		"hourlyPriceUSD": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "number"}},
	},
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// instanceTypesForASG resolves the types an auto-scaling group launches:
// its overrides, else its launch template's or launch configuration's type.
func (s *Stack) instanceTypesForASG(a Resource) []string {
	var out []string
	for _, v := range instanceTypesOf(a) {
		if t, ok := v.String(); ok {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	var refs []Resource
	if lt := a.get("launchTemplate"); lt.Presence != Absent {
		id, _ := a.path("launchTemplate", "id").String()
		name, _ := a.path("launchTemplate", "name").String()
		refs = s.Refs(a, "launchTemplate", []string{id, name}, typeLaunchTemplate)
	}
	if len(refs) == 0 {
		spec := []any{"mixedInstancesPolicy", "launchTemplate", "launchTemplateSpecification"}
		id, _ := a.path(append(spec, "launchTemplateId")...).String()
		name, _ := a.path(append(spec, "launchTemplateName")...).String()
		refs = s.Refs(a, "mixedInstancesPolicy", []string{id, name}, typeLaunchTemplate)
	}
	if len(refs) == 0 {
		lc, _ := a.get("launchConfiguration").String()
		refs = s.Refs(a, "launchConfiguration", []string{lc}, typeLaunchConfig)
	}
	for _, r := range refs {
		if t, ok := r.get("instanceType").String(); ok {
			out = append(out, t)
		}
	}
	return out
}

func checkCost(s *Stack, c *Config) []Finding {
	cfg := c.Cost
	var out []Finding
	total := map[string]float64{}
	parts := map[string][]string{}
	for _, a := range s.OfType(typeASG) {
		region := s.Region(a)
		types := s.instanceTypesForASG(a)
		maxSize, maxKnown := a.get("maxSize").Number()
		if maxKnown && cfg.MaxSizePerZone > 0 && int(maxSize) > cfg.MaxSizePerZone {
			out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
				"auto-scaling group %s may grow to %d instances; the budget plans for %d per zone.",
				a.Name, int(maxSize), cfg.MaxSizePerZone)})
		}
		price := 0.0
		for _, t := range types {
			if len(cfg.AllowedFamilies) > 0 && !slices.Contains(cfg.AllowedFamilies, InstanceFamily(t)) {
				out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
					"auto-scaling group %s uses %s, outside the budgeted families %s.",
					a.Name, t, strings.Join(cfg.AllowedFamilies, ", "))})
			}
			p, ok := cfg.HourlyPrice(t)
			if !ok {
				out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
					"no hourly price is known for %s, so auto-scaling group %s is left out of the budget.", t, a.Name),
					Fix: "add the type to the cost-budget config's hourlyPriceUSD."})
				continue
			}
			price = max(price, p)
		}
		if maxKnown && price > 0 {
			total[region] += maxSize * price
			parts[region] = append(parts[region], fmt.Sprintf("%s %d × %.3f", a.Name, int(maxSize), price))
		}
	}
	regions := make([]string, 0, len(total))
	for r := range total {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		if cfg.MaxHourlyUSD > 0 && total[r] > cfg.MaxHourlyUSD {
			out = append(out, Finding{Problem: fmt.Sprintf(
				"at maximum size region %s's instances cost %.2f USD/h (%s), over the %.2f USD/h budget per region.",
				r, total[r], strings.Join(parts[r], ", "), cfg.MaxHourlyUSD)})
		}
	}
	return out
}
