package estate

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/render"
	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Production is one production's stack and the handles its parts share.
type Production struct {
	Stack    awscdk.Stack
	Resolved manifest.Resolved
	Roles    *access.HumanRoles
	Keys     map[keys.Purpose]awskms.IKey
	Vpc      awsec2.IVpc
	Network  *network.ProductionVpc // nil when pooled
	Bucket   awss3.Bucket
	Fleet    *render.Fleet
	// StorageCidrs are the storage tier's ranges in the production's VPC.
	StorageCidrs []string
}

// RenderRoleName is the role render nodes run as.
func RenderRoleName(prefix string) string { return prefix + "-render" }

// networkOwner names the VPC and its link: the production, or its pool.
func (b *builder) networkOwner(r manifest.Resolved) string {
	if r.PooledVpc {
		return b.names.PoolStack(r.Account)
	}
	return b.names.ProductionStack(r.Name)
}

func (b *builder) production(r manifest.Resolved) {
	s := b.studio
	prefix := b.names.ProductionStack(r.Name)
	tags := map[string]string{
		tagging.KeyProduction:    r.Name,
		tagging.KeyTier:          strconv.FormatInt(r.Tier, 10),
		tagging.KeyCostCentre:    r.CostCentre,
		tagging.KeyOwner:         r.Owner,
		tagging.KeyResourceGroup: string(tagging.Security),
	}
	st := b.stack(r.Name, prefix, r.Account, r.Region,
		fmt.Sprintf("%s production %s (tier %d, %s; %s to %s, owner %s): private VPC, keys, asset bucket and burst-render launch templates", s.Studio, r.Name, r.Tier, r.Policy.Label, r.StartDate, r.EndDate, r.Owner),
		tags)
	p := &Production{Stack: st, Resolved: r, Keys: map[keys.Purpose]awskms.IKey{}}
	b.out.Productions[r.Name] = p
	// Its VPC (or its pool's) attaches to the Transit Gateway that the
	// network stack creates and shares.
	dependsOn(st, b.out.Network, "attaches to the Transit Gateway the network stack shares")

	p.Roles = access.NewHumanRoles(st, "People", access.HumanRolesProps{
		Prefix:         prefix,
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
		KeyAliasPrefix: "alias/" + b.names.KeyAlias(r.Name, ""),
		Account:        r.Account,
		Region:         r.Region,
	})
	tagging.Group(p.Roles.Construct, tagging.Security)

	var pool *Pool
	if r.Pool != nil && (r.PooledVpc || r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey) {
		pool = b.pool(r)
		dependsOn(st, pool.Stack, "uses the pooled VPC or keys of its account")
	}
	var endpoint *string
	if pool != nil {
		endpoint = b.pooledResources(st, r, p)
	}
	var own []keys.Purpose
	for _, k := range []struct {
		purpose keys.Purpose
		pooled  bool
	}{{keys.RootVolume, r.PooledRootKey}, {keys.ContentAsset, r.PooledAssetKey}, {keys.Logging, r.PooledLoggingKey}} {
		if !k.pooled {
			own = append(own, k.purpose)
		}
	}
	if len(own) > 0 {
		set := keys.NewKeySet(st, "Keys", keys.KeySetProps{
			AliasPrefix: b.names.Studio + "/" + r.Name,
			Owner:       prefix,
			Account:     r.Account,
			Region:      r.Region,
			Purposes:    own,
			AssetUsers:  []string{keys.RoleArn(r.Account, access.RoleName(prefix, access.DataOperator)), keys.RoleArn(r.Account, RenderRoleName(prefix))},
			LogReaders:  []string{keys.RoleArn(r.Account, access.RoleName(prefix, access.LogReader))},
			VolumeUsers: []string{keys.RoleArn(r.Account, render.LauncherRoleName(prefix))},
			// People open sessions on render nodes as the data operator.
			SessionHosts:    []string{keys.RoleArn(r.Account, RenderRoleName(prefix))},
			SessionStarters: []string{keys.RoleArn(r.Account, access.RoleName(prefix, access.DataOperator))},
			AlarmTopics:     b.ownTrail(r.Account),
		})
		for purpose, k := range set {
			p.Keys[purpose] = k.Key
		}
	}

	bucketArn := "arn:aws:s3:::" + b.names.AssetBucket(r)
	if !r.PooledVpc {
		p.Network = b.productionVpc(st, prefix, r.Account, r.Region, r.VpcCidr, manifest.Zones(r.AvailabilityZones, r.Region), r.Endpoints, r.Policy.DenyCidrs(), p.Keys[keys.Logging], []string{bucketArn})
		p.Vpc = p.Network.Vpc
		p.StorageCidrs = storageCidrs(p.Vpc)
		endpoint = p.Network.S3Endpoint.VpcEndpointId()
		b.link(r.Name, prefix, r.Account, r.VpcCidr, st, tags)
	}

	logs := storage.NewAccessLogBucket(st, "AccessLogs", b.names.AccessLogBucket(r.Name, r.Account, r.Region))
	tagging.Group(logs, tagging.Logging)
	p.Bucket = storage.NewAssetBucket(st, "Assets", storage.AssetBucketProps{
		Name:       b.names.AssetBucket(r),
		Key:        p.Keys[keys.ContentAsset],
		AccessLogs: logs,
		LogPrefix:  "assets/",
		Endpoint:   endpoint,
		Exempt:     []string{keys.RoleArn(r.Account, access.RoleName(prefix, access.DataOperator))},
	})
	tagging.Group(p.Bucket, tagging.AssetStorage)
	for _, st := range storage.ObjectAccess(p.Bucket.BucketArn(), p.Keys[keys.ContentAsset].KeyArn(), r.Region) {
		p.Roles.DataOperator.AddToPolicy(st)
	}
	for _, st := range access.SessionAccess(prefix, r.Name, r.Account, r.Region, p.Keys[keys.Logging].KeyArn()) {
		p.Roles.DataOperator.AddToPolicy(st)
	}

	b.render(p, prefix)

	if b.ownTrail(r.Account) {
		// Without an organization trail the production records its own
		// account's activity into the central bucket.
		var events audit.DataEvents
		if r.S3DataEvents {
			events.StartsWith = []string{bucketArn + "/"}
		}
		b.accountTrail(st, prefix, r.Account, r.Region, "/"+prefix+"/cloudtrail", p.Keys[keys.Logging], events)
	}
}

