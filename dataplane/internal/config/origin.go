package config

import (
	"errors"
	"fmt"
	"regexp"
)

// Origin guards the media the edge serves, so that only the CDN can fetch
// it; the contract file's form:
//
//	origin: {secret_header: X-Origin-Secret, secrets: ["current-value", "previous-value"]}
//
// The CDN adds the header to every request it sends to its origins (a
// CloudFront custom origin header). Two values let the secret rotate: the
// new one is added to every edge, then the CDN switches, then the old one
// goes. No secrets, the default, leaves the media open (a single edge
// without a CDN, the contract config).
type Origin struct {
	SecretHeader string   `yaml:"secret_header" default:"X-Origin-Secret" usage:"request header carrying the CDN's origin secret"`
	Secrets      []string `yaml:"secrets" usage:"accepted origin secrets (comma-separated as a flag); with any set, media requests without one of them get 403; empty: no check"`
}

// headerName is an HTTP field name (RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// Validate reports every problem of the origin section.
func (o Origin) Validate() error {
	var errs []error
	if !headerName.MatchString(o.SecretHeader) {
		errs = append(errs, fmt.Errorf("origin.secret_header %q must be an HTTP header name", o.SecretHeader))
	}
	for i, s := range o.Secrets {
		// Visible ASCII: a header value without the spaces a proxy may
		// trim, and without the comma that separates them as a flag.
		if len(s) == 0 || len(s) > 1024 || !visibleASCII(s) {
			errs = append(errs, fmt.Errorf("origin.secrets[%d] must be 1–1024 visible ASCII characters without commas", i))
		}
	}
	if len(o.Secrets) > 0 && len(errs) == 0 && o.SecretHeader == "" {
		errs = append(errs, errors.New("origin.secrets need origin.secret_header"))
	}
	return errors.Join(errs...)
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == ',' {
			return false
		}
	}
	return true
}
