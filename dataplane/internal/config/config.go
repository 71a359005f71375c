// Package config is the edge daemon's configuration: a YAML file, where every
// key is also a command-line flag and a ZONECAST_* environment variable.
//
// The three spellings are derived from the same struct tags (see keys.go), so
// they cannot drift: the YAML key `srt.latency` is the flag `-srt.latency`
// and the variable ZONECAST_SRT_LATENCY. Precedence: flag > env > file >
// default (the `default` tag).
package config

import (
	"time"
)

// Config is the whole configuration of one edge node.
type Config struct {
	Node      Node      `yaml:"node"`
	SRT       SRT       `yaml:"srt"`
	HTTP      HTTP      `yaml:"http"`
	Origin    Origin    `yaml:"origin"`
	HLS       HLS       `yaml:"hls"`
	Streams   Streams   `yaml:"streams" usage:"configured streams; as a flag or variable: name[+record][:passphrase],name2[:passphrase2] (+record: recorded to recording.bucket)"`
	Log       Log       `yaml:"log"`
	Runtime   Runtime   `yaml:"runtime"`
	Transcode Transcode `yaml:"transcode"`
	Cluster   Cluster   `yaml:"cluster"`
	Admin     Admin     `yaml:"admin"`
	Catalog   Catalog   `yaml:"catalog"`
	Events    Events    `yaml:"events"`
	Recording Recording `yaml:"recording"`
	Fencing   Fencing   `yaml:"fencing"`
}

// Node identifies this node in its region and zone.
type Node struct {
	ID     string `yaml:"id" default:"edge" usage:"node id, unique in the deployment"`
	Region string `yaml:"region" default:"local" usage:"region this node runs in"`
	Zone   string `yaml:"zone" default:"a" usage:"availability zone this node runs in"`
}

// SRT configures the ingest listener.
type SRT struct {
	Listen          string        `yaml:"listen" default:":9000" usage:"SRT listen address (UDP host:port)"`
	Latency         time.Duration `yaml:"latency" default:"120ms" usage:"SRT receiver latency (TSBPD delay); the larger of this and the sender's is used"`
	PeerIdleTimeout time.Duration `yaml:"peer_idle_timeout" default:"2s" usage:"a publisher silent this long is dropped"`
	UDPBuffer       int           `yaml:"udp_buffer" default:"4194304" usage:"receive buffer of the SRT socket in bytes, shared by all publishers (capped by net.core.rmem_max)"`
	OnConflict      string        `yaml:"on_conflict" default:"refuse" usage:"when a stream already has a publisher: refuse the newcomer or takeover (drop the old one)"`
}

// HTTP configures the origin.
type HTTP struct {
	Listen     string `yaml:"listen" default:":8080" usage:"HTTP listen address (TCP host:port); with TLS also HTTP/3 on the same UDP port"`
	TLSCert    string `yaml:"tls_cert" usage:"PEM certificate: enables HTTPS, HTTP/2 and HTTP/3"`
	TLSKey     string `yaml:"tls_key" usage:"PEM private key for tls_cert"`
	WebDir     string `yaml:"web_dir" default:"web" usage:"directory holding node_modules/hls.js/dist for the player page (relative: to the working directory, then to the executable's ../)"`
	CORSOrigin string `yaml:"cors_origin" default:"*" usage:"Access-Control-Allow-Origin sent to players"`
}

// HLS configures the packager.
type HLS struct {
	SegmentDuration time.Duration `yaml:"segment_duration" default:"2s" usage:"target segment duration (segments are cut on keyframes)"`
	PartDuration    time.Duration `yaml:"part_duration" default:"200ms" usage:"LL-HLS part duration"`
	WindowSegments  int           `yaml:"window_segments" default:"6" usage:"segments kept in the sliding window"`
	Dir             string        `yaml:"dir" usage:"optional directory receiving a copy of segments and playlists"`
	Slate           bool          `yaml:"slate" default:"false" usage:"keep playlists advancing with the last frame and silent audio while the input is quiet (off by default: a standby serving its copy can list a media sequence number for other media than its leader did, see docs/packaging.md)"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level" default:"info" usage:"debug, info, warn or error"`
	Format string `yaml:"format" default:"text" usage:"text or json"`
}

// Runtime tunes the Go runtime.
type Runtime struct {
	// GCPercent: the live heap is mostly the segments of the sliding window,
	// so a lower target than Go's 100 trades little CPU for much less RSS
	// (measured in docs/benchmarks.md).
	GCPercent int `yaml:"gc_percent" default:"25" usage:"Go GC target percentage (GOGC); the GOGC variable, when set, wins"`
}
