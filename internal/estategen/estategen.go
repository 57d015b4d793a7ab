// Package estategen writes large, valid manifest folders for scale and
// invariant tests: one studio and n productions that cycle through the three
// tiers and every way a production can be isolated.
//
// The output is deterministic: the same n and accounts always give the same
// bytes, so a failure seen with a generated estate can be reproduced with
// `go run ./test/gen -n N -accounts A -out DIR`.
package estategen

import (
	"fmt"
	"net/netip"
	"strings"
)

// Fixed accounts and ranges of the generated studio. Production ranges are
// carved from AddressSpace; pool ranges, management and on-premises lie
// outside it, so nothing can overlap.
const (
	Studio            = "acme"
	Region            = "us-west-2"
	ManagementAccount = "111111111111"
	LogArchiveAccount = "222222222222"
	OrganizationID    = "o-a1b2c3d4e5"
	// OrganizationOwner is the organization's management account, which
	// holds nothing of the estate.
	OrganizationOwner = "999999999999"
	ManagementCidr    = "10.0.0.0/16"
	OnPremisesCidr    = "192.168.0.0/16"
	SchedulerPort     = 4433
	LicensePort       = 1715
)

// AddressSpace is where production VPC ranges come from, in order.
var AddressSpace = []netip.Prefix{
	netip.MustParsePrefix("10.16.0.0/12"),
	netip.MustParsePrefix("172.16.0.0/12"),
}

// Sizes of the ranges: Tier 1 productions get a /20, the others a /22.
const (
	tier1Bits = 20
	otherBits = 22
	// Pools are /16s from 10.64.0.0 upwards: 10.64.0.0/16 to 10.255.0.0/16.
	firstPoolOctet = 64
	maxPools       = 256 - firstPoolOctet
)

// Tier returns the tier of the i-th production (0-based): 1, 2, 3, 1, 2, 3...
func Tier(i int) int { return i%3 + 1 }

// Name returns the name of the i-th production (0-based): p0001, p0002...
func Name(i int) string { return fmt.Sprintf("p%04d", i+1) }

// SharedAccount returns the j-th shared account (0-based), the home of Tier 2
// and Tier 3 productions and of one pool each.
func SharedAccount(j int) string { return fmt.Sprintf("4%011d", j+1) }

// DedicatedAccount returns the account of the i-th production when it is
// Tier 1: one account per production (ISE 1.1).
func DedicatedAccount(i int) string { return fmt.Sprintf("3%011d", i+1) }

// PoolCidr returns the VPC range of the j-th shared account's pool.
func PoolCidr(j int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(firstPoolOctet + j), 0, 0}), 16)
}

// Production describes one generated production, for tests that need to
// know what Generate wrote without parsing it again.
type Production struct {
	Name    string
	Tier    int
	Account string
	// Cidr is the production's own VPC range; invalid when it joins its
	// account's pool.
	Cidr          netip.Prefix
	DedicatedVpc  bool // Tier 3 asking for a VPC of its own
	DedicatedKeys bool // Tier 3 asking for keys of its own
	NoDataEvents  bool // Tier 3 turning S3 data events off
}

// Plan returns the productions Generate writes. It panics when the estate
// cannot be built: accounts is negative or above 192 (the pool ranges), there
// are Tier 2 or 3 productions but no shared account, or the address space is
// exhausted (n well above 1000).
func Plan(n, accounts int) []Production {
	if n < 0 {
		panic(fmt.Sprintf("estategen: n = %d: want 0 or more productions", n))
	}
	if accounts < 0 || accounts > maxPools {
		panic(fmt.Sprintf("estategen: accounts = %d: want 0 to %d shared accounts", accounts, maxPools))
	}
	if n > 1 && accounts == 0 {
		panic("estategen: Tier 2 and 3 productions need at least one shared account")
	}
	alloc := newAllocator()
	out := make([]Production, n)
	tier2, tier3, dedicated3 := 0, 0, 0
	for i := range out {
		p := Production{Name: Name(i), Tier: Tier(i)}
		switch p.Tier {
		case 1:
			p.Account = DedicatedAccount(i)
			p.Cidr = alloc.low(tier1Bits)
		case 2:
			p.Account = SharedAccount(tier2 % accounts)
			tier2++
			p.Cidr = alloc.high(otherBits)
		case 3:
			p.Account = SharedAccount(tier3 % accounts)
			// Half of the Tier 3 productions join their account's pool; the
			// rest ask for a VPC of their own, every other one with its own
			// keys too. Every account gets both kinds.
			if !pooled(tier3, accounts) {
				p.DedicatedVpc = true
				p.DedicatedKeys = dedicated3%2 == 1
				p.Cidr = alloc.high(otherBits)
				dedicated3++
			}
			// Data events are optional for Tier 3 only.
			p.NoDataEvents = tier3%4 == 2
			tier3++
		}
		out[i] = p
	}
	return out
}

