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
	// OriginSecrets are the values of the CDN's origin secret the edges
	// accept (secrets; the first is the one CloudFront sends, a second one
	// is accepted during a rotation); nil or empty: no check.
	OriginSecrets pulumi.StringArrayInput
	// AdminToken is the control API's bearer token (a secret); nil: the
	// API refuses every request that changes a stream.
	AdminToken pulumi.StringInput
	// Catalog is the stream catalog's table and the region of the replica
	// the nodes read (their own); nil Table: the stream list alone.
	Catalog CatalogSettings
	// Recording is the region's recording bucket; nil Bucket: no recording.
	Recording RecordingSettings
	// EndpointGroup is the ARN of the region's accelerator endpoint group
	// on the SRT listener, in which fast fencing sets a lost zone's weight
	// to 0 (the region creates it once every zone's load balancer exists).
	// Required while fencing is enabled.
	EndpointGroup pulumi.StringInput
	// LoadGauge, when set, names a Prometheus gauge (0–100) on the edge's
	// /metrics that the node publishes as its load. Empty: the load is the
	// share of the node's transcode capacity in use,
	// 100 × ActiveLaddersGauge / CapacityLaddersGauge.
	LoadGauge string
}

// CatalogSettings locate the stream catalog's replica a node reads.
type CatalogSettings struct {
	Table  pulumi.StringInput
	Region string
}

// RecordingSettings locate the region's recording bucket.
type RecordingSettings struct {
	Bucket pulumi.StringInput
	Region string
	// Prefix is the key prefix of every recorded object; the CDN's /vod/*
	// behaviour asks the bucket for the viewer's path, so it is "vod".
	Prefix string
}

// Services are what a node reaches besides its zone's Redis, resolved:
// every field is optional.
type Services struct {
	OriginSecrets                    []string
	AdminToken                       string
	CatalogTable, CatalogRegion      string
	RecordingBucket                  string
	RecordingRegion, RecordingPrefix string
	// Fencing is what a node needs to fence another node of its zone, or
	// its zone, with Redis's agreement (see Fencing).
	Fencing Fencing
}

// Fencing locates what fast fencing acts on: the node's own zone's load
// balancer target groups (from which a dead node's instance is
// deregistered), the zone's load balancer as the accelerator knows it (its
// endpoint id) and the region's endpoint group (where a lost zone's weight
// goes to 0). The node publishes them in its registry record, so that a
// survivor in any zone can fence it.
type Fencing struct {
	Enabled       bool
	TargetGroups  []string
	Endpoint      string
	EndpointGroup string
}

func (f Fencing) validate() error {
	if !f.Enabled {
		return nil
	}
	if len(f.TargetGroups) == 0 || f.Endpoint == "" || f.EndpointGroup == "" {
		return fmt.Errorf("fencing needs the zone's target groups, its load balancer and the region's endpoint group")
	}
	for _, arn := range append([]string{f.Endpoint, f.EndpointGroup}, f.TargetGroups...) {
		if !strings.HasPrefix(arn, "arn:") || strings.ContainsAny(arn, ", \t") {
			return fmt.Errorf("fencing: %q is not an ARN", arn)
		}
	}
	return nil
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
	case e.RedisAddress == nil || e.RedisAuthToken == nil:
		return fmt.Errorf("the Redis address and Redis auth token are required")
	case e.Streams == nil && e.Catalog.Table == nil:
		return fmt.Errorf("the edge needs a stream list or the stream catalog")
	case (e.Catalog.Table != nil) != (e.Catalog.Region != ""):
		return fmt.Errorf("the stream catalog needs its table and its region")
	case (e.Recording.Bucket != nil) != (e.Recording.Region != ""):
		return fmt.Errorf("the recording bucket needs its name and its region")
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
	// SpoolDir is where recorded segments wait while S3 is away: on the
	// node's own disk, which outlives an edge restart.
	SpoolDir = "/var/lib/zonecast/spool"
)

// AdminListenVar is the setting the boot script appends with the node's
// private address (known only then): the admin listener is never on a
// public address and never behind the load balancers.
const AdminListenVar = "ZONECAST_ADMIN_LISTEN"

// AdminListen is the admin listener's address on a node's private address.
func AdminListen(privateIP string) string {
	return privateIP + ":" + strconv.Itoa(ports.Admin.Number)
}

// SSM parameter values: at most 4 KB in the Standard tier, 8 KB in the
// Advanced tier.
const (
	StandardParameterBytes = 4096
	AdvancedParameterBytes = 8192
)

