package network_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestTransitGatewayJoinsNothingByDefault(t *testing.T) {
	tpl := templates(t).Hub
	cdktest.Count(t, tpl, "AWS::EC2::TransitGateway", 1)
	cdktest.HasProperties(t, tpl, "AWS::EC2::TransitGateway", map[string]any{
		"Description":                  assertions.Match_StringLikeRegexp(jsii.String("^acme .+")),
		"AmazonSideAsn":                64512,
		"DefaultRouteTableAssociation": "disable",
		"DefaultRouteTablePropagation": "disable",
	})
}

// hubTables returns the logical ids of the management and production
// Transit Gateway route tables, found by their Name tags.
func hubTables(t *testing.T, tpl assertions.Template) (mgmt, prod string) {
	t.Helper()
	cdktest.Count(t, tpl, "AWS::EC2::TransitGatewayRouteTable", 2)
	named := func(name string) string {
		return cdktest.One(t, tpl, "AWS::EC2::TransitGatewayRouteTable", map[string]any{"Properties": map[string]any{
			"Tags": cdktest.ArrayWith(map[string]any{"Key": "Name", "Value": name}),
		}}).ID
	}
	return named("acme-management"), named("acme-productions")
}

func TestManagementAttachmentAssociatesWithManagementAndPropagatesToProductions(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"with VPN": templates(t).Hub, "without VPN": templates(t).PlainHub} {
		t.Run(name, func(t *testing.T) {
			mgmtRT, prodRT := hubTables(t, tpl)
			att := cdktest.One(t, tpl, "AWS::EC2::TransitGatewayAttachment", nil).ID
			attID := cdktest.GetAtt(att, "Id")
			cdktest.HasProperties(t, tpl, "AWS::EC2::TransitGatewayRouteTableAssociation", map[string]any{
				"TransitGatewayAttachmentId": attID, "TransitGatewayRouteTableId": cdktest.Ref(mgmtRT),
			})
			cdktest.HasProperties(t, tpl, "AWS::EC2::TransitGatewayRouteTablePropagation", map[string]any{
				"TransitGatewayAttachmentId": attID, "TransitGatewayRouteTableId": cdktest.Ref(prodRT),
			})
			// Isolation: nothing in the hub associates with the production
			// table (only link stacks do), nothing is routed statically, and
			// only management (and the VPN, i.e. on-premises) propagate into it.
			cdktest.CountProperties(t, tpl, "AWS::EC2::TransitGatewayRouteTableAssociation",
				map[string]any{"TransitGatewayRouteTableId": cdktest.Ref(prodRT)}, 0)
			cdktest.Count(t, tpl, "AWS::EC2::TransitGatewayRoute", 0)
			vpn := cdktest.Find(t, tpl, "Custom::AWS", nil)
			for _, p := range cdktest.Find(t, tpl, "AWS::EC2::TransitGatewayRouteTablePropagation", map[string]any{
				"Properties": map[string]any{"TransitGatewayRouteTableId": cdktest.Ref(prodRT)},
			}) {
				from := refOf(p.Properties["TransitGatewayAttachmentId"])
				if from != att && (len(vpn) != 1 || from != vpn[0].ID) {
					t.Errorf("propagation %s brings routes of %s into the production table: only management and the VPN may", p.ID, from)
				}
			}
		})
	}
}

