package network

import (
	"fmt"
	"net/netip"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsram"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The subnet tiers of the management VPC (ISE 2.2, 2.3).
const (
	FrontEndTier    = "front-end"   // NAT gateways only: the one internet path
	ApplicationTier = "application" // render scheduler, license server
	DataTier        = "data"
)

// LicenseServer is one internet license endpoint.
type LicenseServer struct {
	Name string
	Cidr netip.Prefix
	Port int
}

// Vpn is a site-to-site VPN to the studio.
type Vpn struct {
	CustomerGatewayIP string
	BgpAsn            int64
}

// HubProps configures the management network.
type HubProps struct {
	Studio  string
	Account string
	Region  string
	Cidr    netip.Prefix
	Zones   []string
	Asn     int64
	OnPrem  []netip.Prefix
	Vpn     *Vpn
	// PrivateRanges are routed to the Transit Gateway: every production lies
	// inside them, so management's routes never grow with the estate.
	PrivateRanges  []netip.Prefix
	LicenseServers []LicenseServer
	SchedulerPorts []int
	// WorkerPorts are the ports the scheduler opens on render nodes
	// (scheduler.workerPorts); the link stacks open them per production.
	WorkerPorts []int
	// ShareWith are the principals the Transit Gateway is shared with: an
	// organization ARN, or AWS account ids.
	ShareWith []string
	// InsideOrganization: refuse to share outside the AWS organization.
	InsideOrganization bool
	// Endpoints is who may call through the management endpoints, on whose
	// resources.
	Endpoints    Perimeter
	FlowLogKey   awskms.IKey
	FlowLogGroup string
	// FlowLogArchive, when its Bucket is set, copies the flow logs to the
	// log-archive account.
	FlowLogArchive ArchiveFlowLogs
	// Parameters is the SSM path under which the hub publishes the ids that
	// link stacks read, e.g. /renderenv/acme.
	Parameters string
}

// Hub is the management network and the Transit Gateway.
type Hub struct {
	constructs.Construct
	Vpc                  awsec2.Vpc
	TransitGateway       awsec2.CfnTransitGateway
	ManagementRouteTable awsec2.CfnTransitGatewayRouteTable
	ProductionRouteTable awsec2.CfnTransitGatewayRouteTable
	SchedulerGroup       awsec2.SecurityGroup
	LicenseGroup         awsec2.SecurityGroup
	ManagementAttachment awsec2.CfnTransitGatewayAttachment
	VpnConnection        awsec2.CfnVPNConnection
}

// Parameter names the hub publishes under HubProps.Parameters.
const (
	ParamTransitGateway       = "transit-gateway-id"
	ParamProductionRouteTable = "production-route-table-id"
	ParamManagementRouteTable = "management-route-table-id"
	ParamSchedulerGroup       = "scheduler-security-group-id"
	ParamLicenseGroup         = "license-security-group-id"
)

// NewHub creates the management VPC and the Transit Gateway with its route
// tables, VPN and sharing.
func NewHub(scope constructs.Construct, id string, props HubProps) *Hub {
	c := constructs.NewConstruct(scope, jsii.String(id))
	h := &Hub{Construct: c}
	h.vpc(c, props)
	h.transit(c, props)
	h.groups(c, props)
	// In a fixed order, so that the template is the same byte for byte
	// on every synthesis.
	for _, p := range []struct {
		name  string
		value *string
	}{
		{ParamTransitGateway, h.TransitGateway.Ref()},
		{ParamProductionRouteTable, h.ProductionRouteTable.Ref()},
		{ParamManagementRouteTable, h.ManagementRouteTable.Ref()},
		{ParamSchedulerGroup, h.SchedulerGroup.SecurityGroupId()},
		{ParamLicenseGroup, h.LicenseGroup.SecurityGroupId()},
	} {
		awsssm.NewStringParameter(c, jsii.String("Param-"+p.name), &awsssm.StringParameterProps{
			ParameterName: jsii.String(props.Parameters + "/" + p.name),
			StringValue:   p.value,
			Description:   jsii.String("Published by the network stack for the production link stacks"),
		})
	}
	return h
}

func (h *Hub) vpc(c constructs.Construct, props HubProps) {
	m := tierMasks(props.Cidr, len(props.Zones), 4)
	h.Vpc = awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		VpcName:                      jsii.String(props.Studio + "-management"),
		IpAddresses:                  awsec2.IpAddresses_Cidr(jsii.String(props.Cidr.String())),
		AvailabilityZones:            jsii.Strings(props.Zones...),
		NatGateways:                  jsii.Number(float64(len(props.Zones))),
		NatGatewaySubnets:            &awsec2.SubnetSelection{SubnetGroupName: jsii.String(FrontEndTier)},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String(ApplicationTier), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(m[0])},
			isolatedTier(DataTier, m[1]),
			// Public only to hold the NAT gateways: nothing launched here
			// gets a public address.
			{Name: jsii.String(FrontEndTier), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(m[2]), MapPublicIpOnLaunch: jsii.Bool(false)},
			isolatedTier(TransitTier, m[3]),
		},
	})
	NewFlowLogs(c, h.Vpc, props.FlowLogKey, props.FlowLogGroup, props.FlowLogArchive)

	mgmt := props.Cidr.String()
	onPrem := strs(props.OnPrem)
	private := strs(props.PrivateRanges)
	var license, reply []Rule
	for _, l := range props.LicenseServers {
		license = append(license, Rule{Cidr: l.Cidr.String(), FromPort: l.Port, ToPort: l.Port, Direction: "out"})
		reply = append(reply, Rule{Cidr: l.Cidr.String(), FromPort: EphemeralFrom, ToPort: EphemeralTo, Direction: "in"})
	}
	// Front end: NAT traffic from the VPC to the license servers and back.
	NewAcl(c, "FrontEndAcl", h.Vpc, &awsec2.SubnetSelection{SubnetGroupName: jsii.String(FrontEndTier)},
		concat([]Rule{{Cidr: mgmt}}, license, reply))
	// Application: the VPC, on-premises, productions on the scheduler and
	// license ports, and the license servers through NAT.
	app := []Rule{{Cidr: mgmt}}
	app = append(app, allowAll(onPrem)...)
	for _, p := range private {
		for _, port := range props.SchedulerPorts {
			app = append(app, Rule{Cidr: p, FromPort: port, ToPort: port, Direction: "in"})
		}
		for _, l := range props.LicenseServers {
			app = append(app, Rule{Cidr: p, FromPort: l.Port, ToPort: l.Port, Direction: "in"})
		}
		app = append(app, Rule{Cidr: p, FromPort: EphemeralFrom, ToPort: EphemeralTo, Direction: "out"})
		if len(props.WorkerPorts) > 0 {
			// Replies to the scheduler's own connections to render nodes.
			app = append(app, Rule{Cidr: p, FromPort: InstanceEphemeralFrom, ToPort: EphemeralTo, Direction: "in"})
		}
	}
	NewAcl(c, "ApplicationAcl", h.Vpc, &awsec2.SubnetSelection{SubnetGroupName: jsii.String(ApplicationTier)},
		concat(app, license, reply))
	// Data: the VPC and on-premises only.
	NewAcl(c, "DataAcl", h.Vpc, &awsec2.SubnetSelection{SubnetGroupName: jsii.String(DataTier)},
		concat([]Rule{{Cidr: mgmt}}, allowAll(onPrem)))
	// Transit: what the Transit Gateway carries, private ranges and on-premises.
	NewAcl(c, "TransitAcl", h.Vpc, &awsec2.SubnetSelection{SubnetGroupName: jsii.String(TransitTier)},
		concat([]Rule{{Cidr: mgmt}}, allowAll(private), allowAll(onPrem)))

	group := endpointGroup(c, h.Vpc, props.Studio+"-management", mgmt)
	addInterfaceEndpoints(h.Vpc, DataTier, group, []string{"ec2", "ec2messages", "kms", "logs", "ssm", "ssmmessages", "sts"}, props.Endpoints)
}

