package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/zonecast/zonecast/policies/rewind"
)

// Recording configures recording to S3; the contract file's form:
//
//	recording: {bucket: B, region: R, endpoint: URL, prefix: P, spool_dir: D, spool_max: SIZE, idle_close: DURATION}
//
// with credentials from the usual AWS environment variables or the instance
// role. An empty bucket leaves recording off; a stream is recorded when its
// entry in streams says record: true.
type Recording struct {
	Bucket   string `yaml:"bucket" usage:"S3 bucket recordings are written to; empty: recording off"`
	Region   string `yaml:"region" usage:"the bucket's AWS region (any name for a local S3-API server)"`
	Endpoint string `yaml:"endpoint" usage:"S3 endpoint URL, e.g. a local S3-API server (path-style addressing); empty: AWS's endpoint for the region"`
	Prefix   string `yaml:"prefix" usage:"key prefix of every recorded object (no leading or trailing /)"`
	// The spool is where segments wait on local disk while S3 is slow or
	// away; its bounds say how long an outage loses nothing.
	SpoolDir    string        `yaml:"spool_dir" usage:"directory where segments wait while S3 is slow or unreachable (required with a bucket)"`
	SpoolMax    Size          `yaml:"spool_max" default:"2GiB" usage:"bytes the spool may hold; beyond it new segments are dropped (counted and logged), never live delivery slowed"`
	SpoolMaxAge time.Duration `yaml:"spool_max_age" default:"1h" usage:"a spooled segment older than this is dropped (counted and logged) instead of uploaded"`
	// IdleClose is the grace period of a reconnecting publisher: within it
	// the recording goes on (with a discontinuity); after it the recording
	// is closed as video on demand.
	IdleClose time.Duration `yaml:"idle_close" default:"60s" usage:"a recorded stream idle this long has its recording closed (VOD playlists written); reconnects within it stay in one recording"`
	// Rewind is the window of each recorded stream's rewind playlist
	// (/live/<stream>/rewind.m3u8), served from what was recorded; the
	// default and bounds are policies/rewind's.
	Rewind time.Duration `yaml:"rewind" default:"2h" usage:"how far back viewers may seek into a recorded live stream (rewind.m3u8 beside each live playlist); 0 turns it off"`
}

// Enabled reports whether recording is configured.
func (r Recording) Enabled() bool { return r.Bucket != "" }

// minSpool is the smallest useful spool: a few segments of every rendition
// of a stream at ladder bit rates.
const minSpool = 16 << 20

// Validate reports every problem of an enabled recording section.
func (r Recording) Validate() error {
	if !r.Enabled() {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.Region == "" {
		bad("recording.region must be set with recording.bucket")
	}
	if r.Endpoint != "" {
		u, err := url.Parse(r.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("recording.endpoint %q must be an http:// or https:// URL", r.Endpoint)
		}
	}
	if strings.HasPrefix(r.Prefix, "/") || strings.HasSuffix(r.Prefix, "/") {
		bad("recording.prefix %q must not start or end with /", r.Prefix)
	}
	if r.SpoolDir == "" {
		bad("recording.spool_dir must be set with recording.bucket")
	}
	if r.SpoolMax < minSpool {
		bad("recording.spool_max %d must be at least %d bytes (16MiB)", r.SpoolMax, minSpool)
	}
	if r.SpoolMaxAge <= 0 {
		bad("recording.spool_max_age %v must be positive", r.SpoolMaxAge)
	}
	if r.IdleClose <= 0 {
		bad("recording.idle_close %v must be positive", r.IdleClose)
	}
	if err := rewind.Validate(r.Rewind); err != nil {
		bad("recording.rewind: %v", err)
	}
	return errors.Join(errs...)
}