func TestOnlyFrontEndSubnetsArePublicAndHoldTheNatGateways(t *testing.T) {
	tpl := templates(t).Hub
	cdktest.CountProperties(t, tpl, "AWS::EC2::Subnet", map[string]any{"MapPublicIpOnLaunch": true}, 0)
	tiers := subnets(t, tpl)
	frontEnd := tiers[network.FrontEndTier]
	if len(frontEnd) != 2 {
		t.Fatalf("want 2 front-end subnets, got %v", frontEnd)
	}
	for _, s := range cdktest.Find(t, tpl, "AWS::EC2::Subnet", nil) {
		public := tag(s, "aws-cdk:subnet-type") == "Public"
		if public != contains(frontEnd, s.ID) {
			t.Errorf("subnet %s (%s) public=%v: only front-end subnets are public", s.ID, tag(s, "aws-cdk:subnet-name"), public)
		}
		if v, ok := s.Properties["MapPublicIpOnLaunch"]; !ok || v != false {
			t.Errorf("subnet %s: MapPublicIpOnLaunch = %v, want false", s.ID, v)
		}
	}
	tables := routeTables(t, tpl)
	var frontTables []string
	for _, s := range frontEnd {
		frontTables = append(frontTables, tables[s])
	}
	for table, rs := range routes(t, tpl) {
		for _, r := range rs {
			if strings.HasPrefix(r.Target, "igw:") && !contains(frontTables, table) {
				t.Errorf("route %s sends %s to the internet gateway from %s: only front-end subnets may", r.ID, r.Destination, table)
			}
		}
	}
	cdktest.Count(t, tpl, "AWS::EC2::InternetGateway", 1)
	cdktest.Count(t, tpl, "AWS::EC2::NatGateway", 2)
	for _, n := range cdktest.Find(t, tpl, "AWS::EC2::NatGateway", nil) {
		if s := refOf(n.Properties["SubnetId"]); !contains(frontEnd, s) {
			t.Errorf("NAT gateway %s is in %s, want a front-end subnet", n.ID, s)
		}
	}
}

func TestManagementTiersRouteEveryPrivateRangeToTheTransitGateway(t *testing.T) {
	tpl := templates(t).Hub
	tgw := cdktest.One(t, tpl, "AWS::EC2::TransitGateway", nil).ID
	var want []string
	for _, p := range private {
		want = append(want, p.String())
	}
	sort.Strings(want)
	tiers := subnets(t, tpl)
	tables := routeTables(t, tpl)
	byTable := routes(t, tpl)
	for _, tier := range []string{network.ApplicationTier, network.DataTier, network.TransitTier} {
		if len(tiers[tier]) != 2 {
			t.Errorf("want 2 %s subnets, got %v", tier, tiers[tier])
		}
		for _, s := range tiers[tier] {
			var toTgw []string
			for _, r := range byTable[tables[s]] {
				switch {
				case r.Target == "tgw:${"+tgw+"}":
					toTgw = append(toTgw, r.Destination)
				case r.Destination == "0.0.0.0/0" && tier == network.ApplicationTier && strings.HasPrefix(r.Target, "nat:"):
					// License egress through NAT.
				default:
					t.Errorf("%s subnet %s routes %s to %s", tier, s, r.Destination, r.Target)
				}
			}
			sort.Strings(toTgw)
			if strings.Join(toTgw, ",") != strings.Join(want, ",") {
				t.Errorf("%s subnet %s routes %v to the Transit Gateway, want %v", tier, s, toTgw, want)
			}
		}
	}
}

// groupByDescription finds the hub's security group whose description
// contains what.
func groupByDescription(t *testing.T, tpl assertions.Template, what string) cdktest.Resource {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::EC2::SecurityGroup", map[string]any{"Properties": map[string]any{
		"GroupDescription": assertions.Match_StringLikeRegexp(jsii.String(what)),
	}})
}

func TestLicenseGroupSendsOnlyToTheLicenseServersAndManagementEndpoints(t *testing.T) {
	tpl := templates(t).Hub
	g := groupByDescription(t, tpl, "license server")
	var got []string
	for _, r := range sgRules(g, "SecurityGroupEgress") {
		got = append(got, ruleText(r))
	}
	want := []string{"tcp " + license.Cidr.String() + " 1715-1715", "tcp " + mgmtCidr.String() + " 443-443"}
	if !cdktest.SameSet(got, want) || len(got) != len(want) {
		t.Errorf("license group egress %v, want exactly %v", cdktest.Sorted(got), want)
	}
	if in := sgRules(g, "SecurityGroupIngress"); len(in) != 0 {
		t.Errorf("license group has ingress %v in the hub; productions' link stacks add it", in)
	}
	cdktest.CountProperties(t, tpl, "AWS::EC2::SecurityGroupEgress", map[string]any{"GroupId": cdktest.GetAtt(g.ID, "GroupId")}, 0)
}

