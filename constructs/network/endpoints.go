package network

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Perimeter is who may call through an interface endpoint, and on whose
// resources: each a condition block such as
// {"StringEquals": {"aws:PrincipalAccount": "333333333333"}}.
type Perimeter struct {
	Principals, Resources map[string]any
}

// awsOwned are the AWS-owned resources a service's endpoint must still
// reach, which belong to no account of the studio: Systems Manager's own
// documents (AWS-RunShellScript, the Session Manager and patching
// documents) and public parameters (/aws/service/..., such as the latest
// AMI ids).
var awsOwned = map[string][]string{
	"ssm": {"arn:aws:ssm:*::document/*", "arn:aws:ssm:*::parameter/aws/*"},
}

// addInterfaceEndpoints creates one private-DNS interface endpoint per
// service in the subnets, behind group, each with a policy that admits only
// the perimeter's principals, calling on the perimeter's resources (the
// data perimeter of reference 000), on AWS-owned resources the service
// needs, or with no resource account at all (calls on no resource, such
// as sts:GetCallerIdentity or ssmmessages:CreateControlChannel).
func addInterfaceEndpoints(vpc awsec2.Vpc, subnets string, group awsec2.ISecurityGroup, services []string, perimeter Perimeter) map[string]awsec2.InterfaceVpcEndpoint {
	out := map[string]awsec2.InterfaceVpcEndpoint{}
	// One principal value serves every statement: each is a jsii object.
	anyone := &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()}
	for _, name := range services {
		ep := vpc.AddInterfaceEndpoint(jsii.String("Endpoint-"+name), &awsec2.InterfaceVpcEndpointOptions{
			Service:           awsec2.NewInterfaceVpcEndpointAwsService(jsii.String(name), nil, nil, nil),
			PrivateDnsEnabled: jsii.Bool(true),
			Subnets:           &awsec2.SubnetSelection{SubnetGroupName: jsii.String(subnets)},
			SecurityGroups:    &[]awsec2.ISecurityGroup{group},
			Open:              jsii.Bool(false),
		})
		allow := func(sid string, resources []string, condition map[string]any) {
			ep.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String(sid),
				Principals: anyone,
				Actions:    jsii.Strings("*"),
				Resources:  jsii.Strings(resources...),
				Conditions: &condition,
			}))
		}
		allow("PerimeterPrincipalsOnPerimeterResources", []string{"*"}, both(perimeter.Principals, perimeter.Resources))
		allow("PerimeterPrincipalsOnNoAccountsResource", []string{"*"}, both(perimeter.Principals, map[string]any{"Null": map[string]any{"aws:ResourceAccount": "true"}}))
		if owned := awsOwned[name]; len(owned) > 0 {
			allow("PerimeterPrincipalsOnAwsOwnedResources", owned, perimeter.Principals)
		}
		out[name] = ep
	}
	return out
}

// both is the condition block that requires a and b.
func both(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for op, keys := range m {
			merged, _ := out[op].(map[string]any)
			if merged == nil {
				merged = map[string]any{}
			}
			for k, v := range keys.(map[string]any) {
				merged[k] = v
			}
			out[op] = merged
		}
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