func (h *Hub) transit(c constructs.Construct, props HubProps) {
	h.TransitGateway = awsec2.NewCfnTransitGateway(c, jsii.String("TransitGateway"), &awsec2.CfnTransitGatewayProps{
		Description:   jsii.String(props.Studio + " render estate: productions reach management and on-premises, never each other"),
		AmazonSideAsn: jsii.Number(float64(props.Asn)),
		// Nothing joins a route table by default: every association and
		// propagation is explicit, so no production can be wired to another
		// by accident (ISE 2.2).
		DefaultRouteTableAssociation: jsii.String("disable"),
		DefaultRouteTablePropagation: jsii.String("disable"),
		AutoAcceptSharedAttachments:  jsii.String("enable"),
		DnsSupport:                   jsii.String("enable"),
		VpnEcmpSupport:               jsii.String("enable"),
		MulticastSupport:             jsii.String("disable"),
	})
	tgw := h.TransitGateway.Ref()
	h.ManagementRouteTable = awsec2.NewCfnTransitGatewayRouteTable(c, jsii.String("ManagementRouteTable"), &awsec2.CfnTransitGatewayRouteTableProps{
		TransitGatewayId: tgw,
		Tags:             &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(props.Studio + "-management")}},
	})
	h.ProductionRouteTable = awsec2.NewCfnTransitGatewayRouteTable(c, jsii.String("ProductionRouteTable"), &awsec2.CfnTransitGatewayRouteTableProps{
		TransitGatewayId: tgw,
		Tags:             &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(props.Studio + "-productions")}},
	})
	transit := h.Vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(TransitTier)})
	h.ManagementAttachment = awsec2.NewCfnTransitGatewayAttachment(c, jsii.String("ManagementAttachment"), &awsec2.CfnTransitGatewayAttachmentProps{
		VpcId:            h.Vpc.VpcId(),
		SubnetIds:        toAny(transit.SubnetIds),
		TransitGatewayId: tgw,
		Options:          map[string]any{"DnsSupport": "enable"},
	})
	attach := h.ManagementAttachment.AttrId()
	associate(c, "ManagementAssociation", attach, h.ManagementRouteTable.Ref())
	propagate(c, "ManagementToManagement", attach, h.ManagementRouteTable.Ref())
	// Productions learn only the management VPC (and on-premises, below).
	propagate(c, "ManagementToProductions", attach, h.ProductionRouteTable.Ref())

	routes := append([]string(nil), strs(props.PrivateRanges)...)
	for _, o := range props.OnPrem {
		if !within(o, props.PrivateRanges) {
			routes = append(routes, o.String())
		}
	}
	routeTo(c, h.Vpc, []string{ApplicationTier, DataTier, TransitTier}, routes, tgw, h.ManagementAttachment)

	if props.Vpn != nil {
		h.vpn(c, props)
	}

	// Share the Transit Gateway with the production accounts (AWS RAM).
	if len(props.ShareWith) > 0 {
		awsram.NewCfnResourceShare(c, jsii.String("Share"), &awsram.CfnResourceShareProps{
			Name:                    jsii.String(props.Studio + "-transit-gateway"),
			ResourceArns:            jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s:%s:transit-gateway/%s", props.Region, props.Account, *tgw)),
			Principals:              jsii.Strings(props.ShareWith...),
			AllowExternalPrincipals: jsii.Bool(!props.InsideOrganization),
		})
	}
}

