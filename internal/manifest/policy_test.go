package manifest

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/renderenv/renderenv/internal/fixtures"
)

// estateOf loads an edited base estate that must be valid.
func estateOf(t *testing.T, edits ...edit) *Estate {
	t.Helper()
	est, errs := Load(edited(t, edits), label)
	if len(errs) > 0 {
		t.Fatalf("estate is invalid:\n%v", errs)
	}
	return est
}

// resolved returns the resolved plan of the named production.
func resolved(t *testing.T, est *Estate, name string) Resolved {
	t.Helper()
	for _, r := range est.Resolved() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no production %s", name)
	return Resolved{}
}

// pooled lists what a plan takes from its pool, for readable failures.
func pooled(r Resolved) []string {
	var out []string
	for _, p := range []struct {
		name string
		on   bool
	}{
		{"vpc", r.PooledVpc}, {"root key", r.PooledRootKey}, {"asset key", r.PooledAssetKey}, {"logging key", r.PooledLoggingKey},
	} {
		if p.on {
			out = append(out, p.name)
		}
	}
	return out
}

func assertPooled(t *testing.T, r Resolved, want ...string) {
	t.Helper()
	if got := pooled(r); !slices.Equal(got, want) {
		t.Errorf("%s (tier %d) pools %v, want %v", r.Name, r.Tier, got, want)
	}
}

func TestTierTableHasTiers1To3(t *testing.T) {
	for _, tier := range []int64{1, 2, 3} {
		pol, ok := Tiers[tier]
		if !ok {
			t.Fatalf("no policy for tier %d", tier)
		}
		if pol.Tier != tier || pol.Label == "" {
			t.Errorf("Tiers[%d] = tier %d, label %q", tier, pol.Tier, pol.Label)
		}
	}
	if len(Tiers) != 3 {
		t.Errorf("Tiers has %d entries, want 3", len(Tiers))
	}
}

func TestTier1RequiresDedicatedEverything(t *testing.T) {
	pol := Tiers[1]
	if !pol.DedicatedAccount || !pol.DedicatedVpc || !pol.DedicatedRootKey || !pol.DedicatedAssetKey || !pol.DedicatedLoggingKey || !pol.S3DataEvents {
		t.Errorf("tier 1 policy %+v: want every dedicated flag and S3 data events", pol)
	}
	r := resolved(t, estateOf(t), "nightfall")
	assertPooled(t, r)
	if !r.S3DataEvents {
		t.Error("tier 1 production without S3 data events")
	}
	// Even next to a pool, and with a manifest that asks for nothing, a
	// tier 1 plan takes nothing from it.
	s := &Studio{Pools: []Pool{{Account: "333333333333", Region: "us-west-2"}}}
	r = Resolve(s, Production{Name: "x", Tier: 1, Account: "333333333333", Region: "us-west-2"})
	assertPooled(t, r)
	if !r.S3DataEvents {
		t.Error("tier 1 plan turned S3 data events off")
	}
}

func TestTier2HasDedicatedAssetKey(t *testing.T) {
	pol := Tiers[2]
	if pol.DedicatedAccount || !pol.DedicatedVpc || pol.DedicatedRootKey || !pol.DedicatedAssetKey || pol.DedicatedLoggingKey || !pol.S3DataEvents {
		t.Errorf("tier 2 policy %+v: want dedicated VPC and asset key, shareable account, root and logging keys, S3 data events", pol)
	}
	// Alone in its account there is no pool to share from.
	assertPooled(t, resolved(t, estateOf(t), "harbour"))
	// In a pool's account it shares root and logging keys, never the asset
	// key or the VPC.
	est := estateOf(t, replace("harbour.yaml", `account: "444444444444"`, `account: "555555555555"`))
	r := resolved(t, est, "harbour")
	if r.Pool == nil || r.Pool.Account != "555555555555" {
		t.Fatalf("harbour in the pool account has pool %v", r.Pool)
	}
	assertPooled(t, r, "root key", "logging key")
	// Asking for dedicated keys takes nothing from the pool.
	est = estateOf(t,
		replace("harbour.yaml", `account: "444444444444"`, `account: "555555555555"`),
		appendTo("harbour.yaml", "isolation:\n  dedicatedKeys: true\n"))
	assertPooled(t, resolved(t, est, "harbour"))
}

func TestTier3PooledProductionSharesPoolKeysAndVpc(t *testing.T) {
	est := estateOf(t)
	r := resolved(t, est, "brightside")
	if r.Pool != &est.Studio.Pools[0] {
		t.Fatalf("brightside pool = %v, want the studio's pool %v", r.Pool, est.Studio.Pools[0])
	}
	assertPooled(t, r, "vpc", "root key", "asset key", "logging key")
	if r.VpcCidr.IsValid() {
		t.Errorf("pooled production has a VPC CIDR of its own: %s", r.VpcCidr)
	}
}

