package config

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"strconv"
)

// streamName is what a stream may be called: it appears as one URL path
// segment and in the SRT streamid, so it keeps to RFC 3986's unreserved
// characters (no escaping anywhere) without "~", and leaves out the
// streamid's separators (",", "=", ":", "/"). A leading letter or digit
// rules out "." and "..".
var streamName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// StreamNameRule says streamName in words, for error messages.
const StreamNameRule = "1–64 of A-Z a-z 0-9 _ . - (starting with a letter or digit)"

// ValidStreamName reports whether name may name a stream.
func ValidStreamName(name string) bool {
	return streamName.MatchString(name) && name != "." && name != ".."
}

// OnConflict values.
const (
	OnConflictRefuse   = "refuse"
	OnConflictTakeover = "takeover"
)

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Node.ID == "" {
		bad("node.id must not be empty")
	}
	if err := checkHostPort(c.SRT.Listen); err != nil {
		bad("srt.listen %q: %v", c.SRT.Listen, err)
	}
	if err := checkHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen %q: %v", c.HTTP.Listen, err)
	}
	if c.SRT.Latency < 0 || c.SRT.Latency.Milliseconds() > 65535 {
		bad("srt.latency %v must be between 0 and 65535ms", c.SRT.Latency)
	}
	if c.SRT.PeerIdleTimeout <= 0 {
		bad("srt.peer_idle_timeout %v must be positive", c.SRT.PeerIdleTimeout)
	}
	if c.SRT.OnConflict != OnConflictRefuse && c.SRT.OnConflict != OnConflictTakeover {
		bad("srt.on_conflict %q must be %q or %q", c.SRT.OnConflict, OnConflictRefuse, OnConflictTakeover)
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		bad("http.tls_cert and http.tls_key go together")
	}
	if c.HLS.PartDuration <= 0 {
		bad("hls.part_duration %v must be positive", c.HLS.PartDuration)
	}
	if c.HLS.SegmentDuration < 2*c.HLS.PartDuration {
		bad("hls.segment_duration %v must hold at least two parts of %v", c.HLS.SegmentDuration, c.HLS.PartDuration)
	}
	if c.HLS.WindowSegments < 3 {
		bad("hls.window_segments %d must be at least 3", c.HLS.WindowSegments)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format %q must be text or json", c.Log.Format)
	}
	if c.Runtime.GCPercent < 10 {
		bad("runtime.gc_percent %d must be at least 10", c.Runtime.GCPercent)
	}
	if len(c.Streams) == 0 && !c.Catalog.Enabled() {
		bad("streams: at least one stream must be configured (or a catalog: catalog.dynamodb.table)")
	}
	seen := map[string]bool{}
	for i, s := range c.Streams {
		if !ValidStreamName(s.Name) {
			bad("streams[%d]: name %q must be %s", i, s.Name, StreamNameRule)
		}
		if seen[s.Name] {
			bad("streams[%d]: name %q configured twice", i, s.Name)
		}
		seen[s.Name] = true
		if n := len(s.Passphrase); n != 0 && (n < 10 || n > 80) {
			bad("streams[%d] (%s): passphrase must be 10–80 characters (SRT), got %d", i, s.Name, n)
		}
		if s.Record && !c.Recording.Enabled() {
			bad("streams[%d] (%s): record needs recording.bucket", i, s.Name)
		}
	}
	// One token guards the operator's endpoints; the cluster's older key
	// still works alone, but two different tokens would be two doors.
	if c.Admin.Token != "" && c.Cluster.AdminToken != "" && c.Admin.Token != c.Cluster.AdminToken {
		bad("cluster.admin_token and admin.token differ: set admin.token only (it guards the drain too)")
	}
	if c.Fencing.Enabled && !c.Cluster.Enabled() {
		bad("fencing.enabled needs the cluster section: a node fences only with Redis's agreement")
	}
	// Sections owned by other areas (cluster, transcode, catalog...) validate themselves.
	v := reflect.ValueOf(c).Elem()
	for i := 0; i < v.NumField(); i++ {
		if sv, ok := v.Field(i).Interface().(interface{ Validate() error }); ok {
			if err := sv.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
