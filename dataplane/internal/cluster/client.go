package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/policies/failover"
)

// RedisEndpoint says how to reach the Redis primary: through Sentinel, or
// at one address whose DNS follows the primary (ElastiCache has no Sentinel;
// its primary endpoint moves on failover).
type RedisEndpoint struct {
	Sentinels []string
	Master    string
	Address   string
	Password  string
	TLS       bool
}

// NewRedis returns a go-redis client (Sentinel's failover client when
// sentinels are given) with timeouts short enough that a dead primary costs
// less than one lease renewal.
func NewRedis(e RedisEndpoint, t failover.Timings) (*redis.Client, error) {
	var tlsConf *tls.Config
	if e.TLS {
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	io := t.LeaseRenew / 2
	if e.Address != "" {
		if len(e.Sentinels) > 0 {
			return nil, errors.New("cluster: redis has both sentinels and an address")
		}
		return redis.NewClient(&redis.Options{
			Addr: e.Address, Password: e.Password, TLSConfig: tlsConf,
			DialTimeout: io, ReadTimeout: io, WriteTimeout: io, PoolTimeout: io,
			ContextTimeoutEnabled: true,
			// See below: lease calls retry on their own cadence.
			MaxRetries: -1,
		}), nil
	}
	if len(e.Sentinels) == 0 {
		return nil, errors.New("cluster: redis.sentinels is empty")
	}
	if e.Master == "" {
		return nil, errors.New("cluster: redis.master is empty")
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            e.Master,
		SentinelAddrs:         e.Sentinels,
		Password:              e.Password,
		TLSConfig:             tlsConf,
		DialTimeout:           io,
		ReadTimeout:           io,
		WriteTimeout:          io,
		PoolTimeout:           io,
		ContextTimeoutEnabled: true,
		// Lease calls retry on their own cadence; a hidden retry would only
		// make a renewal arrive later than its local deadline assumes.
		MaxRetries: -1,
	})
	if c == nil {
		return nil, fmt.Errorf("cluster: cannot build a failover client for %q", e.Master)
	}
	return c, nil
}

// ErrStale means Redis answered and this node's token is not (or no longer)
// the current one: it must stop publishing.
var ErrStale = errors.New("cluster: fencing token is stale")

// ErrUnavailable wraps a failure to reach Redis: nothing is known.
type ErrUnavailable struct{ Err error }

func (e ErrUnavailable) Error() string { return "cluster: redis unavailable: " + e.Err.Error() }
func (e ErrUnavailable) Unwrap() error { return e.Err }

// IsUnavailable reports whether err says Redis could not be asked.
func IsUnavailable(err error) bool {
	var u ErrUnavailable
	return errors.As(err, &u)
}

func keyLease(stream string) string { return "zc:{" + stream + "}:lease" }
func keyToken(stream string) string { return "zc:{" + stream + "}:token" }
func keyState(stream string) string { return "zc:{" + stream + "}:state" }
func keyNode(id string) string      { return "zc:node:" + id }

// keySeen is the node's last heartbeat on Redis's clock (ms), kept
// longer than the node's entry (Fencing.RecordFor) so that a survivor can
// still tell how long it has been quiet when it takes its leases over.
func keySeen(id string) string { return "zc:seen:" + id }

// keyFence records that a node was fenced (the token it was fenced under).
func keyFence(id string) string { return "zc:fence:" + id }

// keyZoneFence records that a zone's accelerator endpoint was weighted to 0.
func keyZoneFence(region, zone string) string { return "zc:zonefence:" + region + ":" + zone }

const keyNodes = "zc:nodes"

// classify turns a go-redis error into ErrStale (a verdict) or ErrUnavailable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var re redis.Error
	if errors.As(err, &re) && strings.HasPrefix(re.Error(), "STALE") {
		return fmt.Errorf("%w: %s", ErrStale, re.Error())
	}
	if errors.As(err, &re) && strings.HasPrefix(re.Error(), "MSNBACK") {
		return fmt.Errorf("%w: %s", ErrMSNBack, re.Error())
	}
	return ErrUnavailable{Err: err}
}

// ErrMSNBack refuses a state write whose media sequence is behind the stored one.
var ErrMSNBack = errors.New("cluster: media sequence would go back")

type (
	redisPipeliner = redis.Pipeliner
	mapCmd         = redis.MapStringStringCmd
)
