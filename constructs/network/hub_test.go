package network_test

import (
	"net/netip"
	"slices"
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

func TestManagementEndpointsAdmitOnlyTheGivenPrincipalsOnTheGivenResources(t *testing.T) {
	checkPerimeter(t, templates(t).Hub, 7, "StringEquals", "aws:PrincipalOrgID", "o-a1b2c3d4e5", "StringEquals", "aws:ResourceOrgID", "o-a1b2c3d4e5")
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

// tierAcl returns the logical id of the hub's network ACL named name (the
// end of its Name tag), after checking that it is associated with every
// subnet of tier, and its entries as "direction cidr protocol from-to".
func tierAcl(t *testing.T, tpl assertions.Template, name, tier string) (string, []string) {
	t.Helper()
	acl := cdktest.One(t, tpl, "AWS::EC2::NetworkAcl", map[string]any{"Properties": map[string]any{
		"Tags": cdktest.ArrayWith(map[string]any{"Key": "Name", "Value": assertions.Match_StringLikeRegexp(jsii.String(name + "$"))}),
	}}).ID
	ss := subnets(t, tpl)[tier]
	if len(ss) != 2 {
		t.Errorf("want 2 %s subnets, got %v", tier, ss)
	}
	for _, s := range ss {
		cdktest.HasProperties(t, tpl, "AWS::EC2::SubnetNetworkAclAssociation", map[string]any{"NetworkAclId": cdktest.Ref(acl), "SubnetId": cdktest.Ref(s)})
	}
	var got []string
	for _, e := range aclEntries(t, tpl) {
		if e.Acl != acl {
			continue
		}
		if !e.Allow {
			t.Errorf("%s: unexpected deny %s %d", name, direction(e.Egress), e.Number)
		}
		got = append(got, strings.Join([]string{direction(e.Egress), e.Cidr, cdktest.Text(float64(e.Protocol)), cdktest.Text(float64(e.From)) + "-" + cdktest.Text(float64(e.To))}, " "))
	}
	return acl, got
}

// both is an ACL entry in each direction, as tierAcl renders it.
func both(cidr, proto, ports string) []string {
	return []string{"ingress " + cidr + " " + proto + " " + ports, "egress " + cidr + " " + proto + " " + ports}
}

func checkAcl(t *testing.T, name string, got, want []string) {
	t.Helper()
	if !cdktest.SameSet(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", name, strings.Join(cdktest.Sorted(got), "\n"), strings.Join(cdktest.Sorted(want), "\n"))
	}
}

// TestApplicationAclAcceptsOnlySchedulerAndLicensePortsFromPrivateRanges:
// the application tier (scheduler, license server) talks freely with the
// VPC and on-premises, accepts only the scheduler and license ports from
// the private ranges that hold every production (answering on ephemeral
// ports), and reaches the internet only at the license servers' ports,
// through NAT (ISE 2.2, 2.6).
func TestApplicationAclAcceptsOnlySchedulerAndLicensePortsFromPrivateRanges(t *testing.T) {
	_, got := tierAcl(t, templates(t).Hub, "ApplicationAcl", network.ApplicationTier)
	want := both(mgmtCidr.String(), "-1", "0-0")
	for _, o := range onPrem {
		want = append(want, both(o.String(), "-1", "0-0")...)
	}
	for _, p := range private {
		for _, port := range schedPorts {
			want = append(want, "ingress "+p.String()+" 6 "+cdktest.Text(float64(port))+"-"+cdktest.Text(float64(port)))
		}
		want = append(want, "ingress "+p.String()+" 6 1715-1715", "egress "+p.String()+" 6 1024-65535")
	}
	want = append(want, "egress "+license.Cidr.String()+" 6 1715-1715", "ingress "+license.Cidr.String()+" 6 1024-65535")
	checkAcl(t, "application ACL", got, want)
}

// TestDataAclTalksOnlyToTheVpcAndOnPremises: the data tier holds the
// management endpoints and is isolated: the VPC and on-premises only, no
// production range beyond them and no internet.
func TestDataAclTalksOnlyToTheVpcAndOnPremises(t *testing.T) {
	_, got := tierAcl(t, templates(t).Hub, "DataAcl", network.DataTier)
	want := both(mgmtCidr.String(), "-1", "0-0")
	for _, o := range onPrem {
		want = append(want, both(o.String(), "-1", "0-0")...)
	}
	checkAcl(t, "data ACL", got, want)
}

// TestTransitAclPassesOnlyWhatTheTransitGatewayCarries: the transit tier
// holds the Transit Gateway attachment: the VPC, the private ranges and
// on-premises, never the internet.
func TestTransitAclPassesOnlyWhatTheTransitGatewayCarries(t *testing.T) {
	_, got := tierAcl(t, templates(t).Hub, "TransitAcl", network.TransitTier)
	want := both(mgmtCidr.String(), "-1", "0-0")
	for _, p := range append(append([]netip.Prefix(nil), private...), onPrem...) {
		want = append(want, both(p.String(), "-1", "0-0")...)
	}
	checkAcl(t, "transit ACL", got, want)
}

// TestNoManagementAclAdmitsTheInternet: every subnet of the management VPC
// has one of the hub's ACLs (a subnet without one falls back to the VPC's
// default ACL, which allows everything), and no entry of any of them
// allows 0.0.0.0/0 or ::/0: the internet is reached only at the license
// servers (ISE 2.2).
func TestNoManagementAclAdmitsTheInternet(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"with VPN": templates(t).Hub, "without VPN": templates(t).PlainHub} {
		t.Run(name, func(t *testing.T) {
			cdktest.Count(t, tpl, "AWS::EC2::NetworkAcl", 4)
			acls := map[string]bool{}
			for _, a := range cdktest.Find(t, tpl, "AWS::EC2::NetworkAcl", nil) {
				acls[a.ID] = true
			}
			assoc := map[string][]string{}
			for _, a := range cdktest.Find(t, tpl, "AWS::EC2::SubnetNetworkAclAssociation", nil) {
				s, acl := refOf(a.Properties["SubnetId"]), refOf(a.Properties["NetworkAclId"])
				if !acls[acl] {
					t.Errorf("subnet %s is associated with %v, not one of the hub's ACLs", s, a.Properties["NetworkAclId"])
				}
				assoc[s] = append(assoc[s], acl)
			}
			for _, s := range cdktest.Find(t, tpl, "AWS::EC2::Subnet", nil) {
				if len(assoc[s.ID]) != 1 {
					t.Errorf("subnet %s (%s) has ACLs %v, want exactly one of the hub's", s.ID, tag(s, "aws-cdk:subnet-name"), assoc[s.ID])
				}
			}
			for _, e := range cdktest.Find(t, tpl, "AWS::EC2::NetworkAclEntry", nil) {
				if e.Properties["RuleAction"] != "allow" {
					continue
				}
				if e.Properties["CidrBlock"] == "0.0.0.0/0" || e.Properties["Ipv6CidrBlock"] == "::/0" {
					t.Errorf("ACL entry %s of %s allows the internet", e.ID, refOf(e.Properties["NetworkAclId"]))
				}
				if _, ok := e.Properties["Ipv6CidrBlock"]; ok {
					t.Errorf("ACL entry %s allows IPv6 %v; the management VPC is IPv4 only", e.ID, e.Properties["Ipv6CidrBlock"])
				}
			}
		})
	}
}

// TestManagementDefaultSecurityGroupKeepsNoRules: CDK's
// Custom::VpcRestrictDefaultSG strips the default security group of the
// management VPC, its handler may change only that group, and nothing in the
// hub adds a rule back (ISE 2.5).
func TestManagementDefaultSecurityGroupKeepsNoRules(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"with VPN": templates(t).Hub, "without VPN": templates(t).PlainHub} {
		t.Run(name, func(t *testing.T) {
			vpc := cdktest.One(t, tpl, "AWS::EC2::VPC", nil).ID
			sg := cdktest.GetAtt(vpc, "DefaultSecurityGroup")
			restrict := cdktest.One(t, tpl, "Custom::VpcRestrictDefaultSG", nil)
			if got := restrict.Properties["DefaultSecurityGroupId"]; cdktest.Text(got) != cdktest.Text(sg) {
				t.Errorf("Custom::VpcRestrictDefaultSG strips %s, want the management VPC's default group %s", cdktest.Text(got), cdktest.Text(sg))
			}
			if got := restrict.Properties["Account"]; got != management {
				t.Errorf("Custom::VpcRestrictDefaultSG runs in account %v, want %s", got, management)
			}
			handler := refOf(restrict.Properties["ServiceToken"])
			fn := cdktest.One(t, tpl, "AWS::Lambda::Function", map[string]any{"Properties": map[string]any{
				"Description": assertions.Match_StringLikeRegexp(jsii.String("removing all inbound/outbound rules from the VPC default security group")),
			}})
			if fn.ID != handler {
				t.Fatalf("Custom::VpcRestrictDefaultSG is served by %q, want CDK's handler %s", handler, fn.ID)
			}
			role := refOf(fn.Properties["Role"])
			r := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{
				"AssumeRolePolicyDocument": cdktest.Obj(map[string]any{"Statement": []any{cdktest.Obj(map[string]any{
					"Principal": map[string]any{"Service": "lambda.amazonaws.com"},
				})}}),
				"Policies": assertions.Match_AnyValue(),
			}})
			if r.ID != role {
				t.Fatalf("the handler runs as %q, want %s", role, r.ID)
			}
			wantArn := "arn:aws:ec2:" + region + ":" + management + ":security-group/" + cdktest.Text(sg)
			var revokes bool
			policies, _ := r.Properties["Policies"].([]any)
			for _, p := range policies {
				doc, _ := p.(map[string]any)
				for _, s := range cdktest.Statements(doc["PolicyDocument"]) {
					if s.Effect() == "Allow" && s.Has("ec2:RevokeSecurityGroupIngress") && s.Has("ec2:RevokeSecurityGroupEgress") {
						revokes = true
					}
					if !cdktest.SameSet(s.Resources(), []string{wantArn}) {
						t.Errorf("the handler may %v on %v, want only %s", s.Actions(), s.Resources(), wantArn)
					}
				}
			}
			if !revokes {
				t.Errorf("the handler's role may not revoke the default group's rules")
			}
			// Nothing adds a rule back to the default group.
			for _, typ := range []string{"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"} {
				cdktest.CountProperties(t, tpl, typ, map[string]any{"GroupId": sg}, 0)
			}
		})
	}
}

