package cluster

import (
	"fmt"
	"net"
)

// AdvertiseAddr is the relay address this node announces in the registry:
// advertise when set; else the bound listener address when its host is
// specific; else (listening on every interface, as on EC2 with ":9100")
// the local address the kernel would use toward the first reachable of
// toward (the Redis endpoints every node shares, so the address is on a
// network the other nodes reach), with the listener's port.
func AdvertiseAddr(bound, advertise string, toward []string) (string, error) {
	if advertise != "" {
		return advertise, nil
	}
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return "", fmt.Errorf("relay listener address %q: %w", bound, err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return bound, nil
	}
	var errs []error
	for _, t := range toward {
		// A UDP "connection" sends nothing: it only asks the kernel for
		// the route and so the source address.
		c, err := net.Dial("udp", t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		local := c.LocalAddr().(*net.UDPAddr).IP
		c.Close()
		if local.IsUnspecified() {
			continue
		}
		return net.JoinHostPort(local.String(), port), nil
	}
	return "", fmt.Errorf("relay listens on every interface (%s) and no route toward %v gives an address to announce; set cluster.quic.advertise: %v", bound, toward, errs)
}
