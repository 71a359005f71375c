package zone

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/relaytls"
	"github.com/zonecast/zonecast/provision/release"
)

// EdgeSettings is what a zone hands to its `edge` daemons.
type EdgeSettings struct {
	// Release is the edge release every node runs: its version, checksum
	// and download address (`make release`). Part of the user data, so a
	// new release is a new launch template version.
	Release release.Pin
	// Streams is the edge's stream list in its flag form
	// "name[:passphrase],…" — a Pulumi secret, since it holds passphrases.
	Streams pulumi.StringInput
	// RedisAddress is the zone's Redis primary endpoint (host), and
	// RedisAuthToken its secret token.
	RedisAddress   pulumi.StringInput
	RedisAuthToken pulumi.StringInput
	// RelayTLS names the SSM parameters holding the relay's CA,
	// certificate and key (the region creates them from the stack's
	// secrets); nodes copy them to RelayCAFile, RelayCertFile, RelayKeyFile.
	RelayTLS RelayTLSParameters
	// LoadGauge, when set, names a Prometheus gauge (0–100) on the edge's
	// /metrics that the node publishes as its load. Empty: the load is the
	// share of the node's transcode capacity in use,
	// 100 × ActiveLaddersGauge / CapacityLaddersGauge.
	LoadGauge string
}

// The edge's transcode gauges the default load is computed from
// (dataplane/internal/transcode/metrics.go).
const (
	ActiveLaddersGauge   = "zonecast_transcode_ladders_active"
	CapacityLaddersGauge = "zonecast_transcode_capacity_ladders"
)

// RelayTLSParameters are SSM parameter names.
type RelayTLSParameters struct {
	CA, Cert, Key string
}

func (e *EdgeSettings) validate() error {
	relay := []string{e.RelayTLS.CA, e.RelayTLS.Cert, e.RelayTLS.Key}
	switch {
	case strings.ContainsAny(e.LoadGauge, "'\"\n $`\\{}"):
		return fmt.Errorf("load gauge %q is not a metric name", e.LoadGauge)
	case e.Streams == nil || e.RedisAddress == nil || e.RedisAuthToken == nil:
		return fmt.Errorf("edge streams, Redis address and Redis auth token are required")
	case slices.Contains(relay, ""):
		return fmt.Errorf("the relay TLS parameters (CA, certificate, key) are required")
	case strings.ContainsAny(strings.Join(relay, ""), "'\"\n $`\\"):
		return fmt.Errorf("relay TLS parameter names hold characters a shell would interpret")
	}
	return e.Release.Validate()
}

// Files the boot script installs from SSM (see docs/provision.md): the
// HTTPS certificate and key the operator put there, and the relay's
// mutual-TLS material the region created from the stack's secrets.
const (
	TLSCertFile   = "/etc/zonecast/tls/cert.pem"
	TLSKeyFile    = "/etc/zonecast/tls/key.pem"
	RelayCAFile   = "/etc/zonecast/relay/ca.pem"
	RelayCertFile = "/etc/zonecast/relay/cert.pem"
	RelayKeyFile  = "/etc/zonecast/relay/key.pem"
)

// SSM parameter values: at most 4 KB in the Standard tier, 8 KB in the
// Advanced tier.
const (
	StandardParameterBytes = 4096
	AdvancedParameterBytes = 8192
)

// EnvFile renders the edge's environment file (systemd EnvironmentFile):
// every edge setting is also a ZONECAST_* variable (dataplane/internal/config),
// so one flat file configures the node. The node appends its own
// ZONECAST_NODE_ID at boot.
func EnvFile(region, zone, redisAddress, redisToken, streams string, t failover.Timings) (string, error) {
	vars := map[string]string{
		"ZONECAST_NODE_REGION":          region,
		"ZONECAST_NODE_ZONE":            zone,
		"ZONECAST_SRT_LISTEN":           ":" + strconv.Itoa(ports.SRT.Number),
		"ZONECAST_HTTP_LISTEN":          ":" + strconv.Itoa(ports.HTTPS.Number),
		"ZONECAST_HTTP_TLS_CERT":        TLSCertFile,
		"ZONECAST_HTTP_TLS_KEY":         TLSKeyFile,
		"ZONECAST_HLS_SEGMENT_DURATION": t.SegmentDuration.String(),
		"ZONECAST_HLS_PART_DURATION":    t.PartDuration.String(),
		"ZONECAST_TRANSCODE_ENABLED":    "true",
		"ZONECAST_CLUSTER_QUIC_LISTEN":  ":" + strconv.Itoa(ports.Relay.Number),
		// The relay's mutual TLS; peers must carry the stack's node name.
		"ZONECAST_CLUSTER_TLS_CA":        RelayCAFile,
		"ZONECAST_CLUSTER_TLS_CERT":      RelayCertFile,
		"ZONECAST_CLUSTER_TLS_KEY":       RelayKeyFile,
		"ZONECAST_CLUSTER_TLS_PEER_NAME": relaytls.PeerName,
		// The NLB spreads the CDN's requests over every node of the zone:
		// a node with no role for a stream fetches it from the leader.
		"ZONECAST_CLUSTER_VIEWERS_PROXY": "true",
		"ZONECAST_CLUSTER_REDIS_ADDRESS": redisAddress + ":" + strconv.Itoa(ports.Redis.Number),
		// ElastiCache has no Sentinel and requires TLS and AUTH.
		"ZONECAST_CLUSTER_REDIS_PASSWORD": redisToken,
		"ZONECAST_CLUSTER_REDIS_TLS":      "true",
		"ZONECAST_STREAMS":                streams,
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# zonecast edge environment (generated by provision/zone; do not edit on the node)\n")
	for _, k := range keys {
		v := vars[k]
		if strings.ContainsAny(v, "\n\r\x00") {
			return "", fmt.Errorf("edge setting %s holds a line break", k)
		}
		// systemd EnvironmentFile: double quotes, backslash escapes.
		v = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)
		fmt.Fprintf(&b, "%s=\"%s\"\n", k, v)
	}
	if n := b.Len(); n > AdvancedParameterBytes {
		return "", fmt.Errorf("the edge environment of zone %s is %d bytes; its SSM parameter (Advanced tier) holds %d: "+
			"the stream list (zonecast:streams, %d bytes) is too long for the environment", zone, n, AdvancedParameterBytes, len(streams))
	}
	return b.String(), nil
}

// envFileOutput renders EnvFile once the Redis endpoint and the secrets are
// known; the result stays secret.
func envFileOutput(args *Args) pulumi.StringOutput {
	return pulumi.All(args.Edge.RedisAddress, args.Edge.RedisAuthToken, args.Edge.Streams).ApplyT(
		func(v []any) (string, error) {
			return EnvFile(args.Region, args.Key, v[0].(string), v[1].(string), v[2].(string), *args.Timings)
		}).(pulumi.StringOutput)
}
