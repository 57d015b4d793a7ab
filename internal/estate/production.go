package estate

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/render"
	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
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
	// Tags are the production's tags (ISE 1.2), which its link stack
	// carries too.
	Tags map[string]string

	props  ProductionStackProps
	prefix string // <studio>-<production>: its stack and roles
}

// ProductionStackProps describe one production's stack.
type ProductionStackProps struct {
	Studio     *manifest.Studio
	Names      Names
	Production manifest.Resolved
	// Pool is the account's pool when the production uses its VPC or
	// keys, else nil.
	Pool *Pool
	// Network and Logging are the shared stacks it attaches to and, outside
	// an organization, delivers its trail to.
	Network, Logging awscdk.Stack
	// Dr is the stack of its asset bucket's replica, which must exist
	// before the bucket replicates into it; nil without ingest.
	Dr awscdk.Stack
}

// NewProductionStack creates a production's stack: its people, keys,
// private network (unless pooled), asset storage, render fleet and, outside
// an organization, its trail.
func NewProductionStack(scope constructs.Construct, props ProductionStackProps) *Production {
	s, r := props.Studio, props.Production
	p := &Production{Resolved: r, Keys: map[keys.Purpose]awskms.IKey{}, props: props, prefix: props.Names.ProductionStack(r.Name)}
	p.Tags = productionTags(r)
	p.Stack = NewEstateStack(scope, StackProps{
		Studio: s, Name: p.prefix, Account: r.Account, Region: r.Region, Tags: p.Tags,
		Description: fmt.Sprintf("%s production %s (tier %d, %s; %s to %s, owner %s): %s", s.Studio, r.Name, r.Tier, r.Policy.Label, r.StartDate, r.EndDate, r.Owner, contents(r)),
	})
	// Its VPC (or its pool's) attaches to the Transit Gateway that the
	// network stack creates and shares.
	dependsOn(p.Stack, props.Network, "attaches to the Transit Gateway the network stack shares")
	crew := s.CrewOf(&r.Production)
	p.Roles = access.NewHumanRoles(p.Stack, "People", access.HumanRolesProps{
		Prefix:         p.prefix,
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
		KeyAdmins:      principals(s, crew.KeyAdmins),
		DataOperators:  principals(s, crew.DataOperators),
		LogReaders:     principals(s, crew.LogReaders),
		KeyAliasPrefix: "alias/" + props.Names.KeyAlias(r.Name, ""),
		Account:        r.Account,
		Region:         r.Region,
		KeyRegions:     drRegions(r),
	})
	tagging.Group(p.Roles.Construct, tagging.Security)
	var endpoint *string
	if props.Pool != nil {
		dependsOn(p.Stack, props.Pool.Stack, "uses the pooled VPC or keys of its account")
		endpoint = pooledResources(p.Stack, props.Names, r, p)
	}
	p.ownKeys()
	if !r.PooledVpc {
		endpoint = p.ownNetwork()
	}
	p.storage(endpoint)
	p.ingest()
	p.exchangeAccess()
	p.render()
	if hasLogArchive(s) {
		dependsOn(p.Stack, props.Logging, "copies its flow logs and sessions to the log-archive bucket")
	}
	if ownTrail(s, r.Account) {
		// Without an organization trail the production records its own
		// account's activity into the central bucket.
		var events audit.DataEvents
		if r.S3DataEvents {
			events.StartsWith = []string{p.bucketArn() + "/"}
			if r.Ingest != nil {
				events.StartsWith = append(events.StartsWith, "arn:aws:s3:::"+props.Names.ReplicaBucket(r.Name, r.Account, r.Ingest.DrRegion)+"/")
			}
		}
		newAccountTrail(p.Stack, accountTrailProps{
			Studio: s, Names: props.Names, Name: p.prefix, Account: r.Account, Region: r.Region,
			LogGroup: "/" + p.prefix + "/cloudtrail", Key: p.Keys[keys.Logging], DataEvents: events, Logging: props.Logging,
		})
	}
	return p
}

// productionTags are a production's tags (ISE 1.2), on its stacks.
func productionTags(r manifest.Resolved) map[string]string {
	return map[string]string{
		tagging.KeyProduction:    r.Name,
		tagging.KeyTier:          strconv.FormatInt(r.Tier, 10),
		tagging.KeyCostCentre:    r.CostCentre,
		tagging.KeyOwner:         r.Owner,
		tagging.KeyResourceGroup: string(tagging.Security),
	}
}

// contents is what the stack holds, for its description.
func contents(r manifest.Resolved) string {
	if r.Closing() {
		return r.State() + ": no render compute; its asset bucket takes no new objects, and its data and keys are retained"
	}
	return "private VPC, keys, asset bucket and burst-render launch templates"
}

// role is the ARN of one of the production's fixed-name roles.
func (p *Production) role(suffix string) string {
	return names.RoleArn(p.Resolved.Account, names.Role(p.prefix, suffix))
}

func (p *Production) bucketArn() string {
	r := p.Resolved
	return "arn:aws:s3:::" + p.props.Names.AssetBucket(r.Name, r.Account, r.Region)
}

