package network_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/internal/cdktest"
)

// tag is the value of key in a resource's Tags, or "".
func tag(r cdktest.Resource, key string) string {
	tags, _ := r.Properties["Tags"].([]any)
	for _, x := range tags {
		m, _ := x.(map[string]any)
		if m["Key"] == key {
			v, _ := m["Value"].(string)
			return v
		}
	}
	return ""
}

// subnets maps each subnet tier (the aws-cdk:subnet-name tag) to the
// logical ids of its subnets.
func subnets(t *testing.T, tpl assertions.Template) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, s := range cdktest.Find(t, tpl, "AWS::EC2::Subnet", nil) {
		name := tag(s, "aws-cdk:subnet-name")
		out[name] = append(out[name], s.ID)
	}
	return out
}

// routeTables maps each subnet's logical id to its route table's.
func routeTables(t *testing.T, tpl assertions.Template) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range cdktest.Find(t, tpl, "AWS::EC2::SubnetRouteTableAssociation", nil) {
		out[refOf(a.Properties["SubnetId"])] = refOf(a.Properties["RouteTableId"])
	}
	return out
}

// route is one AWS::EC2::Route in plain terms.
type route struct {
	ID, Table, Destination, Target string
}

// routes are the template's routes, grouped by route table id. Target is
// "tgw:<id or ref>", "igw:<ref>", "nat:<ref>" or "other".
func routes(t *testing.T, tpl assertions.Template) map[string][]route {
	t.Helper()
	out := map[string][]route{}
	for _, r := range cdktest.Find(t, tpl, "AWS::EC2::Route", nil) {
		p := r.Properties
		rt := route{ID: r.ID, Table: refOf(p["RouteTableId"]), Target: "other"}
		rt.Destination, _ = p["DestinationCidrBlock"].(string)
		if v, ok := p["DestinationIpv6CidrBlock"].(string); ok {
			rt.Destination = v
		}
		switch {
		case p["TransitGatewayId"] != nil:
			rt.Target = "tgw:" + cdktest.Text(p["TransitGatewayId"])
		case p["GatewayId"] != nil:
			rt.Target = "igw:" + cdktest.Text(p["GatewayId"])
		case p["NatGatewayId"] != nil:
			rt.Target = "nat:" + cdktest.Text(p["NatGatewayId"])
		}
		out[rt.Table] = append(out[rt.Table], rt)
	}
	return out
}

// refOf is the logical id a {"Ref": id} or {"Fn::GetAtt": [id, ...]} names.
func refOf(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

func destinations(rs []route) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Destination)
	}
	sort.Strings(out)
	return out
}

// aclEntry is one AWS::EC2::NetworkAclEntry in plain terms.
type aclEntry struct {
	ID       string
	Acl      string
	Egress   bool
	Number   int
	Allow    bool
	Cidr     string
	Protocol int
	From, To int // 0, 0 without a port range
}

func aclEntries(t *testing.T, tpl assertions.Template) []aclEntry {
	t.Helper()
	var out []aclEntry
	for _, r := range cdktest.Find(t, tpl, "AWS::EC2::NetworkAclEntry", nil) {
		p := r.Properties
		e := aclEntry{ID: r.ID, Acl: refOf(p["NetworkAclId"])}
		e.Egress, _ = p["Egress"].(bool)
		n, _ := p["RuleNumber"].(float64)
		e.Number = int(n)
		e.Allow = p["RuleAction"] == "allow"
		e.Cidr, _ = p["CidrBlock"].(string)
		proto, _ := p["Protocol"].(float64)
		e.Protocol = int(proto)
		if pr, ok := p["PortRange"].(map[string]any); ok {
			from, _ := pr["From"].(float64)
			to, _ := pr["To"].(float64)
			e.From, e.To = int(from), int(to)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Egress != out[j].Egress {
			return !out[i].Egress
		}
		return out[i].Number < out[j].Number
	})
	return out
}

func direction(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}

// sgRules are the inline rules of a security group's list property
// (SecurityGroupIngress or SecurityGroupEgress).
func sgRules(r cdktest.Resource, property string) []map[string]any {
	list, _ := r.Properties[property].([]any)
	var out []map[string]any
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// isDisallowAll is the placeholder CDK writes for a group that may send
// nothing: ICMP type 252 code 86 to 255.255.255.255/32, which matches no
// traffic.
func isDisallowAll(rule map[string]any) bool {
	return rule["CidrIp"] == "255.255.255.255/32" && rule["IpProtocol"] == "icmp" &&
		rule["FromPort"] == float64(252) && rule["ToPort"] == float64(86)
}

// ruleText is a security group rule as "proto cidr from-to", for sets.
func ruleText(rule map[string]any) string {
	peer := ""
	for _, k := range []string{"CidrIp", "CidrIpv6", "DestinationPrefixListId", "SourcePrefixListId", "SourceSecurityGroupId", "DestinationSecurityGroupId"} {
		if v, ok := rule[k]; ok {
			peer = cdktest.Text(v)
		}
	}
	return strings.Join([]string{cdktest.Text(rule["IpProtocol"]), peer, cdktest.Text(rule["FromPort"]) + "-" + cdktest.Text(rule["ToPort"])}, " ")
}