func TestSchedulerGroupNeverOpensToTheInternet(t *testing.T) {
	tpl := templates(t).Hub
	g := groupByDescription(t, tpl, "render scheduler")
	for _, prop := range []string{"SecurityGroupIngress", "SecurityGroupEgress"} {
		for _, r := range sgRules(g, prop) {
			if r["CidrIp"] == "0.0.0.0/0" || r["CidrIpv6"] == "::/0" {
				t.Errorf("scheduler group %s %s opens to the internet", prop, ruleText(r))
			}
		}
	}
	var in []string
	for _, r := range sgRules(g, "SecurityGroupIngress") {
		in = append(in, ruleText(r))
	}
	want := []string{"tcp 192.168.0.0/16 4433-4433"}
	if !cdktest.SameSet(in, want) {
		t.Errorf("scheduler group ingress %v, want on-premises on the scheduler ports only %v", in, want)
	}
	cdktest.CountProperties(t, tpl, "AWS::EC2::SecurityGroupIngress", map[string]any{"CidrIp": "0.0.0.0/0"}, 0)
	cdktest.CountProperties(t, tpl, "AWS::EC2::SecurityGroupEgress", map[string]any{"CidrIp": "0.0.0.0/0"}, 0)
}

func TestVpnUsesIkev2AndOnlyStrongAlgorithmsOnBothTunnels(t *testing.T) {
	tpl := templates(t).Hub
	tgw := cdktest.One(t, tpl, "AWS::EC2::TransitGateway", nil).ID
	cgw := cdktest.One(t, tpl, "AWS::EC2::CustomerGateway", nil)
	cdktest.HasProperties(t, tpl, "AWS::EC2::CustomerGateway", map[string]any{"Type": "ipsec.1", "IpAddress": "203.0.113.10", "BgpAsn": 65000})
	cdktest.HasProperties(t, tpl, "AWS::EC2::VPNConnection", map[string]any{
		"Type": "ipsec.1", "CustomerGatewayId": cdktest.Ref(cgw.ID), "TransitGatewayId": cdktest.Ref(tgw),
	})
	vpn := cdktest.One(t, tpl, "AWS::EC2::VPNConnection", nil)
	tunnels, _ := vpn.Properties["VpnTunnelOptionsSpecifications"].([]any)
	if len(tunnels) != 2 {
		t.Fatalf("want options for both tunnels, got %d", len(tunnels))
	}
	allowed := map[string][]string{
		"IKEVersions":                {"ikev2"},
		"Phase1EncryptionAlgorithms": {"AES256", "AES256-GCM-16"},
		"Phase2EncryptionAlgorithms": {"AES256", "AES256-GCM-16"},
		"Phase1IntegrityAlgorithms":  {"SHA2-384", "SHA2-512"},
		"Phase2IntegrityAlgorithms":  {"SHA2-384", "SHA2-512"},
		"Phase1DHGroupNumbers":       {"20", "21"},
		"Phase2DHGroupNumbers":       {"20", "21"},
	}
	for i, tun := range tunnels {
		opts, _ := tun.(map[string]any)
		for field, ok := range allowed {
			// Absent means AWS's defaults, which include IKEv1, AES128,
			// SHA1 and DH group 2: every list must be explicit.
			list, _ := opts[field].([]any)
			if len(list) == 0 {
				t.Errorf("tunnel %d: %s is not set, so AWS's weak defaults apply", i+1, field)
			}
			for _, v := range list {
				got := cdktest.Text(v.(map[string]any)["Value"])
				if !contains(ok, got) {
					t.Errorf("tunnel %d: %s allows %s, want only %v", i+1, field, got, ok)
				}
			}
		}
	}
}

func TestHubWithoutVpnHasNoCustomerGateway(t *testing.T) {
	tpl := templates(t).PlainHub
	cdktest.Count(t, tpl, "AWS::EC2::CustomerGateway", 0)
	cdktest.Count(t, tpl, "AWS::EC2::VPNConnection", 0)
	cdktest.Count(t, tpl, "Custom::AWS", 0)
}

func TestTransitGatewayIsSharedInsideTheOrganizationOnly(t *testing.T) {
	tpl := templates(t).Hub
	tgw := cdktest.One(t, tpl, "AWS::EC2::TransitGateway", nil).ID
	var principals []any
	for _, p := range shareWith {
		principals = append(principals, p)
	}
	cdktest.HasProperties(t, tpl, "AWS::RAM::ResourceShare", map[string]any{
		"AllowExternalPrincipals": false,
		"Principals":              assertions.Match_ArrayEquals(&principals),
		"ResourceArns": []any{map[string]any{"Fn::Join": []any{"", []any{
			"arn:aws:ec2:" + region + ":" + management + ":transit-gateway/", cdktest.Ref(tgw),
		}}}},
	})
}