// accountTrail gives an account outside an organization a trail of its own:
// into the central bucket, and into a log group of the account with the
// studio's security alarms (ISE 5.3, 8.1).
func (b *builder) accountTrail(st awscdk.Stack, name, account, region, logGroup string, key awskms.IKey, events audit.DataEvents) {
	trail := audit.NewAccountTrail(st, "Trail", audit.AccountTrailProps{
		MonitorProps: audit.MonitorProps{
			Prefix:       name,
			Account:      account,
			Region:       region,
			TrailName:    name,
			LogGroupName: logGroup,
			Key:          key,
			AlertEmails:  b.studio.Alerts.Emails,
		},
		Bucket:     b.names.TrailBucket(),
		KeyArn:     b.names.LoggingKeyAliasArn(),
		DataEvents: events,
	})
	tagging.Group(trail.Construct, tagging.Logging)
	dependsOn(st, b.out.Logging, "delivers its trail to the central bucket")
}

// productionVpc creates a private production (or pool) network that reaches
// management and on-premises only, and the role its link stack reads the
// attachment with.
func (b *builder) productionVpc(st awscdk.Stack, owner, account, region string, cidr netip.Prefix, zones, extra []string, deny []netip.Prefix, logKey awskms.IKey, buckets []string) *network.ProductionVpc {
	s := b.studio
	tags := map[string]string{"renderenv:studio": s.Studio, "renderenv:network": owner}
	v := network.NewProductionVpc(st, "Network", network.ProductionVpcProps{
		Name:           owner,
		Cidr:           cidr,
		Zones:          zones,
		Account:        account,
		Region:         region,
		ManagementCidr: s.ManagementVpcCidr,
		OnPremCidrs:    s.OnPremises.Cidrs,
		DenyCidrs:      deny,
		TransitGatewayID: network.LookupTransitGateway(st, network.TransitGatewayRef{
			ID: s.TransitGatewayID, Owner: s.ManagementAccount, Asn: s.TransitGatewayAsn,
		}),
		AttachmentTags: tags,
		FlowLogKey:     logKey,
		FlowLogGroup:   "/" + owner + "/flow-logs",
		Endpoints:      append(manifest.BuiltinEndpoints(), extra...),
		BucketArns:     buckets,
	})
	tagging.Group(v.Construct, tagging.Network)
	network.NewAttachmentReader(st, owner, s.ManagementAccount)
	return v
}

