package estate

import (
	"fmt"
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Pool is the shared VPC and key set of one account's pooled Tier 3
// productions.
type Pool struct {
	Stack   awscdk.Stack
	Keys    map[keys.Purpose]*keys.Key
	Network *network.ProductionVpc
}

// pool returns the pool stack of r's account, building it on first use, so
// a selective synth builds only the pools its productions use.
func (b *builder) pool(r manifest.Resolved) *Pool {
	pl := r.Pool
	if p, ok := b.out.Pools[pl.Account]; ok {
		return p
	}
	name := b.names.PoolStack(pl.Account)
	st := b.stack(name, pl.Account, pl.Region,
		fmt.Sprintf("%s pooled VPC and keys for the Tier 3 productions of account %s that ask for nothing dedicated (ISE 2.4, 9.1)", b.studio.Studio, pl.Account),
		map[string]string{
			tagging.KeyTier:          "3",
			tagging.KeyCostCentre:    "shared",
			tagging.KeyResourceGroup: string(tagging.Security),
		})
	// Key and bucket policies name the pooled productions' roles by
	// pattern, so the pool never changes when a production joins it.
	role := func(suffix string) string { return keys.RoleArn(pl.Account, b.studio.Studio+"-*-"+suffix) }
	set := keys.NewKeySet(st, "Keys", keys.KeySetProps{
		AliasPrefix: b.names.Studio + "/pool-" + pl.Account,
		Owner:       name,
		Account:     pl.Account,
		Region:      pl.Region,
		Purposes:    []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging},
		AssetUsers:  []string{role("data-operator"), role("render")},
		LogReaders:  []string{role("log-reader")},
	})
	p := &Pool{Stack: st, Keys: set}
	p.Network = b.productionVpc(st, name, pl.Account, pl.Region, pl.VpcCidr,
		manifest.Zones(pl.AvailabilityZones, pl.Region), nil, set[keys.Logging].Key,
		[]string{b.names.AssetBucketPattern(pl.Account, pl.Region)})
	b.link(name, pl.Account, pl.VpcCidr, st)
	b.out.Pools[pl.Account] = p
	return p
}

func strs(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
