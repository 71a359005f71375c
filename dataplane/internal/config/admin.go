package config

import (
	"errors"
	"fmt"
	"strings"
)

// Admin is the listener of the control API and metrics, kept off the public
// listener in production; the contract file's form:
//
//	admin: {listen: "127.0.0.1:9090", token: "an-admin-token"}
type Admin struct {
	Listen string `yaml:"listen" usage:"admin listen address (TCP host:port) for the control API and /metrics; empty: they stay on http.listen"`
	Token  string `yaml:"token" usage:"bearer token of every control API request that changes a stream or reveals a secret; empty: such requests are refused"`
}

// AdminToken is the bearer token of the operator's endpoints (the control
// API, the drain): admin.token, or the older cluster.admin_token when only
// that is set.
func (c *Config) AdminToken() string {
	if c.Admin.Token != "" {
		return c.Admin.Token
	}
	return c.Cluster.AdminToken
}

// Validate reports every problem of the admin section.
func (a Admin) Validate() error {
	var errs []error
	if a.Listen != "" {
		if err := checkHostPort(a.Listen); err != nil {
			errs = append(errs, fmt.Errorf("admin.listen %q: %v", a.Listen, err))
		}
	}
	// The token travels in an Authorization header: printable, no spaces.
	if strings.IndexFunc(a.Token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		errs = append(errs, errors.New("admin.token must be printable ASCII without spaces"))
	}
	return errors.Join(errs...)
}