// vpn connects the studio over IPsec with IKEv2 and only strong algorithms
// (ISE 2.7, 2.8).
func (h *Hub) vpn(c constructs.Construct, props HubProps) {
	cgw := awsec2.NewCfnCustomerGateway(c, jsii.String("CustomerGateway"), &awsec2.CfnCustomerGatewayProps{
		Type:      jsii.String("ipsec.1"),
		IpAddress: jsii.String(props.Vpn.CustomerGatewayIP),
		BgpAsn:    jsii.Number(float64(props.Vpn.BgpAsn)),
	})
	strong := func(vs ...string) []any {
		out := make([]any, len(vs))
		for i, v := range vs {
			out[i] = map[string]any{"value": v}
		}
		return out
	}
	groups := []any{map[string]any{"value": 20}, map[string]any{"value": 21}}
	tunnel := &awsec2.CfnVPNConnection_VpnTunnelOptionsSpecificationProperty{
		IkeVersions:                strong("ikev2"),
		Phase1EncryptionAlgorithms: strong("AES256-GCM-16", "AES256"),
		Phase2EncryptionAlgorithms: strong("AES256-GCM-16", "AES256"),
		Phase1IntegrityAlgorithms:  strong("SHA2-384", "SHA2-512"),
		Phase2IntegrityAlgorithms:  strong("SHA2-384", "SHA2-512"),
		Phase1DhGroupNumbers:       groups,
		Phase2DhGroupNumbers:       groups,
	}
	h.VpnConnection = awsec2.NewCfnVPNConnection(c, jsii.String("Vpn"), &awsec2.CfnVPNConnectionProps{
		Type:                           jsii.String("ipsec.1"),
		CustomerGatewayId:              cgw.Ref(),
		TransitGatewayId:               h.TransitGateway.Ref(),
		StaticRoutesOnly:               jsii.Bool(false),
		VpnTunnelOptionsSpecifications: []any{tunnel, tunnel},
	})
	// CloudFormation does not return a VPN's Transit Gateway attachment, so
	// it is looked up once the VPN exists.
	find := customresources.NewAwsCustomResource(c, jsii.String("VpnAttachment"), &customresources.AwsCustomResourceProps{
		OnCreate:            vpnLookup(h.VpnConnection.Ref(), h.TransitGateway.Ref()),
		OnUpdate:            vpnLookup(h.VpnConnection.Ref(), h.TransitGateway.Ref()),
		Policy:              customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{Resources: customresources.AwsCustomResourcePolicy_ANY_RESOURCE()}),
		InstallLatestAwsSdk: jsii.Bool(false),
	})
	attach := find.GetResponseField(jsii.String("TransitGatewayAttachments.0.TransitGatewayAttachmentId"))
	associate(c, "VpnAssociation", attach, h.ManagementRouteTable.Ref())
	propagate(c, "VpnToManagement", attach, h.ManagementRouteTable.Ref())
	propagate(c, "VpnToProductions", attach, h.ProductionRouteTable.Ref())
}