// link builds the management-account stack that joins one production
// network to the Transit Gateway.
func (b *builder) link(group, owner, account string, cidr netip.Prefix, after awscdk.Stack, tags map[string]string) {
	s := b.studio
	name := b.names.LinkStack(owner)
	if _, ok := b.out.Links[name]; ok {
		return
	}
	st := b.stack(group, name, s.ManagementAccount, s.Region,
		fmt.Sprintf("Joins %s to the Transit Gateway: production route table (management and on-premises only) and scheduler access", owner),
		withGroup(tags, tagging.Network))
	var license []int
	for _, l := range s.LicenseServers {
		license = append(license, int(l.Port))
	}
	var sched []int
	for _, p := range s.Scheduler.Ports {
		sched = append(sched, int(p))
	}
	network.NewLink(st, "Link", network.LinkProps{
		Parameters:     b.names.Parameters(),
		ReaderRoleArn:  keys.RoleArn(account, network.AttachmentReaderName(owner)),
		AttachmentTags: map[string]string{"renderenv:studio": s.Studio, "renderenv:network": owner},
		Cidr:           cidr,
		SchedulerPorts: sched,
		LicensePorts:   license,
		WorkerPorts:    ints(s.Scheduler.WorkerPorts),
	})
	dependsOn(st, b.out.Network, "reads the hub's published ids")
	dependsOn(st, after, "finds the attachment the network's stack creates")
	b.out.Links[name] = st
}

// render adds the production's render fleet.
func (b *builder) render(p *Production, prefix string) {
	s, r := b.studio, p.Resolved
	cidr := r.VpcCidr
	if r.PooledVpc {
		cidr = r.Pool.VpcCidr
	}
	props := render.FleetProps{
		Prefix:         prefix,
		Account:        r.Account,
		Region:         r.Region,
		Vpc:            p.Vpc,
		VpcCidr:        cidr,
		StorageCidrs:   p.StorageCidrs,
		ManagementCidr: s.ManagementVpcCidr,
		SchedulerPorts: ints(s.Scheduler.Ports),
		WorkerPorts:    ints(s.Scheduler.WorkerPorts),
		S3PrefixList:   network.LookupS3PrefixList(p.Stack, r.Region),
		RootKey:        p.Keys[keys.RootVolume],
		AssetKey:       p.Keys[keys.ContentAsset],
		LoggingKey:     p.Keys[keys.Logging],
		BucketArn:      p.Bucket.BucketArn(),
		SchedulerAcct:  s.ManagementAccount,
		Launchers:      s.Scheduler.Launchers,
		RoleName:       RenderRoleName(prefix),
		Tags: map[string]string{
			tagging.KeyStudio:        s.Studio,
			tagging.KeyProduction:    r.Name,
			tagging.KeyTier:          strconv.FormatInt(r.Tier, 10),
			tagging.KeyCostCentre:    r.CostCentre,
			tagging.KeyOwner:         r.Owner,
			tagging.KeyResourceGroup: string(tagging.RenderInstance),
		},
	}
	for _, l := range s.LicenseServers {
		props.LicensePorts = append(props.LicensePorts, int(l.Port))
	}
	for _, pr := range r.Profiles {
		props.Profiles = append(props.Profiles, render.Profile{
			Name: pr.Name, Ami: pr.Ami, InstanceTypes: pr.InstanceTypes, Spot: pr.Purchase == "spot",
			RootVolumeGiB: int(pr.RootVolumeGiB), ScratchVolumeGiB: int(pr.ScratchVolumeGiB), RootDevice: pr.RootDevice(),
		})
	}
	fleet := render.NewFleet(p.Stack, "Render", props)
	tagging.Group(fleet.Construct, tagging.RenderInstance)
	p.Fleet = fleet
}

func ints(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// withGroup is tags with another resource group.
func withGroup(tags map[string]string, g tagging.ResourceGroup) map[string]string {
	out := map[string]string{tagging.KeyResourceGroup: string(g)}
	for k, v := range tags {
		if k != tagging.KeyResourceGroup {
			out[k] = v
		}
	}
	return out
}
