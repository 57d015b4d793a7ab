package network

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The subnet tiers of a production VPC (ISE 2.3). None has a route to the
// internet.
const (
	RenderTier    = "render"
	StorageTier   = "storage"
	EndpointsTier = "endpoints"
	TransitTier   = "transit"
)

// ProductionVpcProps is a resolved production network.
type ProductionVpcProps struct {
	Name    string // VPC name, e.g. acme-nightfall
	Cidr    netip.Prefix
	Zones   []string
	Account string
	Region  string
	// ManagementCidr and OnPremCidrs are all a production may reach.
	ManagementCidr netip.Prefix
	OnPremCidrs    []netip.Prefix
	// DenyCidrs are denied explicitly after the allows: ranges that hold
	// every other production (ISE 2.6).
	DenyCidrs []netip.Prefix
	// TransitGatewayID is the studio's Transit Gateway (a deploy-time value).
	TransitGatewayID *string
	// AttachmentTags identify the attachment to the management account's
	// link stack, which associates it.
	AttachmentTags map[string]string
	// FlowLogKey encrypts the flow log group (the logging key).
	FlowLogKey   awskms.IKey
	FlowLogGroup string
	// Archive, when its Bucket is set, copies the flow logs to the
	// log-archive account.
	Archive ArchiveFlowLogs
	// SessionArchive, when set, is the log-archive bucket render nodes
	// write their sessions to (under sessions/<account>/): the S3 endpoint
	// admits those writes besides the production's own buckets.
	SessionArchive string
	// Endpoints are the interface endpoint services, e.g. kms, ecr.api.
	Endpoints []string
	// BucketArns are the only buckets (and their objects) the S3 gateway
	// endpoint admits, besides the AWS-owned buckets SSM and OS updates need.
	BucketArns []string
	// DNSZones are the studio's own zones the VPC may resolve besides the
	// AWS names of its endpoints; the DNS Firewall blocks every other name.
	DNSZones []string
	// QueryLogGroup receives the VPC's DNS queries, encrypted with
	// FlowLogKey (the logging key).
	QueryLogGroup string
	// EndpointsReachOnPremises routes the endpoint tier to the on-premises
	// ranges: an agent there (DataSync's) talks to an endpoint of the VPC,
	// which must be able to answer.
	EndpointsReachOnPremises bool
}

// ProductionVpc is a private production network.
type ProductionVpc struct {
	constructs.Construct
	Props             ProductionVpcProps
	Vpc               awsec2.Vpc
	EndpointGroup     awsec2.SecurityGroup
	Attachment        awsec2.CfnTransitGatewayAttachment
	S3Endpoint        awsec2.GatewayVpcEndpoint
	InterfaceEndpoint map[string]awsec2.InterfaceVpcEndpoint
	DNSFirewall       *DNSFirewall
}

// NewProductionVpc creates the VPC, its ACLs, endpoints, flow logs, DNS
// Firewall and query logs, and the Transit Gateway attachment with its
// routes.
func NewProductionVpc(scope constructs.Construct, id string, props ProductionVpcProps) *ProductionVpc {
	c := constructs.NewConstruct(scope, jsii.String(id))
	masks := tierMasks(props.Cidr, len(props.Zones), 4)
	vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		VpcName:               jsii.String(props.Name),
		IpAddresses:           awsec2.IpAddresses_Cidr(jsii.String(props.Cidr.String())),
		AvailabilityZones:     jsii.Strings(props.Zones...),
		NatGateways:           jsii.Number(0),
		CreateInternetGateway: jsii.Bool(false),
		EnableDnsHostnames:    jsii.Bool(true),
		EnableDnsSupport:      jsii.Bool(true),
		// ISE 2.5: the default security group keeps no rules, so nothing
		// that lands in it by mistake can talk.
		RestrictDefaultSecurityGroup: jsii.Bool(true),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			isolatedTier(RenderTier, masks[0]),
			isolatedTier(StorageTier, masks[1]),
			isolatedTier(EndpointsTier, masks[2]),
			isolatedTier(TransitTier, masks[3]),
		},
	})
	p := &ProductionVpc{Construct: c, Vpc: vpc, Props: props}
	NewFlowLogs(c, vpc, props.FlowLogKey, props.FlowLogGroup, props.Archive)

	// ISE 2.6: allow the VPC itself, management and on-premises; then deny
	// every private range, which holds every other production whatever its
	// tier; then HTTPS to AWS public ranges, which only the S3 gateway
	// endpoint's prefix-list route can carry (there is no internet route),
	// and its replies to the instances' ephemeral ports (Linux 32768-60999,
	// Windows 49152-65535), a range that holds neither SSH nor RDP.
	rules := []Rule{{Cidr: props.Cidr.String()}, {Cidr: props.ManagementCidr.String()}}
	for _, c := range props.OnPremCidrs {
		rules = append(rules, Rule{Cidr: c.String()})
	}
	for _, c := range props.DenyCidrs {
		rules = append(rules, Rule{Cidr: c.String(), Deny: true})
	}
	rules = append(rules,
		Rule{Cidr: "0.0.0.0/0", FromPort: 443, ToPort: 443, Direction: "out"},
		Rule{Cidr: "0.0.0.0/0", FromPort: InstanceEphemeralFrom, ToPort: EphemeralTo, Direction: "in"},
	)
	NewAcl(c, "Acl", vpc, &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}, rules)

	p.addEndpoints(c, props)
	// No internet path is not enough: DNS is an exit of its own.
	p.DNSFirewall = NewDNSFirewall(c, "Dns", DNSFirewallProps{
		Name:        props.Name,
		VpcID:       vpc.VpcId(),
		AwsDomains:  AwsDomains(props.Region, props.Endpoints, props.reachedBuckets()),
		StudioZones: props.DNSZones,
		LogKey:      props.FlowLogKey,
		LogGroup:    props.QueryLogGroup,
	})

	tags := []*awscdk.CfnTag{}
	for _, k := range slices.Sorted(maps.Keys(props.AttachmentTags)) {
		tags = append(tags, &awscdk.CfnTag{Key: jsii.String(k), Value: jsii.String(props.AttachmentTags[k])})
	}
	transit := vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(TransitTier)})
	p.Attachment = awsec2.NewCfnTransitGatewayAttachment(c, jsii.String("Attachment"), &awsec2.CfnTransitGatewayAttachmentProps{
		VpcId:            vpc.VpcId(),
		SubnetIds:        toAny(transit.SubnetIds),
		TransitGatewayId: props.TransitGatewayID,
		Options:          map[string]any{"DnsSupport": "enable", "ApplianceModeSupport": "disable"},
		Tags:             &tags,
	})
	var reach []string
	reach = append(reach, props.ManagementCidr.String())
	reach = append(reach, strs(props.OnPremCidrs)...)
	routeTo(c, vpc, []string{RenderTier, StorageTier}, reach, props.TransitGatewayID, p.Attachment)
	if props.EndpointsReachOnPremises {
		routeTo(c, vpc, []string{EndpointsTier}, strs(props.OnPremCidrs), props.TransitGatewayID, p.Attachment)
	}
	return p
}

