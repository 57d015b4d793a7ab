package network

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/renderenv/renderenv/internal/names"
)

// How a production joins the Transit Gateway without anyone copying ids:
//
//  1. The production stack (production account) finds the shared Transit
//     Gateway by owner and ASN, attaches its VPC and tags the attachment
//     with the studio and network name. It also creates a read-only role
//     that the management account may assume to find that attachment.
//  2. The production's link stack (management account) assumes that role,
//     finds the attachment by its tags, associates it with the production
//     route table, routes the production's declared CIDR to it from the
//     management route table, and opens the scheduler and license ports to
//     that CIDR.
//
// All of a production's wiring lives in its own two stacks, so adding or
// removing one never changes the network stack or another production.

// The attachment reader is the role a link stack assumes in the production
// account to find the attachment.

// NewAttachmentReader lets the look-up role of the network's link stack
// read the production account's Transit Gateway attachments, and nothing
// else. It trusts that one role by aws:PrincipalArn, not the management
// account: any other principal there is refused, and the role need not
// exist yet (the link stack deploys after the production).
func NewAttachmentReader(scope constructs.Construct, prefix, managementAccount string) awsiam.Role {
	lookup := names.RoleArn(managementAccount, names.Role(prefix, names.LinkLookup))
	role := awsiam.NewRole(scope, jsii.String("AttachmentReader"), &awsiam.RoleProps{
		RoleName:    jsii.String(names.Role(prefix, names.TgwReader)),
		Description: jsii.String(prefix + ": lets the management account's link stack find this network's Transit Gateway attachment"),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(managementAccount)).WithConditions(&map[string]any{
			"ArnEquals": map[string]any{"aws:PrincipalArn": lookup},
		}),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeTransitGatewayVpcAttachments"),
		Resources: jsii.Strings("*"),
	}))
	return role
}

// TransitGatewayRef says how a production stack finds the Transit Gateway.
type TransitGatewayRef struct {
	// ID, when the studio pins it, is used as is.
	ID string
	// Otherwise the shared gateway is found by its owner and ASN.
	Owner string
	Asn   int64
}

// LookupTransitGateway returns the Transit Gateway id as a deploy-time value.
func LookupTransitGateway(scope constructs.Construct, ref TransitGatewayRef) *string {
	if ref.ID != "" {
		return jsii.String(ref.ID)
	}
	call := &customresources.AwsSdkCall{
		Service: jsii.String("EC2"),
		Action:  jsii.String("describeTransitGateways"),
		Parameters: map[string]any{"Filters": []map[string]any{
			{"Name": "owner-id", "Values": []string{ref.Owner}},
			{"Name": "options.amazon-side-asn", "Values": []string{fmt.Sprint(ref.Asn)}},
			{"Name": "state", "Values": []string{"available"}},
		}},
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String("TransitGateways.0.TransitGatewayId")),
		OutputPaths:        jsii.Strings("TransitGateways.0.TransitGatewayId"),
	}
	cr := customresources.NewAwsCustomResource(scope, jsii.String("TransitGatewayLookup"), &customresources.AwsCustomResourceProps{
		OnCreate:            call,
		OnUpdate:            call,
		Policy:              customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{Resources: customresources.AwsCustomResourcePolicy_ANY_RESOURCE()}),
		InstallLatestAwsSdk: jsii.Bool(false),
	})
	return cr.GetResponseField(jsii.String("TransitGateways.0.TransitGatewayId"))
}

// LinkProps wires one production network into the Transit Gateway.
type LinkProps struct {
	// Owner names the network (its stack): the link's look-up role is
	// <Owner>-link-lookup, the one principal its attachment reader trusts.
	Owner string
	// Parameters is the hub's SSM path (HubProps.Parameters).
	Parameters string
	// ReaderRoleArn is the production account's attachment reader.
	ReaderRoleArn  string
	AttachmentTags map[string]string
	Cidr           netip.Prefix
	SchedulerPorts []int
	LicensePorts   []int
	// WorkerPorts are opened from the scheduler to the production.
	WorkerPorts []int
}

// Link is a production's side of the management account.
type Link struct {
	constructs.Construct
	Association awsec2.CfnTransitGatewayRouteTableAssociation
	Route       awsec2.CfnTransitGatewayRoute
}

