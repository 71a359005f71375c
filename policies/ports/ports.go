// Package ports names the network ports zonecast opens, once, for the data
// plane's defaults, the security groups, the accelerator listeners and the
// policy pack's check of what may be open to the world.
package ports

// Port is one port and its transport.
type Port struct {
	Number   int
	Protocol string // "udp" or "tcp"
	Public   bool   // reachable from the internet (through the accelerator)
	Purpose  string
}

var (
	// SRT ingest from broadcasters.
	SRT = Port{Number: 9000, Protocol: "udp", Public: true, Purpose: "SRT ingest"}
	// HTTPS delivery (HTTP/1.1 and HTTP/2) and HTTP/3 over QUIC.
	HTTPS = Port{Number: 443, Protocol: "tcp", Public: true, Purpose: "HLS over HTTP/1.1 and HTTP/2"}
	HTTP3 = Port{Number: 443, Protocol: "udp", Public: true, Purpose: "HLS over HTTP/3"}
	// Relay is the QUIC hot-standby link between twin zones, private to the VPC.
	Relay = Port{Number: 9100, Protocol: "udp", Public: false, Purpose: "QUIC relay between twin zones"}
	// Redis inside the VPC.
	Redis = Port{Number: 6379, Protocol: "tcp", Public: false, Purpose: "Redis"}
	// Admin is the edge's admin listener (plain HTTP on the node's private
	// address): the control API and /metrics, for operators and the
	// platform's back end inside the VPC, never through a load balancer.
	Admin = Port{Number: 9090, Protocol: "tcp", Public: false, Purpose: "admin listener (control API, metrics)"}
)

// All lists every port zonecast uses.
var All = []Port{SRT, HTTPS, HTTP3, Relay, Redis, Admin}

// PublicPorts lists the ports that may be open to the world.
func PublicPorts() []Port {
	var out []Port
	for _, p := range All {
		if p.Public {
			out = append(out, p)
		}
	}
	return out
}
