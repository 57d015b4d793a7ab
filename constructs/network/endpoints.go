package network

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// addInterfaceEndpoints creates one private-DNS interface endpoint per
// service in the subnets, behind group, each with a policy that admits only
// principals matching condition (the identity half of the data perimeter).
func addInterfaceEndpoints(vpc awsec2.Vpc, subnets string, group awsec2.ISecurityGroup, services []string, condition map[string]any) map[string]awsec2.InterfaceVpcEndpoint {
	out := map[string]awsec2.InterfaceVpcEndpoint{}
	for _, name := range services {
		ep := vpc.AddInterfaceEndpoint(jsii.String("Endpoint-"+name), &awsec2.InterfaceVpcEndpointOptions{
			Service:           awsec2.NewInterfaceVpcEndpointAwsService(jsii.String(name), nil, nil, nil),
			PrivateDnsEnabled: jsii.Bool(true),
			Subnets:           &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnets)},
			SecurityGroups:    &[]awsec2.ISecurityGroup{group},
			Open:              jsii.Bool(false),
		})
		ep.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PerimeterPrincipalsOnly"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("*"),
			Resources:  jsii.Strings("*"),
			Conditions: &condition,
		}))
		out[name] = ep
	}
	return out
}

// endpointGroup admits HTTPS from cidr only and sends nothing.
func endpointGroup(scope constructs.Construct, vpc awsec2.IVpc, name, cidr string) awsec2.SecurityGroup {
	sg := awsec2.NewSecurityGroup(scope, jsii.String("EndpointGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String(name + " interface endpoints: HTTPS from the VPC only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(cidr)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the VPC"), nil)
	return sg
}
