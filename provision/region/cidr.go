package region

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Subnet carves the index-th subnet of newBits more bits out of base, like
// Terraform's cidrsubnet (hand-written: the pinned libraries have none and
// it is a few lines of IPv4 arithmetic).
func Subnet(base string, newBits, index int) (string, error) {
	p, err := netip.ParsePrefix(base)
	if err != nil {
		return "", fmt.Errorf("CIDR %q: %w", base, err)
	}
	if !p.Addr().Is4() {
		return "", fmt.Errorf("CIDR %q: only IPv4 VPCs are supported", base)
	}
	p = p.Masked()
	bits := p.Bits() + newBits
	if newBits <= 0 || bits > 28 || index < 0 || index >= 1<<newBits {
		return "", fmt.Errorf("CIDR %q: cannot carve subnet %d of /%d", base, index, bits)
	}
	a := p.Addr().As4()
	n := binary.BigEndian.Uint32(a[:]) | uint32(index)<<(32-bits)
	binary.BigEndian.PutUint32(a[:], n)
	return netip.PrefixFrom(netip.AddrFrom4(a), bits).String(), nil
}
