package estate

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// StackProps is what every stack of the estate has: a fixed name, an
// explicit environment, a description and the tags of ISE 1.2 beside the
// studio's own (Studio, Owner).
type StackProps struct {
	Studio                             *manifest.Studio
	Name, Account, Region, Description string
	Tags                               map[string]string
}

// NewEstateStack creates a stack with an explicit environment, termination
// protection and the tags of ISE 1.2 on itself and everything in it.
func NewEstateStack(scope constructs.Construct, props StackProps) awscdk.Stack {
	st := awscdk.NewStack(scope, jsii.String(props.Name), &awscdk.StackProps{
		StackName:   jsii.String(props.Name),
		Env:         &awscdk.Environment{Account: jsii.String(props.Account), Region: jsii.String(props.Region)},
		Description: jsii.String(props.Description),
		// Termination protection: a stack that holds an estate's network or
		// evidence is never deleted by one careless command.
		TerminationProtection: jsii.Bool(true),
		Synthesizer:           Synthesizer(props.Studio),
	})
	all := map[string]string{tagging.KeyStudio: props.Studio.Studio, tagging.KeyOwner: props.Studio.SharedOwner()}
	for k, v := range props.Tags {
		all[k] = v
	}
	tagging.Apply(st, all)
	tagging.CoverPlainResources(st, all)
	return st
}

// Synthesizer deploys a stack through the studio's own CDK bootstrap
// (renderenv bootstrap, qualifier Studio.BootstrapQualifier).
func Synthesizer(s *manifest.Studio) awscdk.IStackSynthesizer {
	return awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{Qualifier: jsii.String(s.BootstrapQualifier())})
}