// TestWorkerPortsLetTheSchedulerReachRenderNodes: with scheduler.workerPorts
// the scheduler opens connections to render nodes, so the application ACL
// admits the replies from the private ranges to its ephemeral ports and
// each link stack lets the scheduler group reach its production's CIDR on
// exactly those ports; without them neither exists.
func TestWorkerPortsLetTheSchedulerReachRenderNodes(t *testing.T) {
	_, got := tierAcl(t, templates(t).WorkerHub, "ApplicationAcl", network.ApplicationTier)
	_, without := tierAcl(t, templates(t).Hub, "ApplicationAcl", network.ApplicationTier)
	replies := func(p netip.Prefix) string {
		return "ingress " + p.String() + " 6 " + cdktest.Text(float64(network.InstanceEphemeralFrom)) + "-65535"
	}
	for _, p := range private {
		if !slices.Contains(got, replies(p)) {
			t.Errorf("with worker ports the application ACL lacks %q", replies(p))
		}
		if slices.Contains(without, replies(p)) {
			t.Errorf("without worker ports the application ACL has %q", replies(p))
		}
	}
	for name, c := range map[string]struct {
		tpl   assertions.Template
		ports []int
	}{"WorkerLink": {templates(t).WorkerLink, workerPorts}, "Link": {templates(t).Link, nil}} {
		egress := cdktest.Find(t, c.tpl, "AWS::EC2::SecurityGroupEgress", nil)
		if len(egress) != len(c.ports) {
			t.Errorf("%s: %d scheduler egress rules, want %d", name, len(egress), len(c.ports))
		}
		for _, port := range c.ports {
			cdktest.HasProperties(t, c.tpl, "AWS::EC2::SecurityGroupEgress", map[string]any{
				"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": prodCidr.String(),
			})
		}
	}
}
