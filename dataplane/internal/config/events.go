package config

import (
	"errors"
	"fmt"
	"net/url"
)

// Events configures the signed events sent to the platform's back end; the
// contract file's form:
//
//	events:
//	  webhook: {url: "http://127.0.0.1:9999/hook", secret: "a-webhook-secret"}
type Events struct {
	Webhook EventsWebhook `yaml:"webhook"`
}

// EventsWebhook is where events are POSTed and the key that signs them.
type EventsWebhook struct {
	URL    string `yaml:"url" usage:"URL receiving the stream events (POST, JSON); empty: no events"`
	Secret string `yaml:"secret" usage:"HMAC-SHA256 key of the Zonecast-Signature header of each event"`
}

// Enabled reports whether events are sent.
func (e Events) Enabled() bool { return e.Webhook.URL != "" }

// Validate reports every problem of the events section.
func (e Events) Validate() error {
	w := e.Webhook
	if !e.Enabled() {
		if w.Secret != "" {
			return errors.New("events.webhook.url must be set when events.webhook.secret is")
		}
		return nil
	}
	var errs []error
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("events.webhook.url %q must be an http:// or https:// URL", w.URL))
	}
	// An unsigned event could be forged by anyone who can reach the receiver.
	if w.Secret == "" {
		errs = append(errs, errors.New("events.webhook.secret must be set: every event is signed"))
	}
	return errors.Join(errs...)
}
