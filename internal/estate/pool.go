package estate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// Pool is the shared VPC and key set of one account's pooled Tier 3
// productions.
type Pool struct {
	Stack   awscdk.Stack
	Keys    map[keys.Purpose]*keys.Key
	Network *network.ProductionVpc
	// Tags are the pool stack's own, which its link stack carries too.
	Tags map[string]string
}

// PoolStackProps describe one account's pool.
type PoolStackProps struct {
	Studio *manifest.Studio
	Names  Names
	Pool   *manifest.Pool
	// Network is the hub whose Transit Gateway the pool attaches to.
	Network awscdk.Stack
}

// NewPoolStack creates a pool: its keys, its VPC and the SSM parameters its
// productions read them from.
func NewPoolStack(scope constructs.Construct, props PoolStackProps) *Pool {
	s, n, pl := props.Studio, props.Names, props.Pool
	name := n.PoolStack(pl.Account)
	tags := map[string]string{
		tagging.KeyTier:          strconv.Itoa(manifest.PoolTier),
		tagging.KeyCostCentre:    "shared",
		tagging.KeyResourceGroup: string(tagging.Security),
	}
	st := NewEstateStack(scope, StackProps{
		Studio: s, Name: name, Account: pl.Account, Region: pl.Region, Tags: tags,
		Description: fmt.Sprintf("%s pooled VPC and keys for the Tier 3 productions of account %s that ask for nothing dedicated (ISE 2.4, 9.1)", s.Studio, pl.Account),
	})
	// Key and bucket policies name the pooled productions' roles by
	// pattern, so the pool never changes when a production joins it.
	role := func(suffix string) string {
		return names.RoleArn(pl.Account, names.Role(s.Studio+"-*", suffix))
	}
	set := keys.NewKeySet(st, "Keys", keys.KeySetProps{
		AliasPrefix:     n.Studio + "/pool-" + pl.Account,
		Owner:           name,
		Account:         pl.Account,
		Region:          pl.Region,
		Purposes:        []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging},
		AssetUsers:      []string{role(names.DataOperator), role(names.Render)},
		LogReaders:      []string{role(names.LogReader)},
		VolumeUsers:     []string{role(names.Launcher)},
		SessionHosts:    []string{role(names.Render)},
		SessionStarters: []string{role(names.DataOperator)},
		AlarmTopics:     ownTrail(s, pl.Account),
		Admins:          keyAdmins(s, pl.Account, pl.Region, names.RoleArn(pl.Account, names.Role(name, names.KeyAdmin))),
	})
	// The pooled productions' key admins manage their own aliases only: the
	// pool's keys have an administrator of their own.
	tagging.Group(access.NewKeyAdmin(st, "KeyAdmin", access.HumanRolesProps{
		Prefix:         name,
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
		KeyAliasPrefix: "alias/" + n.KeyAlias("pool-"+pl.Account, ""),
		Account:        pl.Account,
		Region:         pl.Region,
	}, "administers the pool's keys; cannot use them (ISE 9.3)"), tagging.Security)
	p := &Pool{Stack: st, Keys: set, Tags: tags}
	dependsOn(st, props.Network, "attaches to the Transit Gateway the network stack shares")
	// The pool holds Tier 3 productions only: its row of the tier table.
	p.Network = newProductionNetwork(st, productionNetworkProps{
		Studio: s, Owner: name, Account: pl.Account, Region: pl.Region, Cidr: pl.VpcCidr,
		Zones:   manifest.Zones(pl.AvailabilityZones, pl.Region),
		Deny:    manifest.Tiers[manifest.PoolTier].DenyCidrs(),
		LogKey:  set[keys.Logging].Key,
		Buckets: []string{n.AssetBucketPattern(pl.Account, pl.Region)},
	})
	publishPool(st, n.PoolParameters(pl.Account), p)
	return p
}

// publishPool writes the ids pooled productions need to SSM Parameter Store.
// Productions read them at deploy time instead of importing CloudFormation
// exports, so a production never locks its pool and the pool never changes
// when a production joins or leaves it.
func publishPool(st awscdk.Stack, path string, p *Pool) {
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
			ParameterName: jsii.String(path + "/" + name),
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
func pooledResources(st awscdk.Stack, n Names, r manifest.Resolved, p *Production) (endpoint *string) {
	path := n.PoolParameters(r.Pool.Account)
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
	for _, k := range keyPurposes(r) {
		if k.pooled {
			p.Keys[k.purpose] = awskms.Key_FromKeyArn(st, jsii.String("Pool-"+string(k.purpose)), read(string(k.purpose)+"-key-arn"))
		}
	}
	return endpoint
}

// keyPurpose is one of a production's three keys and whether its pool's
// key set provides it.
type keyPurpose struct {
	purpose keys.Purpose
	pooled  bool
}

func keyPurposes(r manifest.Resolved) []keyPurpose {
	return []keyPurpose{{keys.RootVolume, r.PooledRootKey}, {keys.ContentAsset, r.PooledAssetKey}, {keys.Logging, r.PooledLoggingKey}}
}
