package network_test

import (
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestProductionVpcHasNoPathToTheInternet(t *testing.T) {
	tpl := templates(t).Production
	for _, typ := range []string{
		"AWS::EC2::InternetGateway", "AWS::EC2::EgressOnlyInternetGateway", "AWS::EC2::VPCGatewayAttachment",
		"AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::EC2::VPCPeeringConnection",
	} {
		cdktest.Count(t, tpl, typ, 0)
	}
	cdktest.CountProperties(t, tpl, "AWS::EC2::Route", map[string]any{"DestinationCidrBlock": "0.0.0.0/0"}, 0)
	cdktest.CountProperties(t, tpl, "AWS::EC2::Route", map[string]any{"DestinationIpv6CidrBlock": "::/0"}, 0)
	cdktest.CountProperties(t, tpl, "AWS::EC2::Subnet", map[string]any{"MapPublicIpOnLaunch": true}, 0)
	all := cdktest.Find(t, tpl, "AWS::EC2::Subnet", nil)
	if len(all) != 8 {
		t.Errorf("want 8 subnets (4 tiers in 2 zones), got %d", len(all))
	}
	for _, s := range all {
		if got := tag(s, "aws-cdk:subnet-type"); got != "Isolated" {
			t.Errorf("subnet %s is %q, want Isolated", s.ID, got)
		}
	}
}

func TestProductionRoutesToTheTransitGatewayAreManagementAndOnPremisesOnly(t *testing.T) {
	tpl := templates(t).Production
	want := []string{mgmtCidr.String()}
	for _, c := range onPrem {
		want = append(want, c.String())
	}
	sort.Strings(want)

	byTable := routes(t, tpl)
	tables := routeTables(t, tpl)
	tiers := subnets(t, tpl)
	var seen []string
	for table, rs := range byTable {
		for _, r := range rs {
			if r.Target != "tgw:"+tgwID {
				t.Errorf("route %s in %s goes to %s, want only routes to the Transit Gateway %s", r.ID, table, r.Target, tgwID)
			}
		}
		seen = append(seen, destinations(rs)...)
	}
	for _, d := range seen {
		if !contains(want, d) {
			t.Errorf("route to %s: a production routes only to management %s and on-premises %v", d, mgmtCidr, onPrem)
		}
	}
	// Render nodes and storage reach management and on-premises.
	for _, tier := range []string{network.RenderTier, network.StorageTier} {
		if len(tiers[tier]) != 2 {
			t.Fatalf("want 2 %s subnets, got %v", tier, tiers[tier])
		}
		for _, s := range tiers[tier] {
			if got := destinations(byTable[tables[s]]); !cdktest.SameSet(got, want) || len(got) != len(want) {
				t.Errorf("%s subnet %s routes %v to the Transit Gateway, want exactly %v", tier, s, got, want)
			}
		}
	}
	// The endpoints and the attachment's own subnets need no routes out.
	for _, tier := range []string{network.EndpointsTier, network.TransitTier} {
		for _, s := range tiers[tier] {
			if got := byTable[tables[s]]; len(got) != 0 {
				t.Errorf("%s subnet %s has routes %v, want none", tier, s, destinations(got))
			}
		}
	}
	// Routes to a gateway that is not attached yet fail: each waits for the attachment.
	attachment := cdktest.One(t, tpl, "AWS::EC2::TransitGatewayAttachment", nil).ID
	for _, r := range cdktest.Find(t, tpl, "AWS::EC2::Route", nil) {
		if !contains(cdktest.Strings(r.Raw["DependsOn"]), attachment) {
			t.Errorf("route %s does not depend on the attachment %s", r.ID, attachment)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestProductionAclAllowsManagementAndOnPremisesThenDeniesEveryPrivateRange(t *testing.T) {
	tpl := templates(t).Production
	acl := cdktest.One(t, tpl, "AWS::EC2::NetworkAcl", nil).ID
	// The ACL covers every subnet of the VPC.
	cdktest.CountProperties(t, tpl, "AWS::EC2::SubnetNetworkAclAssociation", map[string]any{"NetworkAclId": cdktest.Ref(acl)}, 8)

	allowed := []string{prodCidr.String(), mgmtCidr.String()}
	for _, c := range onPrem {
		allowed = append(allowed, c.String())
	}
	var denied []string
	for _, c := range private {
		denied = append(denied, c.String())
	}
	for _, egress := range []bool{false, true} {
		dir := direction(egress)
		var allows, denies, public []aclEntry
		for _, e := range aclEntries(t, tpl) {
			if e.Acl != acl || e.Egress != egress {
				continue
			}
			switch {
			case !e.Allow:
				denies = append(denies, e)
			case e.Cidr == "0.0.0.0/0":
				public = append(public, e)
			default:
				allows = append(allows, e)
			}
		}
		var allowCidrs, denyCidrs []string
		for _, e := range allows {
			allowCidrs = append(allowCidrs, e.Cidr)
			if e.Protocol != -1 {
				t.Errorf("%s rule %d for %s allows protocol %d, want all traffic", dir, e.Number, e.Cidr, e.Protocol)
			}
		}
		for _, e := range denies {
			denyCidrs = append(denyCidrs, e.Cidr)
		}
		if !cdktest.SameSet(allowCidrs, allowed) || len(allowCidrs) != len(allowed) {
			t.Errorf("%s allows %v, want exactly the VPC, management and on-premises %v", dir, allowCidrs, allowed)
		}
		if !cdktest.SameSet(denyCidrs, denied) || len(denyCidrs) != len(denied) {
			t.Errorf("%s denies %v, want exactly %v", dir, denyCidrs, denied)
		}
		if len(allows) == 0 || len(denies) == 0 {
			continue
		}
		// Rule numbers decide: the first matching rule wins.
		lastAllow, firstDeny, lastDeny := allows[len(allows)-1].Number, denies[0].Number, denies[len(denies)-1].Number
		if lastAllow >= firstDeny {
			t.Errorf("%s: allow rule %d comes after deny rule %d: the denies would shadow management or on-premises", dir, lastAllow, firstDeny)
		}
		if len(public) != 1 {
			t.Errorf("%s: want one rule for AWS public ranges, got %d", dir, len(public))
			continue
		}
		p := public[0]
		if p.Number <= lastDeny {
			t.Errorf("%s: the 0.0.0.0/0 rule %d comes before deny rule %d: it would let other productions in", dir, p.Number, lastDeny)
		}
		if egress {
			// HTTPS out, which only the S3 gateway endpoint's route carries.
			if p.Protocol != 6 || p.From != 443 || p.To != 443 {
				t.Errorf("egress: the 0.0.0.0/0 rule allows protocol %d ports %d-%d, want TCP 443", p.Protocol, p.From, p.To)
			}
			continue
		}
		// Replies in, to the instances' ephemeral ports only: never SSH or
		// RDP from outside, whatever the security groups say.
		if p.Protocol != 6 || p.From < network.EphemeralFrom || p.To != network.EphemeralTo {
			t.Errorf("ingress: the 0.0.0.0/0 rule allows protocol %d ports %d-%d, want TCP ephemeral ports up to %d", p.Protocol, p.From, p.To, network.EphemeralTo)
		}
		for _, port := range []int{22, 3389} {
			if p.From <= port && port <= p.To {
				t.Errorf("ingress: the 0.0.0.0/0 rule (ports %d-%d) admits port %d", p.From, p.To, port)
			}
		}
	}
	cdktest.HasProperties(t, tpl, "AWS::EC2::NetworkAclEntry", map[string]any{
		"NetworkAclId": cdktest.Ref(acl), "Egress": true, "CidrBlock": "0.0.0.0/0", "RuleAction": "allow",
		"Protocol": 6, "PortRange": map[string]any{"From": 443, "To": 443},
	})
}

func TestInterfaceEndpointsUsePrivateDnsBehindTheEndpointGroup(t *testing.T) {
	tpl := templates(t).Production
	group := cdktest.One(t, tpl, "AWS::EC2::SecurityGroup", nil).ID
	cdktest.CountProperties(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{
		"VpcEndpointType":   "Interface",
		"PrivateDnsEnabled": true,
		"SecurityGroupIds":  []any{cdktest.GetAtt(group, "GroupId")},
	}, len(endpoints))
	var got []string
	for _, e := range cdktest.Find(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{"Properties": map[string]any{"VpcEndpointType": "Interface"}}) {
		got = append(got, cdktest.Text(e.Properties["ServiceName"]))
	}
	var want []string
	for _, e := range endpoints {
		want = append(want, "com.amazonaws."+region+"."+e)
	}
	if !cdktest.SameSet(got, want) || len(got) != len(want) {
		t.Errorf("interface endpoints %v, want %v", cdktest.Sorted(got), want)
	}
}

func TestEndpointGroupAdmitsHttpsFromTheVpcOnlyAndSendsNothing(t *testing.T) {
	tpl := templates(t).Production
	g := cdktest.One(t, tpl, "AWS::EC2::SecurityGroup", nil)
	in := sgRules(g, "SecurityGroupIngress")
	if len(in) != 1 || ruleText(in[0]) != "tcp "+prodCidr.String()+" 443-443" {
		var got []string
		for _, r := range in {
			got = append(got, ruleText(r))
		}
		t.Errorf("endpoint group ingress %v, want only tcp %s 443-443", got, prodCidr)
	}
	out := sgRules(g, "SecurityGroupEgress")
	if len(out) != 1 || !isDisallowAll(out[0]) {
		t.Errorf("endpoint group egress %v, want only CDK's disallow-all placeholder", out)
	}
	cdktest.Count(t, tpl, "AWS::EC2::SecurityGroupIngress", 0)
	cdktest.Count(t, tpl, "AWS::EC2::SecurityGroupEgress", 0)
}

func TestInterfaceEndpointPoliciesAdmitOnlyTheProductionAccountOnItsOwnResources(t *testing.T) {
	checkPerimeter(t, templates(t).Production, len(endpoints),
		"StringEquals", "aws:PrincipalAccount", production, "StringEquals", "aws:ResourceAccount", production)
}

// checkPerimeter checks every interface endpoint policy of tpl: each Allow
// admits only the principal condition, and only on resources of the
// resource condition, on no account's resource, or on AWS-owned resources
// (ARNs without an account) that the service needs.
func checkPerimeter(t *testing.T, tpl assertions.Template, want int, pop, pkey, pval, rop, rkey, rval string) {
	t.Helper()
	found := cdktest.Find(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{"Properties": map[string]any{"VpcEndpointType": "Interface"}})
	if len(found) != want {
		t.Errorf("%d interface endpoints, want %d", len(found), want)
	}
	for _, e := range found {
		var onResources bool
		for _, s := range cdktest.Statements(e.Properties["PolicyDocument"]) {
			if s.Effect() != "Allow" {
				continue
			}
			if got, _ := s.Condition(pop, pkey); !cdktest.SameSet(got, []string{pval}) {
				t.Errorf("endpoint %s: statement %q admits %s %v, want only %s", e.ID, s.Sid(), pkey, got, pval)
			}
			res, _ := s.Condition(rop, rkey)
			null, _ := s.Condition("Null", "aws:ResourceAccount")
			switch {
			case cdktest.SameSet(res, []string{rval}):
				onResources = true
			case cdktest.SameSet(null, []string{"true"}):
			default:
				for _, r := range s.Resources() {
					if !strings.Contains(r, "::document/") && !strings.Contains(r, "::parameter/aws/") {
						t.Errorf("endpoint %s: statement %q admits %v on %s outside %s %s", e.ID, s.Sid(), s.Actions(), r, rkey, rval)
					}
				}
			}
		}
		if !onResources {
			t.Errorf("endpoint %s admits no call on the perimeter's own resources", e.ID)
		}
	}
}

func TestS3EndpointAdmitsOwnBucketsAndOnlyReadsAwsOwnedBuckets(t *testing.T) {
	tpl := templates(t).Production
	e := cdktest.One(t, tpl, "AWS::EC2::VPCEndpoint", map[string]any{"Properties": map[string]any{"VpcEndpointType": "Gateway"}})
	own := []string{bucketArn, bucketArn + "/*"}
	aws := network.AwsOwnedBuckets(region)
	archive := []string{"arn:aws:s3:::" + archiveBucket, "arn:aws:s3:::" + archiveBucket + "/sessions/" + production + "/*"}
	var gotOwn, gotAws, gotArchive []string
	for _, s := range cdktest.Statements(e.Properties["PolicyDocument"]) {
		if s.Effect() != "Allow" {
			continue
		}
		for _, r := range s.Resources() {
			switch {
			case contains(own, r):
				gotOwn = append(gotOwn, r)
				if got, _ := s.Condition("StringEquals", "aws:PrincipalAccount"); !cdktest.SameSet(got, []string{production}) {
					t.Errorf("statement %q admits %s to aws:PrincipalAccount %v, want %s", s.Sid(), r, got, production)
				}
			case contains(archive, r):
				gotArchive = append(gotArchive, r)
				if got, _ := s.Condition("StringEquals", "aws:PrincipalAccount"); !cdktest.SameSet(got, []string{production}) {
					t.Errorf("statement %q admits %s to aws:PrincipalAccount %v, want %s", s.Sid(), r, got, production)
				}
				if !cdktest.SameSet(s.Actions(), []string{"s3:PutObject", "s3:PutObjectAcl", "s3:GetEncryptionConfiguration"}) {
					t.Errorf("statement %q lets %v on the log-archive bucket: sessions are only written there", s.Sid(), s.Actions())
				}
			case contains(aws, r):
				gotAws = append(gotAws, r)
				for _, a := range s.Actions() {
					if a != "s3:GetObject" {
						t.Errorf("statement %q grants %s on AWS-owned bucket %s: AWS buckets are read only", s.Sid(), a, r)
					}
				}
			default:
				t.Errorf("statement %q admits %s: the endpoint admits only the production's buckets and AWS-owned ones", s.Sid(), r)
			}
		}
	}
	if !cdktest.SameSet(gotOwn, own) {
		t.Errorf("own buckets admitted %v, want %v", gotOwn, own)
	}
	if !cdktest.SameSet(gotArchive, archive) {
		t.Errorf("log-archive bucket admitted %v, want %v: the account's own session prefix only", gotArchive, archive)
	}
	if !cdktest.SameSet(gotAws, aws) {
		t.Errorf("AWS-owned buckets admitted %v, want %v", cdktest.Sorted(gotAws), cdktest.Sorted(aws))
	}
	for _, b := range aws {
		if !strings.HasSuffix(b, "/*") || strings.Contains(b, "*.") {
			t.Errorf("AWS-owned bucket %s: want the objects of one named bucket", b)
		}
	}
}

func TestFlowLogsRecordAllTrafficToAnEncryptedRetainedLogGroup(t *testing.T) {
	tpl := templates(t).Production
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil).ID
	group := cdktest.One(t, tpl, "AWS::Logs::LogGroup", map[string]any{"Properties": map[string]any{"LogGroupName": "/acme-nightfall/flow-logs"}}).ID
	vpc := cdktest.One(t, tpl, "AWS::EC2::VPC", nil).ID
	cdktest.HasProperties(t, tpl, "AWS::EC2::FlowLog", map[string]any{
		"ResourceType":       "VPC",
		"ResourceId":         cdktest.Ref(vpc),
		"TrafficType":        "ALL",
		"LogDestinationType": "cloud-watch-logs",
		"LogGroupName":       cdktest.Ref(group),
	})
	cdktest.HasResource(t, tpl, "AWS::Logs::LogGroup", map[string]any{
		"Properties": map[string]any{
			"LogGroupName":    "/acme-nightfall/flow-logs",
			"KmsKeyId":        cdktest.GetAtt(key, "Arn"),
			"RetentionInDays": 365, // ISE 8.1: a year
		},
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
	})
}

func TestAttachmentUsesTheTransitSubnetsAndIsTaggedForItsLink(t *testing.T) {
	tpl := templates(t).Production
	var transit []any
	for _, s := range subnets(t, tpl)[network.TransitTier] {
		transit = append(transit, cdktest.Ref(s))
	}
	var tags []any
	for _, k := range []string{"renderenv:network", "renderenv:studio"} {
		tags = append(tags, map[string]any{"Key": k, "Value": attachTags[k]})
	}
	cdktest.HasProperties(t, tpl, "AWS::EC2::TransitGatewayAttachment", map[string]any{
		"TransitGatewayId": tgwID,
		"SubnetIds":        assertions.Match_ArrayEquals(&transit),
		"Tags":             cdktest.ArrayWith(tags...),
	})
}

func TestDefaultSecurityGroupIsStrippedOfItsRules(t *testing.T) {
	tpl := templates(t).Production
	vpc := cdktest.One(t, tpl, "AWS::EC2::VPC", nil).ID
	cdktest.Count(t, tpl, "Custom::VpcRestrictDefaultSG", 1)
	cdktest.HasProperties(t, tpl, "Custom::VpcRestrictDefaultSG", map[string]any{
		"DefaultSecurityGroupId": cdktest.GetAtt(vpc, "DefaultSecurityGroup"),
	})
}

// TestSubnetMasksFitTheSmallestVpc: a /22 VPC, the smallest a manifest
// may ask for, still gets every tier in every zone, none smaller than the
// /28 AWS allows and none overlapping another.
func TestSubnetMasksFitTheSmallestVpc(t *testing.T) {
	tpl := templates(t).Small
	got := subnets(t, tpl)
	for _, tier := range []string{network.RenderTier, network.StorageTier, network.EndpointsTier, network.TransitTier} {
		if len(got[tier]) != 2 {
			t.Errorf("%s: %d subnets, want 2", tier, len(got[tier]))
		}
	}
	var seen []netip.Prefix
	for _, sn := range cdktest.Find(t, tpl, "AWS::EC2::Subnet", nil) {
		c, _ := sn.Properties["CidrBlock"].(string)
		p, err := netip.ParsePrefix(c)
		if err != nil {
			t.Errorf("subnet %s: CidrBlock %q: %v", sn.ID, c, err)
			continue
		}
		if p.Bits() > 28 {
			t.Errorf("subnet %s is %s, smaller than /28", sn.ID, c)
		}
		if !smallCidr.Contains(p.Addr()) || p.Bits() < smallCidr.Bits() {
			t.Errorf("subnet %s is %s, outside the VPC %s", sn.ID, c, smallCidr)
		}
		for _, q := range seen {
			if q.Overlaps(p) {
				t.Errorf("subnet %s (%s) overlaps %s", sn.ID, p, q)
			}
		}
		seen = append(seen, p)
	}
}

// TestFlowLogDeliveryRoleServesOnlyItsAccountsFlowLogs: the service may
// assume the delivery role only for a flow log of the role's own account
// (the confused deputy, ISE 8.1).
func TestFlowLogDeliveryRoleServesOnlyItsAccountsFlowLogs(t *testing.T) {
	tpl := templates(t).Production
	role := cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{
		"AssumeRolePolicyDocument": cdktest.Obj(map[string]any{"Statement": cdktest.ArrayWith(cdktest.Obj(map[string]any{
			"Principal": map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
		}))}),
	}})
	st := cdktest.Statements(role.Properties["AssumeRolePolicyDocument"])[0]
	if got, _ := st.Condition("StringEquals", "aws:SourceAccount"); !cdktest.SameSet(got, []string{production}) {
		t.Errorf("aws:SourceAccount = %v, want %s", got, production)
	}
	if got, _ := st.Condition("ArnLike", "aws:SourceArn"); !cdktest.SameSet(got, []string{"arn:aws:ec2:" + region + ":" + production + ":vpc-flow-log/*"}) {
		t.Errorf("aws:SourceArn = %v, want the account's flow logs", got)
	}
	cdktest.HasProperties(t, tpl, "AWS::EC2::FlowLog", map[string]any{"DeliverLogsPermissionArn": cdktest.GetAtt(role.ID, "Arn")})
}
