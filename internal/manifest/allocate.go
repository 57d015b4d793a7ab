package manifest

import (
	"net/netip"
	"slices"
)

// privateSpaces are where FreeRange looks, in order: the RFC 1918 ranges.
var privateSpaces = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// Taken are the ranges the estate holds: the management VPC, on-premises,
// pools, productions and retired productions.
func (e *Estate) Taken() []netip.Prefix {
	s := &e.Studio
	out := []netip.Prefix{s.ManagementVpcCidr}
	out = append(out, s.OnPremises.Cidrs...)
	for _, p := range s.Pools {
		out = append(out, p.VpcCidr)
	}
	for _, p := range e.Productions {
		out = append(out, p.VpcCidr)
	}
	for _, r := range s.Retired {
		out = append(out, r.VpcCidr)
	}
	return slices.DeleteFunc(out, func(p netip.Prefix) bool { return !p.IsValid() })
}

// FreeRange is the first range of the given size, in the RFC 1918 ranges in
// order and aligned on its size, that overlaps nothing the estate holds.
func (e *Estate) FreeRange(bits int) (netip.Prefix, bool) {
	taken := e.Taken()
	for _, space := range privateSpaces {
		if bits < space.Bits() {
			continue
		}
		for c := netip.PrefixFrom(space.Addr(), bits); c.IsValid() && space.Contains(c.Addr()); c = next(c) {
			if !slices.ContainsFunc(taken, c.Overlaps) {
				return c, true
			}
		}
	}
	return netip.Prefix{}, false
}

// next is the block of the same size after p, or an invalid prefix at the
// end of the address space.
func next(p netip.Prefix) netip.Prefix {
	last := lastAddr(p).Next()
	if !last.IsValid() {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(last, p.Bits())
}