// sharedTags are the tags of the studio-wide stacks.
func sharedTags(group tagging.ResourceGroup) map[string]string {
	return map[string]string{
		tagging.KeyTier:          "shared",
		tagging.KeyCostCentre:    "shared",
		tagging.KeyResourceGroup: string(group),
	}
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

// dependsOn orders two stacks of one stage. Between stages the pipeline's
// order (shared stacks first) already holds, and CDK refuses such links.
func dependsOn(from, to awscdk.Stack, reason string) {
	if *awscdk.Stage_Of(from).Node().Path() == *awscdk.Stage_Of(to).Node().Path() {
		from.AddStackDependency(to, jsii.String(reason))
	}
}

// ownTrail says whether an account records its activity with a trail of its
// own: outside an organization, every account but the log archive, whose
// central trail already records it.
func ownTrail(s *manifest.Studio, account string) bool {
	return s.OrganizationID == "" && account != s.LogArchive()
}

// keyAdmins are who administer a key of account: the roles named (a
// production's or pool's key administrator), the CloudFormation execution
// role that deploys the key's stack, so the next deploy can still update
// it, and the studio's break-glass role when studio.yaml names one.
func keyAdmins(s *manifest.Studio, account, region string, roles ...string) []string {
	out := append(slices.Clone(roles), keys.DeploymentRole(s.BootstrapQualifier(), account, region))
	if s.BreakGlassRole != "" {
		out = append(out, names.RoleArn(account, s.BreakGlassRole))
	}
	return out
}

// accountTrailProps is one account's own trail.
type accountTrailProps struct {
	Studio                          *manifest.Studio
	Names                           Names
	Name, Account, Region, LogGroup string
	Key                             awskms.IKey
	DataEvents                      audit.DataEvents
	// Logging is the stack of the central bucket the trail delivers to.
	Logging awscdk.Stack
}

// newAccountTrail gives an account outside an organization a trail of its
// own: into the central bucket, and into a log group of the account with
// the studio's security alarms (ISE 5.3, 8.1).
func newAccountTrail(st awscdk.Stack, props accountTrailProps) {
	trail := audit.NewAccountTrail(st, "Trail", audit.AccountTrailProps{
		MonitorProps: audit.MonitorProps{
			Prefix:       props.Name,
			Account:      props.Account,
			Region:       props.Region,
			TrailName:    props.Name,
			LogGroupName: props.LogGroup,
			Key:          props.Key,
			AlertEmails:  props.Studio.Alerts.Emails,
		},
		Bucket:     props.Names.TrailBucket(),
		KeyArn:     props.Names.LoggingKeyAliasArn(),
		DataEvents: props.DataEvents,
	})
	tagging.Group(trail.Construct, tagging.Logging)
	dependsOn(st, props.Logging, "delivers its trail to the central bucket")
}

// productionNetworkProps is a private production (or pool) network.
type productionNetworkProps struct {
	Studio *manifest.Studio
	// Owner is the stack that owns the network and names it.
	Owner, Account, Region string
	Cidr                   netip.Prefix
	Zones, Endpoints       []string
	// Deny are the ranges its ACLs deny after the allows (the tier table).
	Deny    []netip.Prefix
	LogKey  awskms.IKey
	Buckets []string
	Names   Names
	// SessionArchive is the log-archive bucket its render nodes archive
	// sessions to, or "" (no log-archive account, or no render nodes).
	SessionArchive string
	// OnPremIngest routes the endpoint tier to on-premises, where the
	// DataSync agent is.
	OnPremIngest bool
}

// newProductionNetwork creates a private production (or pool) network that
// reaches management and on-premises only, and the role its link stack
// reads the attachment with.
func newProductionNetwork(st awscdk.Stack, props productionNetworkProps) *network.ProductionVpc {
	s := props.Studio
	v := network.NewProductionVpc(st, "Network", network.ProductionVpcProps{
		Name:           props.Owner,
		Cidr:           props.Cidr,
		Zones:          props.Zones,
		Account:        props.Account,
		Region:         props.Region,
		ManagementCidr: s.ManagementVpcCidr,
		OnPremCidrs:    s.OnPremises.Cidrs,
		DenyCidrs:      props.Deny,
		TransitGatewayID: network.LookupTransitGateway(st, network.TransitGatewayRef{
			ID: s.TransitGatewayID, Owner: s.ManagementAccount, Asn: s.TransitGatewayAsn,
		}),
		AttachmentTags: attachmentTags(s, props.Owner),
		FlowLogKey:     props.LogKey,
		FlowLogGroup:   "/" + props.Owner + "/flow-logs",
		Archive:        flowLogArchive(s, props.Names),
		SessionArchive: props.SessionArchive,
		Endpoints:      append(manifest.BuiltinEndpoints(), props.Endpoints...),
		BucketArns:     props.Buckets,
		DNSZones:       s.OnPremises.DNSZones,
		QueryLogGroup:  "/" + props.Owner + "/dns-queries",
		// DataSync's agent talks to its endpoint from on-premises.
		EndpointsReachOnPremises: props.OnPremIngest,
	})
	tagging.Group(v.Construct, tagging.Network)
	network.NewAttachmentReader(st, props.Owner, s.ManagementAccount)
	return v
}

// attachmentTags mark the Transit Gateway attachment of owner's network, so
// that its link stack finds it.
func attachmentTags(s *manifest.Studio, owner string) map[string]string {
	return map[string]string{"renderenv:studio": s.Studio, "renderenv:network": owner}
}

// LinkStackProps is the management-account stack that joins one production
// or pool network to the Transit Gateway.
type LinkStackProps struct {
	Studio *manifest.Studio
	Names  Names
	// Owner is the stack that owns the network; Account holds it.
	Owner, Account string
	Cidr           netip.Prefix
	// Tags are the owner's, in the network resource group.
	Tags map[string]string
	// Network is the hub; Target is the stack that creates the network.
	Network, Target awscdk.Stack
}

// NewLinkStack creates a link stack: the production's Transit Gateway
// route table (management and on-premises only) and scheduler access.
func NewLinkStack(scope constructs.Construct, props LinkStackProps) awscdk.Stack {
	s := props.Studio
	st := NewEstateStack(scope, StackProps{
		Studio: s, Name: props.Names.LinkStack(props.Owner), Account: s.ManagementAccount, Region: s.Region,
		Description: fmt.Sprintf("Joins %s to the Transit Gateway: production route table (management and on-premises only) and scheduler access", props.Owner),
		Tags:        withGroup(props.Tags, tagging.Network),
	})
	var license []int
	for _, l := range s.LicenseServers {
		license = append(license, int(l.Port))
	}
	network.NewLink(st, "Link", network.LinkProps{
		Owner:          props.Owner,
		Parameters:     props.Names.Parameters(),
		ReaderRoleArn:  names.RoleArn(props.Account, names.Role(props.Owner, names.TgwReader)),
		AttachmentTags: attachmentTags(s, props.Owner),
		Cidr:           props.Cidr,
		SchedulerPorts: ints(s.Scheduler.Ports),
		LicensePorts:   license,
		WorkerPorts:    ints(s.Scheduler.WorkerPorts),
	})
	dependsOn(st, props.Network, "reads the hub's published ids")
	dependsOn(st, props.Target, "finds the attachment the network's stack creates")
	return st
}

func ints(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func strs(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// principals are people the manifests name, as the trust of a role in
// another account sees them: sessions of the studio's management account.
func principals(s *manifest.Studio, people []manifest.Person) access.Principals {
	var out access.Principals
	for _, p := range people {
		if p.SSO() {
			out.SSO = append(out.SSO, p.PrincipalArns(s.ManagementAccount)...)
		} else {
			out.Roles = append(out.Roles, p.RoleArn)
		}
	}
	return out
}
