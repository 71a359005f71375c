package rules

// Config is the pack's configuration: enforcement-level overrides per
// policy, the stack's default region, and the cost policy's budget.
type Config struct {
	// Levels overrides policies' default enforcement levels by name.
	Levels map[string]Level
	// DefaultRegion is the region of resources that neither carry the
	// zonecast:region tag nor a provider with a known region (the stack's
	// aws:region config).
	DefaultRegion string
	Cost          CostConfig
}

// CostConfig is the advisory cost policy's budget.
type CostConfig struct {
	// AllowedFamilies are the instance families the budget was planned for.
	AllowedFamilies []string
	// MaxSizePerZone caps each auto-scaling group's maximum size.
	MaxSizePerZone int
	// MaxHourlyUSD caps each region's hourly on-demand cost with every
	// auto-scaling group at its maximum size.
	// MaxHourlyUSD caps the stack's hourly on-demand cost with every
	// auto-scaling group at its maximum size.
	MaxHourlyUSD float64
	// HourlyPriceUSD overrides or extends the built-in price table
	// (instance type → USD per hour).
	HourlyPriceUSD map[string]float64
}

// DefaultConfig is the configuration the pack reports to the engine as its
// defaults.
func DefaultConfig() Config {
	return Config{Cost: DefaultCostConfig()}
}

// Level is the enforcement level in force for p.
func (c *Config) Level(p Policy) Level {
	if l, ok := c.Levels[p.Name]; ok && l != "" {
		return l
	}
	return p.Default
}
