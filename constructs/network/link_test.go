package network_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/cfn"
)

// hubParameter is the logical id of the link stack's CloudFormation
// parameter that reads the hub's SSM parameter name at deploy time.
func hubParameter(t *testing.T, tpl assertions.Template, name string) string {
	t.Helper()
	var found *map[string]*map[string]any
	cdktest.Check(t, "finding the parameter for "+name, func() {
		found = tpl.FindParameters(jsii.String("*"), map[string]any{
			"Type": "AWS::SSM::Parameter::Value<String>", "Default": params + "/" + name,
		})
	})
	if found == nil || len(*found) != 1 {
		t.Fatalf("want one SSM parameter value for %s/%s", params, name)
	}
	for id := range *found {
		return id
	}
	return ""
}

// TestLinkAssociatesWithTheProductionTableAndRoutesOnlyTheDeclaredCidr: the
// management route table reaches the production by a static route to its
// manifest CIDR, never by propagation, which would also carry a range the
// production's account adds to its VPC later (another production's, say).
func TestLinkAssociatesWithTheProductionTableAndRoutesOnlyTheDeclaredCidr(t *testing.T) {
	tpl := templates(t).Link
	find := cdktest.One(t, tpl, "Custom::AWS", nil).ID
	attachment := cdktest.GetAtt(find, "TransitGatewayVpcAttachments.0.TransitGatewayAttachmentId")
	cdktest.Count(t, tpl, "AWS::EC2::TransitGatewayRouteTableAssociation", 1)
	cdktest.HasProperties(t, tpl, "AWS::EC2::TransitGatewayRouteTableAssociation", map[string]any{
		"TransitGatewayAttachmentId": attachment,
		"TransitGatewayRouteTableId": cdktest.Ref(hubParameter(t, tpl, network.ParamProductionRouteTable)),
	})
	cdktest.Count(t, tpl, "AWS::EC2::TransitGatewayRouteTablePropagation", 0)
	cdktest.Count(t, tpl, "AWS::EC2::TransitGatewayRoute", 1)
	cdktest.HasProperties(t, tpl, "AWS::EC2::TransitGatewayRoute", map[string]any{
		"TransitGatewayAttachmentId": attachment,
		"TransitGatewayRouteTableId": cdktest.Ref(hubParameter(t, tpl, network.ParamManagementRouteTable)),
		"DestinationCidrBlock":       prodCidr.String(),
	})
}

func TestLinkFindsTheAttachmentAsTheProductionsReaderRole(t *testing.T) {
	tpl := templates(t).Link
	find := cdktest.One(t, tpl, "Custom::AWS", nil)
	tgwParam := hubParameter(t, tpl, network.ParamTransitGateway)
	stack := cfn.TemplateFromMap("Link", cdktest.JSON(tpl))
	for _, when := range []string{"Create", "Update"} {
		call, err := stack.Resource(find.ID).SDKCall(when)
		if err != nil {
			t.Fatal(err)
		}
		if call.Action != "describeTransitGatewayVpcAttachments" || call.AssumedRoleArn != readerArn {
			t.Errorf("%s calls %s as %q, want describeTransitGatewayVpcAttachments as %s", when, call.Action, call.AssumedRoleArn, readerArn)
		}
		filters := map[string][]string{}
		for _, f := range cfn.AsList(call.Parameters["Filters"]) {
			filters[cfn.Str(cfn.At(f, "Name"))] = stack.Strings(cfn.At(f, "Values"))
		}
		want := map[string]string{"transit-gateway-id": "${Ref:" + tgwParam + "}"}
		for k, v := range attachTags {
			want["tag:"+k] = v
		}
		for name, v := range want {
			if !cdktest.SameSet(filters[name], []string{v}) {
				t.Errorf("%s filter %s = %v, want [%s]", when, name, filters[name], v)
			}
		}
	}
	// The provider may only assume the reader role.
	policy := cdktest.One(t, tpl, "AWS::IAM::Policy", nil)
	for _, s := range cdktest.Statements(policy.Properties["PolicyDocument"]) {
		if !cdktest.SameSet(s.Actions(), []string{"sts:AssumeRole"}) || !cdktest.SameSet(s.Resources(), []string{readerArn}) {
			t.Errorf("the look-up may %v on %v, want only sts:AssumeRole on %s", s.Actions(), s.Resources(), readerArn)
		}
	}
}

func TestLinkOpensOnlySchedulerAndLicensePortsToTheProductionCidr(t *testing.T) {
	tpl := templates(t).Link
	sched := cdktest.Ref(hubParameter(t, tpl, network.ParamSchedulerGroup))
	lic := cdktest.Ref(hubParameter(t, tpl, network.ParamLicenseGroup))
	cdktest.Count(t, tpl, "AWS::EC2::SecurityGroupIngress", len(schedPorts)+1)
	cdktest.Count(t, tpl, "AWS::EC2::SecurityGroupEgress", 0)
	for _, p := range schedPorts {
		cdktest.HasProperties(t, tpl, "AWS::EC2::SecurityGroupIngress", map[string]any{
			"GroupId": sched, "IpProtocol": "tcp", "FromPort": p, "ToPort": p, "CidrIp": prodCidr.String(),
		})
	}
	cdktest.HasProperties(t, tpl, "AWS::EC2::SecurityGroupIngress", map[string]any{
		"GroupId": lic, "IpProtocol": "tcp", "FromPort": license.Port, "ToPort": license.Port, "CidrIp": prodCidr.String(),
	})
	for _, r := range cdktest.Find(t, tpl, "AWS::EC2::SecurityGroupIngress", nil) {
		if r.Properties["CidrIp"] != prodCidr.String() || r.Properties["CidrIpv6"] != nil {
			t.Errorf("ingress %s opens %s to %v, want only the production's %s", r.ID, ruleText(r.Properties), r.Properties["CidrIp"], prodCidr)
		}
	}
}

// TestOnlyTheLinksLookupRoleMayReadTheAttachments: the production's
// attachment reader trusts the link stack's look-up role alone, not every
// principal of the management account, and the look-up runs as that role.
func TestOnlyTheLinksLookupRoleMayReadTheAttachments(t *testing.T) {
	lookup := "arn:aws:iam::" + management + ":role/acme-nightfall-link-lookup"
	reader := cdktest.One(t, templates(t).Production, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": "acme-nightfall-tgw-reader"}})
	trust := cdktest.Statements(reader.Properties["AssumeRolePolicyDocument"])
	if len(trust) != 1 {
		t.Fatalf("the reader's trust has %d statements, want 1", len(trust))
	}
	if got, _ := trust[0].Condition("ArnEquals", "aws:PrincipalArn"); !cdktest.SameSet(got, []string{lookup}) {
		t.Errorf("the reader trusts aws:PrincipalArn %v, want only %s", got, lookup)
	}
	role := cdktest.One(t, templates(t).Link, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": "acme-nightfall-link-lookup"}})
	fn := cdktest.One(t, templates(t).Link, "AWS::Lambda::Function", nil)
	if got := cdktest.Text(fn.Properties["Role"]); got != "${"+role.ID+".Arn}" {
		t.Errorf("the look-up function runs as %s, want the link-lookup role %s", got, role.ID)
	}
}