// pooled says whether the k-th Tier 3 production (k-th also in round-robin
// account order) joins its account's pool. With an odd number of accounts
// alternating reaches every account with both kinds; with an even number the
// pattern flips on each round.
func pooled(k, accounts int) bool {
	if accounts%2 == 1 {
		return k%2 == 0
	}
	return (k+k/accounts)%2 == 0
}

// Generate returns a valid manifest folder (file name to YAML) with n
// productions. Tier 1 productions each have an account of their own; Tier 2
// and Tier 3 productions are spread round-robin across `accounts` shared
// accounts, each of which has a pool.
func Generate(n int, accounts int) map[string][]byte {
	plan := Plan(n, accounts)
	files := map[string][]byte{"studio.yaml": studio(accounts)}
	for _, p := range plan {
		files[p.Name+".yaml"] = production(p)
	}
	return files
}

func studio(accounts int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by estategen: a studio for scale tests.
studio: %s
region: %s
availabilityZones: [%sa, %sb]
managementAccount: "%s"
logArchiveAccount: "%s"
organizationId: %s
organizationManagementAccount: "%s"
managementVpcCidr: %s
onPremises:
  cidrs: [%s]
  vpn:
    customerGatewayIp: 203.0.113.10
    bgpAsn: 65000
transitGatewayAsn: 64512
adminSourceCidrs: [198.51.100.0/24]
licenseServers:
  - name: houdini
    cidr: 203.0.113.50/32
    port: %d
scheduler:
  ports: [%d]
`, Studio, Region, Region, Region, ManagementAccount, LogArchiveAccount, OrganizationID, OrganizationOwner,
		ManagementCidr, OnPremisesCidr, LicensePort, SchedulerPort)
	if accounts > 0 {
		b.WriteString("pools:\n")
		for j := 0; j < accounts; j++ {
			fmt.Fprintf(&b, "  - account: \"%s\"\n    region: %s\n    vpcCidr: %s\n", SharedAccount(j), Region, PoolCidr(j))
		}
	}
	b.WriteString("alerts:\n  emails: [security@example.com]\n")
	return []byte(b.String())
}

func production(p Production) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `# Generated by estategen: tier %d.
name: %s
tier: %d
account: "%s"
region: %s
`, p.Tier, p.Name, p.Tier, p.Account, Region)
	if p.Cidr.IsValid() {
		fmt.Fprintf(&b, "vpcCidr: %s\n", p.Cidr)
	}
	purchase := "spot"
	if p.Tier == 3 {
		purchase = "on-demand"
	}
	fmt.Fprintf(&b, `costCentre: CC-%s
owner: %s-leads@example.com
startDate: 2026-01-05
endDate: 2026-12-18
render:
  ami: ssm:/%s/render/ami
  instanceTypes: [c6i.32xlarge, m6i.32xlarge]
  purchase: %s
  rootVolumeGiB: 100
`, strings.TrimPrefix(p.Name, "p"), p.Name, Studio, purchase)
	if p.Tier != 3 {
		b.WriteString("  scratchVolumeGiB: 500\n")
	}
	if p.DedicatedVpc || p.DedicatedKeys {
		b.WriteString("isolation:\n")
		if p.DedicatedVpc {
			b.WriteString("  dedicatedVpc: true\n")
		}
		if p.DedicatedKeys {
			b.WriteString("  dedicatedKeys: true\n")
		}
	}
	if p.NoDataEvents {
		b.WriteString("audit:\n  s3DataEvents: false\n")
	}
	return []byte(b.String())
}

// allocator hands out aligned, non-overlapping ranges from AddressSpace:
// large blocks from the bottom, small ones from the top, so mixing sizes
// wastes no space on alignment.
type allocator struct {
	lo, hi uint64 // offsets into the concatenated address space
}

func newAllocator() *allocator {
	var size uint64
	for _, p := range AddressSpace {
		size += 1 << (32 - p.Bits())
	}
	return &allocator{lo: 0, hi: size}
}

func (a *allocator) low(bits int) netip.Prefix {
	block := uint64(1) << (32 - bits)
	start := (a.lo + block - 1) / block * block
	if start+block > a.hi {
		panic(fmt.Sprintf("estategen: address space exhausted allocating a /%d", bits))
	}
	a.lo = start + block
	return a.prefix(start, bits)
}

func (a *allocator) high(bits int) netip.Prefix {
	block := uint64(1) << (32 - bits)
	if a.hi < block || (a.hi-block)/block*block < a.lo {
		panic(fmt.Sprintf("estategen: address space exhausted allocating a /%d", bits))
	}
	start := (a.hi - block) / block * block
	a.hi = start
	return a.prefix(start, bits)
}

// prefix maps an offset into the concatenated space back to an address. The
// spaces are /12s and blocks at most /20, so no block straddles two spaces.
func (a *allocator) prefix(off uint64, bits int) netip.Prefix {
	for _, p := range AddressSpace {
		size := uint64(1) << (32 - p.Bits())
		if off < size {
			b := p.Addr().As4()
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			v += uint32(off)
			return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
		}
		off -= size
	}
	panic("estategen: offset outside the address space")
}