func TestTransitGatewaySharedOutsideAnOrganizationAllowsExternalPrincipals(t *testing.T) {
	cdktest.HasProperties(t, templates(t).PlainHub, "AWS::RAM::ResourceShare", map[string]any{"AllowExternalPrincipals": true})
}

func TestHubPublishesItsIdsForTheLinkStacks(t *testing.T) {
	tpl := templates(t).Hub
	mgmtRT, prodRT := hubTables(t, tpl)
	tgw := cdktest.One(t, tpl, "AWS::EC2::TransitGateway", nil).ID
	sched := groupByDescription(t, tpl, "render scheduler").ID
	lic := groupByDescription(t, tpl, "license server").ID
	want := map[string]any{
		network.ParamTransitGateway:       cdktest.Ref(tgw),
		network.ParamProductionRouteTable: cdktest.Ref(prodRT),
		network.ParamManagementRouteTable: cdktest.Ref(mgmtRT),
		network.ParamSchedulerGroup:       cdktest.GetAtt(sched, "GroupId"),
		network.ParamLicenseGroup:         cdktest.GetAtt(lic, "GroupId"),
	}
	cdktest.Count(t, tpl, "AWS::SSM::Parameter", len(want))
	for name, value := range want {
		cdktest.HasProperties(t, tpl, "AWS::SSM::Parameter", map[string]any{"Name": params + "/" + name, "Type": "String", "Value": value})
	}
}

func TestManagementEndpointsAdmitOnlyTheGivenPrincipals(t *testing.T) {
	tpl := templates(t).Hub
	cdktest.CountProperties(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{
		"VpcEndpointType":   "Interface",
		"PrivateDnsEnabled": true,
		"PolicyDocument": cdktest.Obj(map[string]any{"Statement": []any{cdktest.Obj(map[string]any{
			"Effect":    "Allow",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
		})}}),
	}, 7)
	cdktest.CountProperties(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{"VpcEndpointType": "Interface"}, 7)
}

// TestFrontEndAclPassesOnlyLicenseTrafficAndTheVpc: the front end is the
// one internet path (ISE 2.2): NAT traffic from the VPC out to the license
// servers' ports and their replies back, nothing else.
func TestFrontEndAclPassesOnlyLicenseTrafficAndTheVpc(t *testing.T) {
	tpl := templates(t).Hub
	acl := cdktest.One(t, tpl, "AWS::EC2::NetworkAcl", map[string]any{"Properties": map[string]any{
		"Tags": cdktest.ArrayWith(map[string]any{"Key": "Name", "Value": assertions.Match_StringLikeRegexp(jsii.String("FrontEndAcl$"))}),
	}}).ID
	var frontEnd []any
	for _, s := range subnets(t, tpl)[network.FrontEndTier] {
		frontEnd = append(frontEnd, cdktest.Ref(s))
	}
	for _, s := range frontEnd {
		cdktest.HasProperties(t, tpl, "AWS::EC2::SubnetNetworkAclAssociation", map[string]any{"NetworkAclId": cdktest.Ref(acl), "SubnetId": s})
	}
	var got []string
	for _, e := range aclEntries(t, tpl) {
		if e.Acl != acl {
			continue
		}
		if !e.Allow {
			t.Errorf("unexpected deny %d", e.Number)
		}
		got = append(got, strings.Join([]string{direction(e.Egress), e.Cidr, cdktest.Text(float64(e.Protocol)), cdktest.Text(float64(e.From)) + "-" + cdktest.Text(float64(e.To))}, " "))
	}
	want := []string{
		"egress " + mgmtCidr.String() + " -1 0-0",
		"ingress " + mgmtCidr.String() + " -1 0-0",
		"egress " + license.Cidr.String() + " 6 1715-1715",
		"ingress " + license.Cidr.String() + " 6 1024-65535",
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("front-end ACL:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