func vpnLookup(vpn, tgw *string) *customresources.AwsSdkCall {
	return &customresources.AwsSdkCall{
		Service: jsii.String("EC2"),
		Action:  jsii.String("describeTransitGatewayAttachments"),
		Parameters: map[string]any{"Filters": []map[string]any{
			{"Name": "resource-id", "Values": []*string{vpn}},
			{"Name": "transit-gateway-id", "Values": []*string{tgw}},
		}},
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String("TransitGatewayAttachments.0.TransitGatewayAttachmentId")),
		OutputPaths:        jsii.Strings("TransitGatewayAttachments.0.TransitGatewayAttachmentId"),
	}
}

// groups creates the scheduler and license server security groups. Their
// ingress from each production is added by that production's link stack,
// so this stack does not grow with the estate.
func (h *Hub) groups(c constructs.Construct, props HubProps) {
	mgmt := awsec2.Peer_Ipv4(jsii.String(props.Cidr.String()))
	h.SchedulerGroup = awsec2.NewSecurityGroup(c, jsii.String("SchedulerGroup"), &awsec2.SecurityGroupProps{
		Vpc:              h.Vpc,
		Description:      jsii.String(props.Studio + " render scheduler: TLS from productions and on-premises"),
		AllowAllOutbound: jsii.Bool(false),
	})
	h.SchedulerGroup.AddEgressRule(mgmt, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("AWS APIs through the management endpoints"), nil)
	for _, o := range props.OnPrem {
		for _, port := range props.SchedulerPorts {
			h.SchedulerGroup.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(o.String())), awsec2.Port_Tcp(jsii.Number(float64(port))), jsii.String("Scheduler TLS from on-premises"), nil)
		}
	}
	h.LicenseGroup = awsec2.NewSecurityGroup(c, jsii.String("LicenseGroup"), &awsec2.SecurityGroupProps{
		Vpc:              h.Vpc,
		Description:      jsii.String(props.Studio + " license server: egress to the named license servers only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	h.LicenseGroup.AddEgressRule(mgmt, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("AWS APIs through the management endpoints"), nil)
	for _, l := range props.LicenseServers {
		h.LicenseGroup.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(l.Cidr.String())), awsec2.Port_Tcp(jsii.Number(float64(l.Port))), jsii.String("License server "+l.Name), nil)
	}
}

func associate(scope constructs.Construct, id string, attachment, table *string) awsec2.CfnTransitGatewayRouteTableAssociation {
	return awsec2.NewCfnTransitGatewayRouteTableAssociation(scope, jsii.String(id), &awsec2.CfnTransitGatewayRouteTableAssociationProps{
		TransitGatewayAttachmentId: attachment,
		TransitGatewayRouteTableId: table,
	})
}

func propagate(scope constructs.Construct, id string, attachment, table *string) awsec2.CfnTransitGatewayRouteTablePropagation {
	return awsec2.NewCfnTransitGatewayRouteTablePropagation(scope, jsii.String(id), &awsec2.CfnTransitGatewayRouteTablePropagationProps{
		TransitGatewayAttachmentId: attachment,
		TransitGatewayRouteTableId: table,
	})
}

func allowAll(cidrs []string) []Rule {
	out := make([]Rule, len(cidrs))
	for i, c := range cidrs {
		out[i] = Rule{Cidr: c}
	}
	return out
}

func concat(parts ...[]Rule) []Rule {
	var out []Rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func within(p netip.Prefix, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