func TestTier3DedicatedKeysOptOutOfPool(t *testing.T) {
	est := estateOf(t)
	// lighthouse asks for its own VPC and keys in the pool's account.
	r := resolved(t, est, "lighthouse")
	if r.Pool == nil {
		t.Fatal("lighthouse is in the pool account but has no pool")
	}
	assertPooled(t, r)
	// Dedicated keys alone keep the pooled VPC.
	est = estateOf(t, appendTo("brightside.yaml", "isolation:\n  dedicatedKeys: true\n"))
	assertPooled(t, resolved(t, est, "brightside"), "vpc")
	// A dedicated VPC alone keeps the pooled keys.
	est = estateOf(t, appendTo("brightside.yaml", "vpcCidr: 10.50.0.0/22\nisolation:\n  dedicatedVpc: true\n"))
	assertPooled(t, resolved(t, est, "brightside"), "root key", "asset key", "logging key")
}

// TestIsolationOnlyEverAddsIsolation: whatever a manifest asks for, its plan
// pools a subset of what its tier's plan pools and never turns off S3 data
// events that the tier requires.
func TestIsolationOnlyEverAddsIsolation(t *testing.T) {
	s := &Studio{Pools: []Pool{{Account: "555555555555", Region: "us-west-2"}}}
	for tier := range Tiers {
		base := Resolve(s, Production{Tier: tier, Account: "555555555555", Region: "us-west-2"})
		for flags := 0; flags < 16; flags++ {
			p := Production{Tier: tier, Account: "555555555555", Region: "us-west-2", Isolation: Isolation{
				DedicatedAccount: flags&1 != 0, DedicatedVpc: flags&2 != 0, DedicatedKeys: flags&4 != 0,
			}, Audit: Audit{S3DataEvents: flags&8 != 0}}
			r := Resolve(s, p)
			for _, what := range pooled(r) {
				if !slices.Contains(pooled(base), what) {
					t.Errorf("tier %d with %+v pools %s, which the tier alone does not", tier, p.Isolation, what)
				}
			}
			if Tiers[tier].S3DataEvents && !r.S3DataEvents {
				t.Errorf("tier %d with audit %+v has no S3 data events", tier, p.Audit)
			}
		}
	}
}

// TestHigherTiersRequireAtLeastLowerTiers: tier 1 requires everything tier 2
// does, and tier 2 everything tier 3 does.
func TestHigherTiersRequireAtLeastLowerTiers(t *testing.T) {
	flags := func(p TierPolicy) []bool {
		return []bool{p.DedicatedAccount, p.DedicatedVpc, p.DedicatedRootKey, p.DedicatedAssetKey, p.DedicatedLoggingKey, p.DenyOtherNetworks, p.S3DataEvents}
	}
	for _, pair := range [][2]int64{{1, 2}, {2, 3}} {
		hi, lo := Tiers[pair[0]], Tiers[pair[1]]
		for i, req := range flags(lo) {
			if req && !flags(hi)[i] {
				t.Errorf("tier %d requires control %d that tier %d does not", lo.Tier, i, hi.Tier)
			}
		}
	}
}

func TestEveryTierDeniesEveryOtherProductionNetwork(t *testing.T) {
	// DESIGN.md, NACLs (ISE 2.6): tier 1 denies every other production,
	// tier 2 tier 1 and other productions, tier 3 tier 1. Every tier's row
	// asks at least that by denying every other network.
	for tier, pol := range Tiers {
		if !pol.DenyOtherNetworks {
			t.Errorf("tier %d does not deny the other production networks", tier)
		}
	}
}

// TestEveryTierDeniesItsPeerTiersByRange: the tier table decides what a
// production network's ACLs deny; a tier that must deny any peer tier denies
// every private range, which holds every production of every tier.
func TestEveryTierDeniesItsPeerTiersByRange(t *testing.T) {
	for tier, pol := range Tiers {
		if got := pol.DenyCidrs(); !slices.Equal(got, PrivateRanges) {
			t.Errorf("tier %d denies %v, want %v", tier, got, PrivateRanges)
		}
	}
	if got := (TierPolicy{}).DenyCidrs(); got != nil {
		t.Errorf("a row that denies no other network denies %v", got)
	}
	// The result is a copy: a caller cannot change the table.
	d := Tiers[1].DenyCidrs()
	d[0] = netip.MustParsePrefix("0.0.0.0/0")
	if PrivateRanges[0].Bits() != 8 {
		t.Errorf("DenyCidrs shares PrivateRanges: %v", PrivateRanges)
	}
}