// ownKeys creates the keys the production does not take from its pool, each
// allowed exactly its purpose's use by the production's own roles.
func (p *Production) ownKeys() {
	r := p.Resolved
	var own []keys.Purpose
	for _, k := range keyPurposes(r) {
		if !k.pooled {
			own = append(own, k.purpose)
		}
	}
	if len(own) == 0 {
		return
	}
	set := keys.NewKeySet(p.Stack, "Keys", keys.KeySetProps{
		AliasPrefix: p.props.Names.Studio + "/" + r.Name,
		Owner:       p.prefix,
		Account:     r.Account,
		Region:      r.Region,
		Purposes:    own,
		AssetUsers:  append([]string{p.role(names.DataOperator), p.role(names.Render)}, ingestRoles(r, p.role)...),
		LogReaders:  []string{p.role(names.LogReader)},
		VolumeUsers: []string{p.role(names.Launcher)},
		// People open sessions on render nodes as the data operator.
		SessionHosts:    []string{p.role(names.Render)},
		SessionStarters: []string{p.role(names.DataOperator)},
		AlarmTopics:     ownTrail(p.props.Studio, r.Account),
		Admins:          keyAdmins(p.props.Studio, r.Account, r.Region, p.role(names.KeyAdmin)),
	})
	for purpose, k := range set {
		p.Keys[purpose] = k.Key
	}
}

// ownNetwork creates the production's private VPC and returns its S3
// endpoint's id.
func (p *Production) ownNetwork() (endpoint *string) {
	r := p.Resolved
	p.Network = newProductionNetwork(p.Stack, productionNetworkProps{
		Studio: p.props.Studio, Owner: p.prefix, Account: r.Account, Region: r.Region, Cidr: r.VpcCidr,
		Zones:          manifest.Zones(r.AvailabilityZones, r.Region),
		Endpoints:      r.Endpoints,
		Deny:           r.Policy.DenyCidrs(),
		LogKey:         p.Keys[keys.Logging],
		Buckets:        []string{p.bucketArn()},
		Names:          p.props.Names,
		SessionArchive: sessionArchive(p.props.Studio, p.props.Names),
		OnPremIngest:   r.Ingest != nil,
	})
	p.Vpc = p.Network.Vpc
	p.StorageCidrs = storageCidrs(p.Vpc)
	return p.Network.S3Endpoint.VpcEndpointId()
}

// storage creates the asset bucket, reached through endpoint, its access
// log bucket, and the data operator's object and session access.
func (p *Production) storage(endpoint *string) {
	r, n := p.Resolved, p.props.Names
	logs := storage.NewAccessLogBucket(p.Stack, "AccessLogs", n.AccessLogBucket(r.Name, r.Account, r.Region))
	tagging.Group(logs, tagging.Logging)
	p.Bucket = storage.NewAssetBucket(p.Stack, "Assets", storage.AssetBucketProps{
		Name:       n.AssetBucket(r.Name, r.Account, r.Region),
		Key:        p.Keys[keys.ContentAsset],
		AccessLogs: logs,
		LogPrefix:  "assets/",
		Endpoint:   endpoint,
		Exempt:     []string{p.role(names.DataOperator)},
		ExemptFrom: strs(p.props.Studio.AdminSourceCidrs),
		Users:      []string{p.role(names.DataOperator), p.role(names.Render)},
		Services:   ingestRoles(r, p.role),
		// DataSync writes with the bucket's default encryption.
		DefaultEncryptionWriters: dataSyncRole(r, p.role),
		Closing:                  r.Closing(),
		// With ingest, old content moves to colder storage.
		ArchiveAfterDays: archiveAfter(r),
	})
	tagging.Group(p.Bucket, tagging.AssetStorage)
	for _, st := range storage.ObjectAccess(p.Bucket.BucketArn(), p.Keys[keys.ContentAsset].KeyArn(), r.Region) {
		p.Roles.DataOperator.AddToPolicy(st)
	}
	for _, st := range access.SessionAccess(p.prefix, r.Name, r.Account, r.Region, p.Keys[keys.Logging].KeyArn()) {
		p.Roles.DataOperator.AddToPolicy(st)
	}
}

// sessionArchive is the log-archive bucket render nodes archive their
// sessions to, or "" without a log-archive account.
func sessionArchive(s *manifest.Studio, n Names) string {
	if !hasLogArchive(s) {
		return ""
	}
	return n.LogArchiveBucket()
}

// render adds the production's render fleet.
func (p *Production) render() {
	s, r := p.props.Studio, p.Resolved
	cidr := r.VpcCidr
	if r.PooledVpc {
		cidr = r.Pool.VpcCidr
	}
	tags := map[string]string{tagging.KeyStudio: s.Studio}
	for k, v := range withGroup(p.Tags, tagging.RenderInstance) {
		tags[k] = v
	}
	props := render.FleetProps{
		Prefix:         p.prefix,
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
		Launchers:      append([]string{names.RoleArn(s.ManagementAccount, p.props.Names.Scheduler())}, s.Scheduler.Launchers...),
		VpcArn:         jsii.String(fmt.Sprintf("arn:aws:ec2:%s:%s:vpc/%s", r.Region, r.Account, *p.Vpc.VpcId())),
		RoleName:       names.Role(p.prefix, names.Render),
		Tags:           tags,
		Closed:         r.Closing(),
	}
	if b := sessionArchive(s, p.props.Names); b != "" {
		n := p.props.Names
		props.Archive = &render.SessionArchive{
			Bucket:   b,
			Prefix:   names.SessionLogPrefix(r.Account, r.Name),
			Account:  s.LogArchive(),
			KeyAlias: "alias/" + n.LoggingKeyAlias(),
		}
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
	p.Fleet = render.NewFleet(p.Stack, "Render", props)
	tagging.Group(p.Fleet.Construct, tagging.RenderInstance)
}
