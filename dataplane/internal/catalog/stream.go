// Package catalog is the stream catalog as a node consumes it: the Stream
// record, its stores (a DynamoDB table, or the configuration's streams:
// list when no catalog is configured) and the Resolver that answers the SRT
// handshake from a bounded cache (numbers in policies/catalog).
package catalog

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Latency modes: LL-HLS, or classic HLS (whole segments only).
const (
	LatencyLow      = "low"
	LatencyStandard = "standard"
)

// LadderSource is the ladder of a stream that is not transcoded: only the
// publisher's own rendition is served.
const LadderSource = "source"

// Stream is one stream of the catalog: what a publisher needs to be let in,
// and how the stream is packaged.
type Stream struct {
	Name string `json:"name"`
	// Passphrase is the SRT publish key (AES); BackupPassphrase the second
	// encoder's. Empty: the stream takes unencrypted publishers.
	Passphrase       string `json:"passphrase,omitempty"`
	BackupPassphrase string `json:"backup_passphrase,omitempty"`
	// Ladder is empty for the node's configured ladder (transcode.ladder),
	// LadderSource for none, or rungs in transcode.ladder's form
	// ("720p:3000k,480p:1500k").
	Ladder  string            `json:"ladder,omitempty"`
	Latency string            `json:"latency"`
	Record  bool              `json:"record"`
	Labels  map[string]string `json:"labels,omitempty"`
	Created time.Time         `json:"created"`
	Updated time.Time         `json:"updated"`
	// Version counts the writes; an update names the version it read, so
	// two concurrent updates cannot silently overwrite each other.
	Version int64 `json:"version"`
}

// Limits of the free labels.
const (
	maxLabels     = 32
	maxLabelValue = 256
)

var labelKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$`)

// Validate reports every invalid field, each named as in the API's JSON.
func (s Stream) Validate() error {
	var errs Invalid
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	// One rule with the streams: list: the name is a URL path segment and
	// part of the SRT streamid.
	if !config.ValidStreamName(s.Name) {
		bad("name", "%q must be %s", s.Name, config.StreamNameRule)
	}
	if p := passphraseProblem(s.Passphrase); p != "" {
		bad("passphrase", "%s", p)
	}
	if p := passphraseProblem(s.BackupPassphrase); p != "" {
		bad("backup_passphrase", "%s", p)
	}
	if s.BackupPassphrase != "" && s.BackupPassphrase == s.Passphrase {
		bad("backup_passphrase", "must differ from passphrase: the two encoders are told apart by their key")
	}
	if s.BackupPassphrase != "" && s.Passphrase == "" {
		bad("backup_passphrase", "needs a passphrase too")
	}
	if s.Ladder != "" && s.Ladder != LadderSource {
		var l config.Ladder
		if err := l.UnmarshalText([]byte(s.Ladder)); err != nil {
			bad("ladder", "%q: %v (or %q for no ladder, empty for the node's)", s.Ladder, err, LadderSource)
		} else if len(l) == 0 {
			bad("ladder", "%q has no rung (%q for no ladder, empty for the node's)", s.Ladder, LadderSource)
		}
	}
	if s.Latency != LatencyLow && s.Latency != LatencyStandard {
		bad("latency", "%q must be %q (LL-HLS) or %q (classic HLS)", s.Latency, LatencyLow, LatencyStandard)
	}
	if len(s.Labels) > maxLabels {
		bad("labels", "%d labels, at most %d", len(s.Labels), maxLabels)
	}
	for k, v := range s.Labels {
		if !labelKey.MatchString(k) {
			bad("labels", "key %q must be 1–63 of A-Z a-z 0-9 _ . / - (starting with a letter or digit)", k)
		}
		if !utf8.ValidString(v) || len(v) > maxLabelValue {
			bad("labels", "value of %q must be UTF-8 of at most %d bytes", k, maxLabelValue)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// passphraseProblem applies SRT's length rule, and keeps to printable ASCII
// so that a key survives encoder forms and URLs unchanged.
func passphraseProblem(p string) string {
	if p == "" {
		return ""
	}
	if n := len(p); n < 10 || n > 80 {
		return fmt.Sprintf("must be 10–80 characters (SRT), got %d", n)
	}
	if strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return "must be printable ASCII without spaces"
	}
	return ""
}

// normalize fills the defaults and writes the ladder in its canonical form,
// so every writer stores the same text for the same ladder.
func (s *Stream) normalize() {
	if s.Latency == "" {
		s.Latency = LatencyLow
	}
	if s.Ladder != "" && s.Ladder != LadderSource {
		var l config.Ladder
		if l.UnmarshalText([]byte(s.Ladder)) == nil && len(l) > 0 {
			b, _ := l.MarshalText()
			s.Ladder = string(b)
		}
	}
	if len(s.Labels) == 0 {
		s.Labels = nil
	}
}

// PassphraseLength is the length of a generated passphrase.
const PassphraseLength = 32

// NewPassphrase returns a random passphrase of PassphraseLength characters
// of crypto/rand.Text's base32 alphabet (A-Z, 2-7: 160 bits), which needs no
// escaping in the SRT URL handed to the broadcaster.
func NewPassphrase() string {
	return (rand.Text() + rand.Text())[:PassphraseLength]
}