// addEndpoints builds the data perimeter of reference 000: the VPC reaches
// AWS only through endpoints whose policies admit only the production
// account's principals and, for S3, only the production's buckets.
func (p *ProductionVpc) addEndpoints(scope constructs.Construct, props ProductionVpcProps) {
	p.EndpointGroup = endpointGroup(scope, p.Vpc, props.Name, props.Cidr.String())

	p.S3Endpoint = p.Vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}},
	})
	anyone := &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}
	var own []string
	for _, b := range props.BucketArns {
		own = append(own, b, b+"/*")
	}
	// A pool whose productions all have VPCs of their own serves no bucket.
	if len(own) > 0 {
		p.S3Endpoint.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OwnBucketsOwnAccount"),
			Principals: anyone,
			Actions:    jsii.Strings("s3:*"),
			Resources:  jsii.Strings(own...),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": props.Account}},
		}))
	}
	if b := props.SessionArchive; b != "" {
		// Sessions go to the log-archive account: its bucket's policy names
		// each render role and its prefix; here only this account's
		// principals, only writes, only under the account's prefix.
		p.S3Endpoint.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ArchiveSessionsInTheLogArchive"),
			Principals: anyone,
			Actions:    jsii.Strings("s3:PutObject", "s3:PutObjectAcl", "s3:GetEncryptionConfiguration"),
			Resources:  jsii.Strings("arn:aws:s3:::"+b, "arn:aws:s3:::"+b+"/sessions/"+props.Account+"/*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": props.Account}},
		}))
	}
	p.S3Endpoint.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ReadAwsOwnedBucketsForSsmAndUpdates"),
		Principals: anyone,
		Actions:    jsii.Strings("s3:GetObject"),
		Resources:  jsii.Strings(AwsOwnedBuckets(props.Region)...),
	}))

	// Everything a production calls AWS about is in its own account.
	p.InterfaceEndpoint = addInterfaceEndpoints(p.Vpc, EndpointsTier, p.EndpointGroup, props.Endpoints, Perimeter{
		Principals: map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": props.Account}},
		Resources:  map[string]any{"StringEquals": map[string]any{"aws:ResourceAccount": props.Account}},
	})
}

// AwsOwnedBuckets are the AWS buckets that SSM Agent, Session Manager, patching
// and Amazon Linux package updates read from, in region.
func AwsOwnedBuckets(region string) []string {
	names := []string{
		"aws-ssm-%s", "amazon-ssm-%s", "amazon-ssm-packages-%s", "%s-birdwatcher-prod",
		"aws-ssm-distributor-file-%s", "aws-ssm-document-attachments-%s", "patch-baseline-snapshot-%s",
		"amazonlinux-2-repos-%s", "al2023-repos-%s-de612dc2", "amazonlinux.%s.amazonaws.com",
		"aws-patchmanager-macos-%s", "prod-%s-starport-layer-bucket",
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "arn:aws:s3:::" + fmt.Sprintf(n, region) + "/*"
	}
	return out
}

// reachedBuckets are the buckets the VPC's names resolve for: its own and
// the log-archive bucket it writes sessions to.
func (props ProductionVpcProps) reachedBuckets() []string {
	if props.SessionArchive == "" {
		return props.BucketArns
	}
	return append(slices.Clone(props.BucketArns), "arn:aws:s3:::"+props.SessionArchive)
}

func toAny(s *[]*string) *[]any {
	out := make([]any, len(*s))
	for i, v := range *s {
		out[i] = v
	}
	return &out
}
