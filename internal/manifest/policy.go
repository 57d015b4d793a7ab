package manifest

import (
	"maps"
	"net/netip"
	"slices"
)

// TierPolicy is what one tier requires at the least. It is the only place that
// decides what a tier means; everything downstream reads a Resolved plan.
type TierPolicy struct {
	Tier  int64
	Label string
	// DedicatedAccount: the account is the production's alone (ISE 1.1).
	DedicatedAccount bool
	// DedicatedVpc: the production has a VPC of its own (ISE 2.4); otherwise
	// it joins the pooled VPC of its account and region.
	DedicatedVpc bool
	// Dedicated keys by purpose (ISE 9.1); a shared purpose uses the pool's key.
	DedicatedRootKey, DedicatedAssetKey, DedicatedLoggingKey bool
	// DenyOtherNetworks: the production network's ACLs deny every RFC 1918
	// range after their explicit allows (management, on-premises), so no
	// other production of any tier is reachable (ISE 2.6). DESIGN.md's
	// table asks less of lower tiers (Tier 3 need deny only Tier 1); denying
	// by tier would mean naming every other production's range in every
	// ACL, which grows with the estate, so each tier gets the stricter rule.
	DenyOtherNetworks bool
	// S3DataEvents: the asset bucket's object-level API calls are recorded by
	// the central trail (ISE 5.3); when false the manifest may turn them off.
	S3DataEvents bool
}

// Tiers is the tier table of DESIGN.md.
var Tiers = map[int64]TierPolicy{
	1: {
		Tier: 1, Label: "pre-release, high security",
		DedicatedAccount: true, DedicatedVpc: true,
		DedicatedRootKey: true, DedicatedAssetKey: true, DedicatedLoggingKey: true,
		DenyOtherNetworks: true,
		S3DataEvents:      true,
	},
	2: {
		Tier: 2, Label: "post-release, mid security",
		DedicatedVpc:      true,
		DedicatedAssetKey: true,
		DenyOtherNetworks: true,
		S3DataEvents:      true,
	},
	3: {
		Tier: 3, Label: "general security",
		DenyOtherNetworks: true,
	},
}

// PrivateRanges are the RFC 1918 ranges. Every production, pool and the
// management VPC live inside them, so denying them after the explicit allows
// denies every other production with three rules, however many there are.
var PrivateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// DenyCidrs are the ranges a production network's ACLs deny after the
// allows (ISE 2.6). Every production lies inside the RFC 1918 ranges, so
// denying them denies every other production with three rules, however
// large the estate.
func (p TierPolicy) DenyCidrs() []netip.Prefix {
	if !p.DenyOtherNetworks {
		return nil
	}
	return append([]netip.Prefix(nil), PrivateRanges...)
}

// PoolTier is the row of the tier table a pool's VPC and keys follow: pools
// hold only Tier 3 productions.
const PoolTier = 3

// Resolved is one production with every tier decision made. Constructs read
// this, never the tier.
type Resolved struct {
	Production
	Policy TierPolicy
	// Pool is the shared VPC and key set the production uses, or nil.
	Pool *Pool
	// PooledVpc: the production runs in Pool's VPC rather than its own.
	PooledVpc bool
	// Pooled keys by purpose: the key comes from Pool's key set.
	PooledRootKey, PooledAssetKey, PooledLoggingKey bool
	// S3DataEvents: the trail records the asset bucket's data events.
	S3DataEvents bool
	// Profiles are the render profiles by name; the render block is "default".
	Profiles []NamedProfile
}

// NamedProfile is a render profile with its name.
type NamedProfile struct {
	Name string
	RenderProfile
}

// DefaultProfile is the name of the profile written as the render block.
const DefaultProfile = "default"

// Resolve applies the tier table to a production. It reports which isolation
// the production gets; Validate has already refused anything weaker than the
// tier, so Resolve never weakens a requirement.
func Resolve(s *Studio, p Production) Resolved {
	pol := Tiers[p.Tier]
	r := Resolved{Production: p, Policy: pol, Pool: s.PoolFor(p.Account, p.Region)}
	shareable := r.Pool != nil && !p.Isolation.DedicatedKeys
	r.PooledVpc = r.Pool != nil && !pol.DedicatedVpc && !p.Isolation.DedicatedVpc
	r.PooledRootKey = shareable && !pol.DedicatedRootKey
	r.PooledAssetKey = shareable && !pol.DedicatedAssetKey
	r.PooledLoggingKey = shareable && !pol.DedicatedLoggingKey
	r.S3DataEvents = pol.S3DataEvents || p.Audit.S3DataEvents
	if p.Render.Ami != "" {
		r.Profiles = append(r.Profiles, NamedProfile{DefaultProfile, p.Render})
	}
	for _, name := range slices.Sorted(maps.Keys(p.RenderProfiles)) {
		r.Profiles = append(r.Profiles, NamedProfile{name, p.RenderProfiles[name]})
	}
	return r
}

// PoolFor returns the pool of an account and region, or nil.
func (s *Studio) PoolFor(account, region string) *Pool {
	for i := range s.Pools {
		if s.Pools[i].Account == account && s.Pools[i].Region == region {
			return &s.Pools[i]
		}
	}
	return nil
}

// OrganizationArn is the ARN AWS RAM shares with, or "" without an
// organization.
func (s *Studio) OrganizationArn() string {
	if s.OrganizationID == "" {
		return ""
	}
	return "arn:aws:organizations::" + s.OrganizationOwner() + ":organization/" + s.OrganizationID
}

// OrganizationOwner is the organization's management account: it names the
// organization and owns an organization trail, also one created by a
// delegated administrator. "" without an organization.
func (s *Studio) OrganizationOwner() string {
	if s.OrganizationID == "" {
		return ""
	}
	return s.OrganizationManagementAccount
}

// LogArchive is the account that holds the central trail.
func (s *Studio) LogArchive() string {
	if s.LogArchiveAccount != "" {
		return s.LogArchiveAccount
	}
	return s.ManagementAccount
}
