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
	// Network is the hub whose Transit Gateway the pool attaches to;
	// Logging holds the log-archive bucket its flow logs are copied to.
	Network, Logging awscdk.Stack
	// Members are the productions of the whole estate that use the pool's
	// VPC or keys: its key and endpoint policies name their roles and
	// buckets exactly.
	Members []manifest.Resolved
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
	set := poolKeys(st, props)
	// The pooled productions' key admins manage their own aliases only: the
	// pool's keys have an administrator of their own.
	tagging.Group(access.NewKeyAdmin(st, "KeyAdmin", access.HumanRolesProps{
		Prefix:         name,
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
		KeyAdmins:      principals(s, s.PoolKeyAdmins()),
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
		Buckets: poolBuckets(n, props.Members),
		Names:   n,
		// Its pooled productions' render nodes archive their sessions.
		SessionArchive: sessionArchive(s, n),
	})
	if hasLogArchive(s) {
		dependsOn(st, props.Logging, "copies its flow logs and sessions to the log-archive bucket")
	}
	publishPool(st, n.PoolParameters(pl.Account), p)
	return p
}

// poolKeys creates the pool's key set. Its policies name the roles of
// exactly the productions that take each key from the pool: never a
// pattern that a role someone creates in the shared account, or a
// production with keys of its own, matches. The pool changes when a
// production joins or leaves it.
func poolKeys(st awscdk.Stack, props PoolStackProps) map[keys.Purpose]*keys.Key {
	s, n, pl := props.Studio, props.Names, props.Pool
	name := n.PoolStack(pl.Account)
	roles := func(pooled func(manifest.Resolved) bool, suffixes ...string) []string {
		out := []string{}
		for _, r := range props.Members {
			if pooled(r) {
				for _, sfx := range suffixes {
					out = append(out, names.RoleArn(pl.Account, names.Role(n.ProductionStack(r.Name), sfx)))
				}
			}
		}
		return out
	}
	root := func(r manifest.Resolved) bool { return r.PooledRootKey }
	asset := func(r manifest.Resolved) bool { return r.PooledAssetKey }
	logging := func(r manifest.Resolved) bool { return r.PooledLoggingKey }
	return keys.NewKeySet(st, "Keys", keys.KeySetProps{
		AliasPrefix:      n.Studio + "/pool-" + pl.Account,
		Owner:            name,
		Account:          pl.Account,
		Region:           pl.Region,
		Purposes:         []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging},
		AssetUsers:       roles(asset, names.DataOperator, names.Render),
		LogReaders:       roles(logging, names.LogReader),
		VolumeUsers:      roles(root, names.Launcher),
		AssetVolumeUsers: roles(asset, names.Launcher),
		SessionHosts:     roles(logging, names.Render),
		SessionStarters:  roles(logging, names.DataOperator),
		AlarmTopics:      ownTrail(s, pl.Account),
		Admins:           keyAdmins(s, pl.Account, pl.Region, names.RoleArn(pl.Account, names.Role(name, names.KeyAdmin))),
	})
}

// poolBuckets are the asset buckets of the productions that run in the
// pool's VPC: the only buckets its S3 endpoint serves.
func poolBuckets(n Names, members []manifest.Resolved) []string {
	var out []string
	for _, r := range members {
		if r.PooledVpc {
			out = append(out, "arn:aws:s3:::"+n.AssetBucket(r.Name, r.Account, r.Region))
		}
	}
	return out
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
		// Only launch templates use the root-volume key: a closing
		// production, which has none, does not read the pool's.
		if k.pooled && !(k.purpose == keys.RootVolume && r.Closing()) {
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