// EnvFile renders the edge's environment file (systemd EnvironmentFile):
// every edge setting is also a ZONECAST_* variable (dataplane/internal/config),
// so one flat file configures the node. The node appends its own
// ZONECAST_NODE_ID and AdminListenVar at boot.
func EnvFile(region, zone, redisAddress, redisToken, streams string, t failover.Timings, s Services) (string, error) {
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
		// Only the CDN's requests carry the header; the edge refuses the
		// rest with 403 once secrets are set.
		"ZONECAST_ORIGIN_SECRET_HEADER": OriginSecretHeader,
	}
	if streams != "" {
		vars["ZONECAST_STREAMS"] = streams
	}
	if len(s.OriginSecrets) > 0 {
		for _, v := range s.OriginSecrets {
			if v == "" || strings.ContainsAny(v, ", \t") {
				return "", fmt.Errorf("an origin secret is empty or holds a comma or a space (the edge's list separator)")
			}
		}
		vars["ZONECAST_ORIGIN_SECRETS"] = strings.Join(s.OriginSecrets, ",")
	}
	if s.AdminToken != "" {
		vars["ZONECAST_ADMIN_TOKEN"] = s.AdminToken
	}
	if s.CatalogTable != "" {
		// A miss is a strongly consistent read of the node's own
		// region's replica.
		vars["ZONECAST_CATALOG_DYNAMODB_TABLE"] = s.CatalogTable
		vars["ZONECAST_CATALOG_DYNAMODB_REGION"] = s.CatalogRegion
	}
	if s.RecordingBucket != "" {
		vars["ZONECAST_RECORDING_BUCKET"] = s.RecordingBucket
		vars["ZONECAST_RECORDING_REGION"] = s.RecordingRegion
		vars["ZONECAST_RECORDING_PREFIX"] = s.RecordingPrefix
		vars["ZONECAST_RECORDING_SPOOL_DIR"] = SpoolDir
	}
	if err := s.Fencing.validate(); err != nil {
		return "", fmt.Errorf("zone %s: %w", zone, err)
	}
	vars["ZONECAST_FENCING_ENABLED"] = strconv.FormatBool(s.Fencing.Enabled)
	if s.Fencing.Enabled {
		vars["ZONECAST_FENCING_TARGET_GROUPS"] = strings.Join(s.Fencing.TargetGroups, ",")
		vars["ZONECAST_FENCING_ENDPOINT"] = s.Fencing.Endpoint
		vars["ZONECAST_FENCING_ENDPOINT_GROUP"] = s.Fencing.EndpointGroup
	}
	if streams == "" && s.CatalogTable == "" {
		return "", fmt.Errorf("zone %s: the edges need zonecast:streams or the stream catalog", zone)
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

// OriginSecretHeader is the header CloudFront sends the origin secret in
// (provision/global's distribution uses the edge's default too).
const OriginSecretHeader = "X-Origin-Secret"

// envFileOutput renders EnvFile once the Redis endpoint, the shared
// services' names, the secrets and what fencing acts on are known; the
// result stays secret.
func envFileOutput(args *Args, nlb *loadBalancer) pulumi.StringOutput {
	e := args.Edge
	or := func(v pulumi.StringInput) pulumi.StringInput {
		if v == nil {
			return pulumi.String("")
		}
		return v
	}
	var secrets pulumi.StringArrayInput = pulumi.StringArray{}
	if e.OriginSecrets != nil {
		secrets = e.OriginSecrets
	}
	return pulumi.All(e.RedisAddress, e.RedisAuthToken, or(e.Streams), secrets, or(e.AdminToken),
		or(e.Catalog.Table), or(e.Recording.Bucket), nlb.targetGroupArns, nlb.arn, or(e.EndpointGroup)).ApplyT(
		func(v []any) (string, error) {
			return EnvFile(args.Region, args.Key, v[0].(string), v[1].(string), v[2].(string), *args.Timings, Services{
				OriginSecrets:   v[3].([]string),
				AdminToken:      v[4].(string),
				CatalogTable:    v[5].(string),
				CatalogRegion:   e.Catalog.Region,
				RecordingBucket: v[6].(string),
				RecordingRegion: e.Recording.Region,
				RecordingPrefix: e.Recording.Prefix,
				Fencing: Fencing{
					Enabled:       args.Fencing.Enabled,
					TargetGroups:  v[7].([]string),
					Endpoint:      v[8].(string),
					EndpointGroup: v[9].(string),
				},
			})
		}).(pulumi.StringOutput)
}
