package estate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/jsii-runtime-go"

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
	tags := map[string]string{
		tagging.KeyTier:          strconv.Itoa(manifest.PoolTier),
		tagging.KeyCostCentre:    "shared",
		tagging.KeyResourceGroup: string(tagging.Security),
	}
	st := b.stack("shared", name, pl.Account, pl.Region,
		fmt.Sprintf("%s pooled VPC and keys for the Tier 3 productions of account %s that ask for nothing dedicated (ISE 2.4, 9.1)", b.studio.Studio, pl.Account),
		tags)
	// Key and bucket policies name the pooled productions' roles by
	// pattern, so the pool never changes when a production joins it.
	role := func(suffix string) string { return keys.RoleArn(pl.Account, b.studio.Studio+"-*-"+suffix) }
	set := keys.NewKeySet(st, "Keys", keys.KeySetProps{
		AliasPrefix:     b.names.Studio + "/pool-" + pl.Account,
		Owner:           name,
		Account:         pl.Account,
		Region:          pl.Region,
		Purposes:        []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging},
		AssetUsers:      []string{role("data-operator"), role("render")},
		LogReaders:      []string{role("log-reader")},
		VolumeUsers:     []string{role("launcher")},
		SessionHosts:    []string{role("render")},
		SessionStarters: []string{role("data-operator")},
		AlarmTopics:     b.ownTrail(pl.Account),
	})
	p := &Pool{Stack: st, Keys: set}
	dependsOn(st, b.out.Network, "attaches to the Transit Gateway the network stack shares")
	// The pool holds Tier 3 productions only: its row of the tier table.
	p.Network = b.productionVpc(st, name, pl.Account, pl.Region, pl.VpcCidr,
		manifest.Zones(pl.AvailabilityZones, pl.Region), nil, manifest.Tiers[manifest.PoolTier].DenyCidrs(), set[keys.Logging].Key,
		[]string{b.names.AssetBucketPattern(pl.Account, pl.Region)})
	b.link("shared", name, pl.Account, pl.VpcCidr, st, tags)
	b.publishPool(st, pl, p)
	b.out.Pools[pl.Account] = p
	return p
}

// publishPool writes the ids pooled productions need to SSM Parameter Store.
// Productions read them at deploy time instead of importing CloudFormation
// exports, so a production never locks its pool and the pool never changes
// when a production joins or leaves it.
func (b *builder) publishPool(st awscdk.Stack, pl *manifest.Pool, p *Pool) {
	values := map[string]*string{
		"vpc-id":         p.Network.Vpc.VpcId(),
		"s3-endpoint-id": p.Network.S3Endpoint.VpcEndpointId(),
	}
	for purpose, k := range p.Keys {
		values[string(purpose)+"-key-arn"] = k.Key.KeyArn()
	}
	for i, cidr := range storageCidrs(p.Network.Vpc) {
		values[fmt.Sprintf("%s-cidr-%d", network.StorageTier, i)] = jsii.String(cidr)
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		awsssm.NewStringParameter(st, jsii.String("Param-"+name), &awsssm.StringParameterProps{
			ParameterName: jsii.String(b.names.PoolParameters(pl.Account) + "/" + name),
			StringValue:   values[name],
			Description:   jsii.String("Published by the pool stack for its pooled productions"),
		})
	}
}

// storageCidrs are the ranges of a VPC's storage tier, which render nodes
// may reach.
func storageCidrs(vpc awsec2.IVpc) []string {
	var out []string
	for _, sub := range *vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(network.StorageTier)}).Subnets {
		out = append(out, *sub.Ipv4CidrBlock())
	}
	return out
}

// pooledResources reads a pool's published ids in a production stack: the
// VPC, the storage tier's ranges, the S3 endpoint and the pooled keys.
func (b *builder) pooledResources(st awscdk.Stack, r manifest.Resolved, p *Production) (endpoint *string) {
	path := b.names.PoolParameters(r.Pool.Account)
	read := func(name string) *string {
		return awsssm.StringParameter_ValueForStringParameter(st, jsii.String(path+"/"+name), nil)
	}
	if r.PooledVpc {
		zones := manifest.Zones(r.Pool.AvailabilityZones, r.Pool.Region)
		p.Vpc = awsec2.Vpc_FromVpcAttributes(st, jsii.String("PoolVpc"), &awsec2.VpcAttributes{
			VpcId:             read("vpc-id"),
			AvailabilityZones: jsii.Strings(zones...),
			VpcCidrBlock:      jsii.String(r.Pool.VpcCidr.String()),
		})
		for i := range zones {
			p.StorageCidrs = append(p.StorageCidrs, *read(fmt.Sprintf("%s-cidr-%d", network.StorageTier, i)))
		}
		endpoint = read("s3-endpoint-id")
	}
	for _, k := range []struct {
		purpose keys.Purpose
		pooled  bool
	}{{keys.RootVolume, r.PooledRootKey}, {keys.ContentAsset, r.PooledAssetKey}, {keys.Logging, r.PooledLoggingKey}} {
		if k.pooled {
			p.Keys[k.purpose] = awskms.Key_FromKeyArn(st, jsii.String("Pool-"+string(k.purpose)), read(string(k.purpose)+"-key-arn"))
		}
	}
	return endpoint
}

func strs(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