// NewLink associates the production's attachment with the production route
// table (management and on-premises routes only) and routes the declared
// CIDR to it from the management route table. A static route, not a
// propagation: a propagation would also carry any range the production's
// account adds to its VPC later (a secondary CIDR inside another
// production's range, more specific than that production's route), drawing
// management's and on-premises traffic for another production to it.
func NewLink(scope constructs.Construct, id string, props LinkProps) *Link {
	c := constructs.NewConstruct(scope, jsii.String(id))
	param := func(name string) *string {
		return awsssm.StringParameter_ValueForStringParameter(c, jsii.String(props.Parameters+"/"+name), nil)
	}
	tgw := param(ParamTransitGateway)
	filters := []map[string]any{{"Name": "transit-gateway-id", "Values": []*string{tgw}}}
	for _, k := range slices.Sorted(maps.Keys(props.AttachmentTags)) {
		filters = append(filters, map[string]any{"Name": "tag:" + k, "Values": []string{props.AttachmentTags[k]}})
	}
	call := &customresources.AwsSdkCall{
		Service:            jsii.String("EC2"),
		Action:             jsii.String("describeTransitGatewayVpcAttachments"),
		AssumedRoleArn:     jsii.String(props.ReaderRoleArn),
		Parameters:         map[string]any{"Filters": filters},
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String("TransitGatewayVpcAttachments.0.TransitGatewayAttachmentId")),
		OutputPaths:        jsii.Strings("TransitGatewayVpcAttachments.0.TransitGatewayAttachmentId"),
	}
	find := customresources.NewAwsCustomResource(c, jsii.String("FindAttachment"), &customresources.AwsCustomResourceProps{
		OnCreate: call,
		OnUpdate: call,
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("sts:AssumeRole"),
				Resources: jsii.Strings(props.ReaderRoleArn),
			}),
		}),
		Role:                lookupRole(c, props.Owner),
		InstallLatestAwsSdk: jsii.Bool(false),
	})
	attachment := find.GetResponseField(jsii.String("TransitGatewayVpcAttachments.0.TransitGatewayAttachmentId"))
	l := &Link{Construct: c}
	l.Association = associate(c, "Association", attachment, param(ParamProductionRouteTable))
	l.Route = awsec2.NewCfnTransitGatewayRoute(c, jsii.String("ManagementRoute"), &awsec2.CfnTransitGatewayRouteProps{
		TransitGatewayRouteTableId: param(ParamManagementRouteTable),
		DestinationCidrBlock:       jsii.String(props.Cidr.String()),
		TransitGatewayAttachmentId: attachment,
	})

	peer := props.Cidr.String()
	for _, g := range []struct {
		param string
		ports []int
		what  string
	}{{ParamSchedulerGroup, props.SchedulerPorts, "scheduler"}, {ParamLicenseGroup, props.LicensePorts, "license"}} {
		for _, port := range g.ports {
			awsec2.NewCfnSecurityGroupIngress(c, jsii.Sprintf("%sIngress%d", g.what, port), &awsec2.CfnSecurityGroupIngressProps{
				GroupId:     param(g.param),
				IpProtocol:  jsii.String("tcp"),
				FromPort:    jsii.Number(float64(port)),
				ToPort:      jsii.Number(float64(port)),
				CidrIp:      jsii.String(peer),
				Description: jsii.String(fmt.Sprintf("%s port %d from %s", g.what, port, peer)),
			})
		}
	}
	for _, port := range props.WorkerPorts {
		awsec2.NewCfnSecurityGroupEgress(c, jsii.Sprintf("schedulerEgress%d", port), &awsec2.CfnSecurityGroupEgressProps{
			GroupId:     param(ParamSchedulerGroup),
			IpProtocol:  jsii.String("tcp"),
			FromPort:    jsii.Number(float64(port)),
			ToPort:      jsii.Number(float64(port)),
			CidrIp:      jsii.String(peer),
			Description: jsii.String(fmt.Sprintf("scheduler to render node worker port %d in %s", port, peer)),
		})
	}
	return l
}

// lookupRole is the fixed-name execution role of the link stack's look-up
// function (the stack's one AwsCustomResource provider), so that the
// production's attachment reader can trust exactly it.
func lookupRole(scope constructs.Construct, owner string) awsiam.Role {
	return awsiam.NewRole(scope, jsii.String("LookupRole"), &awsiam.RoleProps{
		RoleName:        jsii.String(names.Role(owner, names.LinkLookup)),
		Description:     jsii.String(owner + ": the link stack's look-up function, the only principal the network's attachment reader trusts"),
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWSLambdaBasicExecutionRole"))},
	})
}

// LookupS3PrefixList returns the region's S3 prefix list id, the destination
// of the gateway endpoint's routes, for security group egress rules.
func LookupS3PrefixList(scope constructs.Construct, region string) *string {
	call := &customresources.AwsSdkCall{
		Service: jsii.String("EC2"),
		Action:  jsii.String("describeManagedPrefixLists"),
		Parameters: map[string]any{"Filters": []map[string]any{
			{"Name": "prefix-list-name", "Values": []string{"com.amazonaws." + region + ".s3"}},
		}},
		PhysicalResourceId: customresources.PhysicalResourceId_FromResponse(jsii.String("PrefixLists.0.PrefixListId")),
		OutputPaths:        jsii.Strings("PrefixLists.0.PrefixListId"),
	}
	cr := customresources.NewAwsCustomResource(scope, jsii.String("S3PrefixListLookup"), &customresources.AwsCustomResourceProps{
		OnCreate:            call,
		OnUpdate:            call,
		Policy:              customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{Resources: customresources.AwsCustomResourcePolicy_ANY_RESOURCE()}),
		InstallLatestAwsSdk: jsii.Bool(false),
	})
	return cr.GetResponseField(jsii.String("PrefixLists.0.PrefixListId"))
}
