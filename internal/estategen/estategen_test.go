package estategen

import (
	"bytes"
	"net/netip"
	"testing"
	"testing/fstest"

	"github.com/renderenv/renderenv/internal/manifest"
)

func load(t *testing.T, files map[string][]byte) *manifest.Estate {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	e, errs := manifest.Load(fsys, "generated")
	if len(errs) > 0 {
		max := len(errs)
		if max > 20 {
			max = 20
		}
		t.Fatalf("generated estate does not validate: %d errors, first %d:\n%s", len(errs), max, errs[:max].Error())
	}
	return e
}

func TestThousandProductionsValidate(t *testing.T) {
	files := Generate(1000, 5)
	if len(files) != 1001 {
		t.Fatalf("Generate(1000, 5) wrote %d files, want studio.yaml and 1000 productions", len(files))
	}
	e := load(t, files)
	if len(e.Productions) != 1000 {
		t.Fatalf("loaded %d productions, want 1000", len(e.Productions))
	}
}

func TestGeneratedEstateCoversEveryIsolationShape(t *testing.T) {
	e := load(t, Generate(30, 2))
	tiers := map[int64]int{}
	var pooled, dedicatedTier3, dedicatedKeys, noEvents int
	accountsOf := map[int64]map[string]int{}
	pooledIn, ownVpcIn := map[string]int{}, map[string]int{}
	for _, r := range e.Resolved() {
		tiers[r.Tier]++
		if accountsOf[r.Tier] == nil {
			accountsOf[r.Tier] = map[string]int{}
		}
		accountsOf[r.Tier][r.Account]++
		if r.PooledVpc {
			pooled++
			pooledIn[r.Account]++
		}
		if r.Tier == 3 && !r.PooledVpc {
			dedicatedTier3++
			ownVpcIn[r.Account]++
		}
		if r.Tier == 3 && r.Isolation.DedicatedKeys {
			dedicatedKeys++
		}
		if !r.S3DataEvents {
			noEvents++
		}
	}
	for tier := int64(1); tier <= 3; tier++ {
		if tiers[tier] != 10 {
			t.Errorf("tier %d: %d productions, want 10", tier, tiers[tier])
		}
	}
	for acct, n := range accountsOf[1] {
		if n != 1 {
			t.Errorf("tier 1 account %s holds %d productions, want its own account each", acct, n)
		}
	}
	if len(accountsOf[2]) != 2 || len(accountsOf[3]) != 2 {
		t.Errorf("tier 2 uses %d accounts and tier 3 %d, want both spread over the 2 shared accounts", len(accountsOf[2]), len(accountsOf[3]))
	}
	for j := 0; j < 2; j++ {
		if a := SharedAccount(j); pooledIn[a] == 0 || ownVpcIn[a] == 0 {
			t.Errorf("shared account %s: %d pooled and %d dedicated-VPC tier 3 productions, want both", a, pooledIn[a], ownVpcIn[a])
		}
	}
	if pooled == 0 || dedicatedTier3 == 0 || dedicatedKeys == 0 || noEvents == 0 {
		t.Errorf("tier 3 shapes: pooled %d, dedicated VPC %d, dedicated keys %d, data events off %d; want each at least once",
			pooled, dedicatedTier3, dedicatedKeys, noEvents)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(50, 3), Generate(50, 3)
	if len(a) != len(b) {
		t.Fatalf("two runs wrote %d and %d files", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

func TestProductionRangesStayInsideTheAddressSpace(t *testing.T) {
	for _, p := range Plan(1000, 5) {
		if !p.Cidr.IsValid() {
			continue
		}
		inside := false
		for _, space := range AddressSpace {
			if space.Contains(p.Cidr.Addr()) && space.Bits() <= p.Cidr.Bits() {
				inside = true
			}
		}
		if !inside {
			t.Errorf("%s: %s is outside %v", p.Name, p.Cidr, AddressSpace)
		}
		if p.Cidr != p.Cidr.Masked() {
			t.Errorf("%s: %s is not aligned", p.Name, p.Cidr)
		}
	}
	mgmt := netip.MustParsePrefix(ManagementCidr)
	for j := 0; j < maxPools; j++ {
		if PoolCidr(j).Overlaps(mgmt) {
			t.Errorf("pool %d range %s overlaps management %s", j, PoolCidr(j), mgmt)
		}
		for _, space := range AddressSpace {
			if PoolCidr(j).Overlaps(space) {
				t.Errorf("pool %d range %s overlaps the production space %s", j, PoolCidr(j), space)
			}
		}
	}
}

func TestImpossibleEstatesPanic(t *testing.T) {
	for _, tc := range []struct {
		name        string
		n, accounts int
	}{
		{"no shared account for tier 2", 2, 0},
		{"more accounts than pool ranges", 3, maxPools + 1},
		{"address space exhausted", 5000, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Generate(%d, %d) did not panic", tc.n, tc.accounts)
				}
			}()
			Generate(tc.n, tc.accounts)
		})
	}
}
