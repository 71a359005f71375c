package config

import (
	"errors"
	"fmt"
	"net"
)

// Cluster configures the twin-zone coordination; the contract file's form:
//
//	cluster:
//	  quic: {listen: "127.0.0.1:9100"}
//	  tls: {ca: ca.pem, cert: node.pem, key: node-key.pem}
//	  redis: {sentinels: ["127.0.0.1:26379", ...], master: zonecast}
//
// An empty section leaves the node a single, standalone edge.
type Cluster struct {
	QUIC  ClusterQUIC  `yaml:"quic"`
	TLS   ClusterTLS   `yaml:"tls"`
	Redis ClusterRedis `yaml:"redis"`
	// Capacity is what the node announces in the registry: the number of
	// streams it can lead or stand by for.
	Capacity int            `yaml:"capacity" default:"16" usage:"streams this node can lead or stand by for (announced in the registry)"`
	Viewers  ClusterViewers `yaml:"viewers"`
	// AdminToken protects POST /api/v1/drain. admin.token replaces it (and
	// wins when both are set alike); kept so that existing files load.
	AdminToken string `yaml:"admin_token" usage:"older name of admin.token for POST /api/v1/drain; empty (and no admin.token) disables the endpoint"`
}

// ClusterQUIC is the hot-standby relay listener.
type ClusterQUIC struct {
	Listen string `yaml:"listen" usage:"QUIC relay listen address (UDP host:port); empty disables clustering"`
	// Advertise is what other nodes dial. A node listening on every
	// interface (":9100", as on EC2) must not announce "[::]:9100": peers
	// would dial themselves.
	Advertise string `yaml:"advertise" usage:"QUIC relay address other nodes dial (host:port); default: the listen address, or when that is every interface, this host's address on the route to Redis"`
}

// ClusterViewers decides what a node answers for a stream it neither leads
// nor stands by for. Off (the default, and the contract): 404 at
// once, for a CDN whose origin group names the serving nodes. On (what
// provision sets): the node fetches the answer from the leader or the
// standby, because behind an NLB the CDN's requests land on any node.
type ClusterViewers struct {
	Proxy     bool   `yaml:"proxy" usage:"serve streams this node has no role for by fetching from their leader or standby (behind a load balancer); off: 404"`
	Advertise string `yaml:"advertise" usage:"HTTP address other nodes fetch from (host:port); default: http.listen, or when that is every interface, this host's address on the route to Redis"`
}

// ClusterTLS holds the PEM files of the relay's mutual TLS.
type ClusterTLS struct {
	CA   string `yaml:"ca" usage:"PEM CA certificate that signs every node (scripts/certs.sh makes one)"`
	Cert string `yaml:"cert" usage:"PEM certificate of this node"`
	Key  string `yaml:"key" usage:"PEM private key of this node"`
	// PeerName is optional: peers are verified by the CA, and only when it
	// is set also by a name every node certificate carries.
	PeerName string `yaml:"peer_name" usage:"name every peer's certificate must be valid for (empty: any certificate the CA issued; scripts/certs.sh puts zonecast-node in each)"`
}

// ClusterRedis locates the Redis primary: through Sentinel (self-run Redis,
// as in `make run` and the tests), or at one address whose DNS follows the
// primary (ElastiCache's primary endpoint, which has no Sentinel).
type ClusterRedis struct {
	Sentinels []string `yaml:"sentinels" usage:"Redis Sentinel addresses (host:port, comma-separated as a flag)"`
	Master    string   `yaml:"master" default:"zonecast" usage:"Sentinel master name"`
	Address   string   `yaml:"address" usage:"Redis primary endpoint (host:port) when there is no Sentinel, e.g. ElastiCache's primary endpoint"`
	Password  string   `yaml:"password" usage:"Redis AUTH password (ElastiCache auth token)"`
	TLS       bool     `yaml:"tls" usage:"connect to Redis over TLS (ElastiCache in-transit encryption)"`
}

// Enabled reports whether the node runs as part of a cluster.
func (c Cluster) Enabled() bool {
	return c.QUIC.Listen != "" || len(c.Redis.Sentinels) > 0 || c.Redis.Address != ""
}

// Validate reports every problem of an enabled cluster section.
func (c Cluster) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkHostPort(c.QUIC.Listen); err != nil {
		bad("cluster.quic.listen %q: %v", c.QUIC.Listen, err)
	}
	if c.QUIC.Advertise != "" {
		if err := checkHostPort(c.QUIC.Advertise); err != nil {
			bad("cluster.quic.advertise %q: %v", c.QUIC.Advertise, err)
		} else if host, _, _ := net.SplitHostPort(c.QUIC.Advertise); host == "" || net.ParseIP(host).IsUnspecified() {
			bad("cluster.quic.advertise %q: needs a host other nodes can dial", c.QUIC.Advertise)
		}
	}
	if c.Viewers.Advertise != "" {
		if err := checkHostPort(c.Viewers.Advertise); err != nil {
			bad("cluster.viewers.advertise %q: %v", c.Viewers.Advertise, err)
		}
	}
	if c.TLS.CA == "" || c.TLS.Cert == "" || c.TLS.Key == "" {
		bad("cluster.tls needs ca, cert and key (PEM files; scripts/certs.sh makes them)")
	}
	switch {
	case len(c.Redis.Sentinels) == 0 && c.Redis.Address == "":
		bad("cluster.redis.sentinels must list at least one sentinel (or set cluster.redis.address)")
	case len(c.Redis.Sentinels) > 0 && c.Redis.Address != "":
		bad("cluster.redis: set sentinels or address, not both")
	case c.Redis.Address != "":
		if err := checkHostPort(c.Redis.Address); err != nil {
			bad("cluster.redis.address %q: %v", c.Redis.Address, err)
		}
	}
	for i, s := range c.Redis.Sentinels {
		if err := checkHostPort(s); err != nil {
			bad("cluster.redis.sentinels[%d] %q: %v", i, s, err)
		}
	}
	if len(c.Redis.Sentinels) > 0 && c.Redis.Master == "" {
		bad("cluster.redis.master must not be empty")
	}
	if c.Capacity < 1 {
		bad("cluster.capacity %d must be at least 1", c.Capacity)
	}
	return errors.Join(errs...)
}