func TestPrivateRangesAreRFC1918(t *testing.T) {
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	if !slices.Equal(PrivateRanges, want) {
		t.Errorf("PrivateRanges = %v, want %v", PrivateRanges, want)
	}
}

// TestPrivateRangesCoverEveryProductionCidr: the NACLs deny PrivateRanges
// after their explicit allows, which denies every other production only if
// every VPC range lies inside them. Checked on the acme fixture and on
// every valid variant of the base estate.
func TestPrivateRangesCoverEveryProductionCidr(t *testing.T) {
	covered := func(p netip.Prefix) bool {
		for _, r := range PrivateRanges {
			if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
				return true
			}
		}
		return false
	}
	check := func(t *testing.T, est *Estate) {
		t.Helper()
		ranges := map[string]netip.Prefix{"managementVpcCidr": est.Studio.ManagementVpcCidr}
		for i, pl := range est.Studio.Pools {
			ranges[fmt.Sprintf("pools[%d]", i)] = pl.VpcCidr
		}
		for _, p := range est.Productions {
			if p.VpcCidr.IsValid() {
				ranges[p.Name] = p.VpcCidr
			}
		}
		if len(ranges) < 2 {
			t.Fatal("no production ranges to check")
		}
		for name, c := range ranges {
			if !covered(c) {
				t.Errorf("%s %s is outside PrivateRanges", name, c)
			}
		}
	}
	t.Run("examples", func(t *testing.T) {
		est, errs := Load(fixtures.Acme, label)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		check(t, est)
	})
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			check(t, estateOf(t, tc.edits...))
		})
	}
}

func TestS3DataEventsDefaultOn(t *testing.T) {
	est := estateOf(t)
	for _, p := range est.Productions {
		want := p.Name != "lighthouse" // the one example that turns them off
		if p.Audit.S3DataEvents != want {
			t.Errorf("%s: audit.s3DataEvents decoded as %v, want %v", p.Name, p.Audit.S3DataEvents, want)
		}
		if r := Resolve(&est.Studio, p.Production); r.S3DataEvents != want {
			t.Errorf("%s: plan has S3 data events %v, want %v", p.Name, r.S3DataEvents, want)
		}
	}
	// Tier 3 allows turning them off; the plan follows the manifest.
	est = estateOf(t, appendTo("brightside.yaml", "audit:\n  s3DataEvents: false\n"))
	if resolved(t, est, "brightside").S3DataEvents {
		t.Error("tier 3 production that turned S3 data events off still has them")
	}
	// An explicit null leaves the strict default.
	est = estateOf(t, appendTo("brightside.yaml", "audit:\n  s3DataEvents: ~\n"))
	if !resolved(t, est, "brightside").S3DataEvents {
		t.Error("s3DataEvents: ~ turned S3 data events off")
	}
}

func TestRenderBlockIsDefaultProfileAndProfilesSorted(t *testing.T) {
	est := estateOf(t, replace("nightfall.yaml", "renderProfiles:\n", `renderProfiles:
  zeta:
    ami: ami-0123abcd
    instanceTypes: [m6i.large]
    purchase: spot
    rootVolumeGiB: 20
  alpha:
    ami: ami-0123abcd
    instanceTypes: [m6i.large]
    purchase: spot
    rootVolumeGiB: 20
`))
	r := resolved(t, est, "nightfall")
	var names []string
	for _, p := range r.Profiles {
		names = append(names, p.Name)
	}
	if want := []string{DefaultProfile, "alpha", "gpu", "zeta"}; !slices.Equal(names, want) {
		t.Errorf("profiles %v, want %v", names, want)
	}
	if r.Profiles[0].RenderProfile.Ami != "ssm:/acme/render/ami" || r.Profiles[0].RootVolumeGiB != 100 {
		t.Errorf("default profile %+v is not the render block", r.Profiles[0])
	}
	// Without a render block there is no default profile.
	est = estateOf(t, replace("nightfall.yaml", "render:\n  ami: ssm:/acme/render/ami\n  instanceTypes: [c6i.32xlarge, m6i.32xlarge]\n  purchase: spot\n  rootVolumeGiB: 100\n  scratchVolumeGiB: 500\n", ""))
	names = nil
	for _, p := range resolved(t, est, "nightfall").Profiles {
		names = append(names, p.Name)
	}
	if want := []string{"gpu"}; !slices.Equal(names, want) {
		t.Errorf("profiles without a render block %v, want %v", names, want)
	}
}
