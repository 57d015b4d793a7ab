package evidence

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Network checks: ISE 2.1 to 2.8.

// vpcOverlaps finds, for every VPC of the assembly, the other VPCs whose
// range overlaps its own, in one sweep over the ranges sorted by start
// address (prefixes overlap only by nesting), so that the packs of every
// production do not compare every pair.
func vpcOverlaps(a *cfn.Assembly) map[*cfn.Resource][]*cfn.Resource {
	type span struct {
		r      *cfn.Resource
		prefix netip.Prefix
	}
	var spans []span
	for _, vpc := range a.Resources("AWS::EC2::VPC") {
		if p, err := netip.ParsePrefix(vpc.Stack.String(vpc.Properties["CidrBlock"])); err == nil {
			spans = append(spans, span{vpc, p.Masked()})
		}
	}
	slices.SortStableFunc(spans, func(x, y span) int {
		if c := x.prefix.Addr().Compare(y.prefix.Addr()); c != 0 {
			return c
		}
		return x.prefix.Bits() - y.prefix.Bits()
	})
	out := map[*cfn.Resource][]*cfn.Resource{}
	var open []span // enclosing ranges, outermost first
	for _, s := range spans {
		for len(open) > 0 && !open[len(open)-1].prefix.Overlaps(s.prefix) {
			open = open[:len(open)-1]
		}
		for _, o := range open {
			out[s.r] = append(out[s.r], o.r)
			out[o.r] = append(out[o.r], s.r)
		}
		open = append(open, s)
	}
	return out
}

// checkOwnVpc: the production runs in a VPC of its own (ISE 2.4).
func checkOwnVpc(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no AWS::EC2::VPC found for " + v.prod + " or its pool")
	}
	e := []Evidence{ev(vpc, "CidrBlock", vpc.Properties["CidrBlock"])}
	cidr, err := netip.ParsePrefix(cfn.Str(vpc.Properties["CidrBlock"]))
	if err != nil {
		return failed(cite(vpc)+" has no literal CidrBlock", e...)
	}
	// No other production's VPC overlaps it, whatever stack holds it.
	var problems []string
	for _, o := range v.overlaps[vpc] {
		problems = append(problems, fmt.Sprintf("%s overlaps it with %s", cite(o), cfn.Str(o.Properties["CidrBlock"])))
	}
	if len(problems) > 0 {
		return verdict("", problems, e)
	}
	if vpc.Stack.Name == v.prod {
		return passed(fmt.Sprintf("%s has its own VPC %s, overlapping no other VPC of the estate", v.prod, cidr), e...)
	}
	var sharers []string
	for _, o := range v.others() {
		if o.PooledVpc && o.Pool != nil && v.r.Pool != nil && o.Pool.Account == v.r.Pool.Account {
			sharers = append(sharers, o.Name)
		}
	}
	who := "no other production yet"
	if len(sharers) > 0 {
		who = "also " + strings.Join(sharers, ", ")
	}
	msg := fmt.Sprintf("%s runs in the pooled VPC %s of %s (%s); %s allows a pooled VPC", v.r.Name, cidr, vpc.Stack.Name, who, v.tierText())
	if v.r.Policy.DedicatedVpc {
		return failed(msg+" not: its tier requires a dedicated VPC", e...)
	}
	return result{outcome: Limited, detail: msg, evidence: e}
}

// checkNoInternet: nothing in the production's network stacks reaches the
// internet: no gateways, no default routes, no public addresses (ISE 2.2,
// 2.4; RE-NET-001, RE-NET-002 and RE-NET-003 judge it). The VPC's routes
// are cited.
func checkNoInternet(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	var e []Evidence
	routes := vpc.Stack.OfType("AWS::EC2::Route")
	dests := map[string]*cfn.Resource{}
	for _, r := range routes {
		d := cfn.Str(r.Properties["DestinationCidrBlock"])
		if dests[d] == nil {
			dests[d] = r
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dests)) {
		r := dests[d]
		target := "TransitGatewayId"
		for _, k := range []string{"TransitGatewayId", "VpcEndpointId", "GatewayId", "NatGatewayId"} {
			if r.Properties[k] != nil {
				target = k
			}
		}
		e = append(e, ev(r, "DestinationCidrBlock", d+" via "+target))
	}
	e = append(e, Evidence{Stack: vpc.Stack.Name, LogicalID: vpc.ID, Type: vpc.Type, Property: "internet gateway, NAT gateway, egress-only gateway, EIP", Value: "none in " + vpc.Stack.Name})
	return passed(fmt.Sprintf("%s has no internet or NAT gateway, no public IP mapping and no default route: %s, each to the Transit Gateway", vpc.Stack.Name, count(len(routes), "route", "routes")), e...)
}

// checkNoPublicAddress: launch templates give render nodes no public IP
// (RE-RND-002 judges it).
func checkNoPublicAddress(v *view) result {
	return withTemplates(v, fmt.Sprintf("%s assign no public IP", count(len(v.launchTemplates()), "launch template", "launch templates")), func(lt *cfn.Resource, _ *[]string, e *[]Evidence) {
		for i, ni := range cfn.AsList(lt.Prop(ltData + ".NetworkInterfaces")) {
			*e = append(*e, ev(lt, fmt.Sprintf("%s.NetworkInterfaces[%d].AssociatePublicIpAddress", ltData, i), cfn.AsMap(ni)["AssociatePublicIpAddress"]))
		}
	})
}

// checkTransitIsolation: the production's attachment is associated with a
// Transit Gateway route table that learns only management and on-premises
// routes, so it reaches no other production (ISE 2.2; RE-NET-005 and
// RE-NET-006 judge the tables and the gateway).
func checkTransitIsolation(v *view) result {
	assocs := v.t(v.link).OfType("AWS::EC2::TransitGatewayRouteTableAssociation")
	if len(assocs) == 0 {
		return failed(v.link + " associates no Transit Gateway attachment")
	}
	var e []Evidence
	var problems []string
	for _, tgw := range v.t(v.network).OfType("AWS::EC2::TransitGateway") {
		for _, k := range []string{"DefaultRouteTableAssociation", "DefaultRouteTablePropagation"} {
			e = append(e, ev(tgw, k, tgw.Properties[k]))
		}
	}
	for _, a := range assocs {
		rt := a.Resolve("TransitGatewayRouteTableId")
		if rt == nil || rt.Type != "AWS::EC2::TransitGatewayRouteTable" {
			problems = append(problems, cite(a)+": its route table is not a route table of the estate")
			continue
		}
		e = append(e, ev(a, "TransitGatewayRouteTableId", rt.Stack.Name+" / "+rt.ID))
		// The table's own stack (the hub) propagates into it.
		var sources []string
		for _, p := range rt.Stack.OfType("AWS::EC2::TransitGatewayRouteTablePropagation") {
			if p.Resolve("TransitGatewayRouteTableId") != rt {
				continue
			}
			what := "an attachment of " + p.Stack.Name
			if src := p.Resolve("TransitGatewayAttachmentId"); src != nil {
				what = src.ID
			}
			sources = append(sources, what)
			e = append(e, ev(p, "TransitGatewayAttachmentId", what))
		}
		e = append(e, ev(rt, "propagations", strings.Join(sources, ", ")))
	}
	return verdict(fmt.Sprintf("%s is associated with %s's production route table, which learns routes only from %s's own attachments (management VPC and VPN); default association and propagation are off", v.link, v.network, v.network), problems, e)
}

// checkManagementEgress: in the management VPC only the front end, which
// holds the NAT gateways, routes to the internet gateway (RE-NET-004 judges
// that), only the application tier routes to NAT, and no management
// security group allows egress to anywhere (ISE 2.2, 2.3).
func checkManagementEgress(v *view) result {
	n := v.t(v.network)
	tiers := subnetTiers(n)
	tierOf := map[*cfn.Resource]string{} // route table -> tier
	for _, a := range n.OfType("AWS::EC2::SubnetRouteTableAssociation") {
		tierOf[a.Resolve("RouteTableId")] = tiers[a.Resolve("SubnetId")]
	}
	var problems []string
	var e []Evidence
	for _, r := range n.OfType("AWS::EC2::Route") {
		if n.String(r.Properties["DestinationCidrBlock"]) != "0.0.0.0/0" {
			continue
		}
		tier := tierOf[r.Resolve("RouteTableId")]
		switch {
		case r.Properties["GatewayId"] != nil:
			e = append(e, ev(r, "GatewayId", "internet gateway, "+tier+" tier"))
		case r.Properties["NatGatewayId"] != nil && tier != "application":
			problems = append(problems, fmt.Sprintf("%s sends 0.0.0.0/0 to NAT from the %q tier", cite(r), tier))
		case r.Properties["NatGatewayId"] != nil:
			e = append(e, ev(r, "NatGatewayId", "NAT gateway, application tier"))
		}
	}
	for _, sg := range n.OfType("AWS::EC2::SecurityGroup") {
		for i, rule := range cfn.AsList(sg.Properties["SecurityGroupEgress"]) {
			if n.String(cfn.AsMap(rule)["CidrIp"]) == "0.0.0.0/0" {
				problems = append(problems, fmt.Sprintf("%s: SecurityGroupEgress[%d] allows 0.0.0.0/0", cite(sg), i))
			}
		}
		if strings.Contains(strings.ToLower(cfn.Str(sg.Properties["GroupDescription"])), "license") {
			for i, rule := range cfn.AsList(sg.Properties["SecurityGroupEgress"]) {
				m := cfn.AsMap(rule)
				e = append(e, ev(sg, fmt.Sprintf("SecurityGroupEgress[%d]", i), fmt.Sprintf("%s %s-%s to %s", cfn.Str(m["IpProtocol"]), cfn.Str(m["FromPort"]), cfn.Str(m["ToPort"]), n.String(m["CidrIp"]))))
			}
		}
	}
	return verdict("only the management VPC's front end routes to the internet gateway, only its application tier routes to NAT, and no management security group allows egress to 0.0.0.0/0", problems, e)
}

// subnetTiers maps subnets to their tier (CDK's subnet name tag).
func subnetTiers(t *cfn.Stack) map[*cfn.Resource]string {
	out := map[*cfn.Resource]string{}
	for _, s := range t.OfType("AWS::EC2::Subnet") {
		tags, _ := s.Tags()
		out[s] = tags["aws-cdk:subnet-name"]
	}
	return out
}

// checkTiers: the production VPC is split into tiers, none public (ISE 2.3).
func checkTiers(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	byTier := map[string][]*cfn.Resource{}
	var problems []string
	for _, s := range vpc.Stack.OfType("AWS::EC2::Subnet") {
		if s.Resolve("VpcId") != vpc {
			continue
		}
		tags, _ := s.Tags()
		tier := tags["aws-cdk:subnet-name"]
		byTier[tier] = append(byTier[tier], s)
		if typ := tags["aws-cdk:subnet-type"]; typ == "Public" || cfn.Truthy(s.Properties["MapPublicIpOnLaunch"]) {
			problems = append(problems, fmt.Sprintf("%s is a public subnet (tier %q)", cite(s), tier))
		}
	}
	var e []Evidence
	for _, tier := range slices.Sorted(maps.Keys(byTier)) {
		s := byTier[tier][0]
		e = append(e, ev(s, "Tags.aws-cdk:subnet-name", fmt.Sprintf("%s (%s, %s)", tier, count(len(byTier[tier]), "subnet", "subnets"), cfn.Str(s.Properties["CidrBlock"]))))
	}
	if len(byTier) < 2 {
		problems = append(problems, fmt.Sprintf("%s has %s, not a tiered layout", cite(vpc), count(len(byTier), "subnet tier", "subnet tiers")))
	}
	return verdict(fmt.Sprintf("the VPC has %d private tiers: %s", len(byTier), strings.Join(slices.Sorted(maps.Keys(byTier)), ", ")), problems, e)
}

// checkManagementTiers: the management VPC is tiered too, with only the
// front end public.
func checkManagementTiers(v *view) result {
	byTier := map[string][]*cfn.Resource{}
	var problems []string
	for _, s := range v.t(v.network).OfType("AWS::EC2::Subnet") {
		tags, _ := s.Tags()
		tier := tags["aws-cdk:subnet-name"]
		byTier[tier] = append(byTier[tier], s)
		if tags["aws-cdk:subnet-type"] == "Public" && tier != "front-end" {
			problems = append(problems, fmt.Sprintf("%s is public in the %q tier", cite(s), tier))
		}
		if cfn.Truthy(s.Properties["MapPublicIpOnLaunch"]) {
			problems = append(problems, cite(s)+" maps public IPs on launch")
		}
	}
	var e []Evidence
	for _, tier := range slices.Sorted(maps.Keys(byTier)) {
		s := byTier[tier][0]
		tags, _ := s.Tags()
		e = append(e, ev(s, "Tags.aws-cdk:subnet-name", fmt.Sprintf("%s (%s, %s)", tier, strings.ToLower(tags["aws-cdk:subnet-type"]), count(len(byTier[tier]), "subnet", "subnets"))))
	}
	if len(byTier) < 3 {
		problems = append(problems, fmt.Sprintf("%s's VPC has %s", v.network, count(len(byTier), "tier", "tiers")))
	}
	return verdict(fmt.Sprintf("the management VPC has %d tiers (%s); only front-end is public and no subnet maps public IPs", len(byTier), strings.Join(slices.Sorted(maps.Keys(byTier)), ", ")), problems, e)
}

// sgRule is one ingress or egress rule, inline or standalone.
type sgRule struct {
	res  *cfn.Resource
	prop string
	m    map[string]any
}

func (r sgRule) text() string {
	s := r.res.Stack
	src := s.String(r.m["CidrIp"]) + s.String(r.m["CidrIpv6"])
	if src == "" {
		if r.m["SourceSecurityGroupId"] != nil {
			src = "a security group"
		} else if r.m["DestinationPrefixListId"] != nil || r.m["SourcePrefixListId"] != nil {
			src = "a prefix list"
		} else if r.m["DestinationSecurityGroupId"] != nil {
			src = "a security group"
		}
	}
	proto := cfn.Str(r.m["IpProtocol"])
	if proto == "-1" {
		return "all traffic " + src
	}
	return fmt.Sprintf("%s %s-%s %s", proto, cfn.Str(r.m["FromPort"]), cfn.Str(r.m["ToPort"]), src)
}

// covers reports whether the rule admits TCP traffic on port.
func (r sgRule) covers(port float64) bool {
	proto := strings.ToLower(cfn.Str(r.m["IpProtocol"]))
	if proto == "-1" || proto == "all" {
		return true
	}
	if proto != "tcp" && proto != "6" {
		return false
	}
	from, ok1 := cfn.Number(r.m["FromPort"])
	to, ok2 := cfn.Number(r.m["ToPort"])
	if !ok1 || !ok2 {
		return true
	}
	return from <= port && port <= to
}

// sgRules collects the ingress (or egress) rules of the given stacks.
func sgRules(ts []*cfn.Stack, egress bool) []sgRule {
	inline, standalone := "SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress"
	if egress {
		inline, standalone = "SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress"
	}
	var out []sgRule
	for _, t := range ts {
		for _, sg := range t.OfType("AWS::EC2::SecurityGroup") {
			for i, rule := range cfn.AsList(sg.Properties[inline]) {
				out = append(out, sgRule{sg, fmt.Sprintf("%s[%d]", inline, i), cfn.AsMap(rule)})
			}
		}
		for _, r := range t.OfType(standalone) {
			out = append(out, sgRule{r, "rule", r.Properties})
		}
	}
	return out
}

// placeholder is CDK's rule that stands for "no egress at all".
func placeholder(r sgRule) bool { return cfn.Str(r.m["CidrIp"]) == "255.255.255.255/32" }

// scope stacks for security group checks: the production's, its pool's and
// its link's.
func (v *view) sgStacks() []*cfn.Stack { return append(v.own(), v.t(v.link)) }

// checkNoOpenIngress: no security group admits traffic from anywhere
// (RE-NET-007 judges it). Every ingress rule is cited.
func checkNoOpenIngress(v *view) result {
	var e []Evidence
	for _, r := range sgRules(v.sgStacks(), false) {
		e = append(e, ev(r.res, r.prop, r.text()))
	}
	for _, sg := range v.renderGroups() {
		if len(cfn.AsList(sg.Properties["SecurityGroupIngress"])) == 0 {
			e = append(e, ev(sg, "SecurityGroupIngress", "none: render nodes accept no connections"))
		}
	}
	return passed("no security group of the production, its pool or its link admits traffic from 0.0.0.0/0 or ::/0; every ingress names a private range or group", e...)
}

// checkRestrictedEgress: security groups do not allow all egress.
func checkRestrictedEgress(v *view) result {
	var problems []string
	var e []Evidence
	render := map[*cfn.Resource]bool{}
	for _, sg := range v.renderGroups() {
		render[sg] = true
	}
	for _, r := range sgRules(v.own(), true) {
		s := r.res.Stack
		if s.String(r.m["CidrIp"]) == "0.0.0.0/0" || s.String(r.m["CidrIpv6"]) == "::/0" {
			problems = append(problems, fmt.Sprintf("%s: %s allows egress %s", cite(r.res), r.prop, r.text()))
			continue
		}
		if placeholder(r) {
			e = append(e, ev(r.res, r.prop, "no egress (CDK's placeholder rule)"))
			continue
		}
		if render[r.res] || r.res.Type == "AWS::EC2::SecurityGroupEgress" {
			e = append(e, ev(r.res, r.prop, r.text()))
		}
	}
	return verdict("no security group of the production allows egress to 0.0.0.0/0; render nodes reach only the scheduler and license ports, the endpoints, the storage tier and S3", problems, e)
}

// checkDefaultGroupClosed: the VPC's default security group keeps no rules
// (ISE 2.5; RE-NET-010 judges it). The custom resource is cited.
func checkDefaultGroupClosed(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	var e []Evidence
	for _, r := range vpc.Stack.All() {
		if id, attr := cfn.RefID(r.Properties["DefaultSecurityGroupId"]); strings.HasPrefix(r.Type, "Custom::") && id == vpc.ID && attr == "DefaultSecurityGroup" {
			e = append(e, ev(r, "DefaultSecurityGroupId", vpc.ID+".DefaultSecurityGroup"))
		}
	}
	return passed(fmt.Sprintf("the rules of the default security group of %s are stripped at deploy time", vpc.ID), e...)
}

// checkNoDefaultGroupUse: launch templates and endpoints name security
// groups of their own, never the VPC's default group (RE-NET-011 judges
// it). The groups the launch templates name are cited.
func checkNoDefaultGroupUse(v *view) result {
	var e []Evidence
	for _, lt := range v.launchTemplates() {
		for _, ref := range ltGroupRefs(lt) {
			if g := lt.Stack.Resolve(ref); g != nil {
				e = append(e, ev(lt, ltData+".NetworkInterfaces.Groups", g.ID))
			}
		}
	}
	return passed("launch templates and interface endpoints use renderenv's own security groups, never the default group", e...)
}

// naclEntry is one network ACL entry.
type naclEntry struct {
	res    *cfn.Resource
	number float64
	egress bool
	allow  bool
	cidr   netip.Prefix
	all    bool // every protocol
}

func naclEntries(acl *cfn.Resource) []naclEntry {
	var out []naclEntry
	for _, r := range acl.Stack.OfType("AWS::EC2::NetworkAclEntry") {
		if r.Resolve("NetworkAclId") != acl {
			continue
		}
		n, _ := cfn.Number(r.Properties["RuleNumber"])
		c, err := netip.ParsePrefix(r.Stack.String(r.Properties["CidrBlock"]))
		if err != nil {
			continue // IPv6 entries do not concern IPv4 ranges
		}
		out = append(out, naclEntry{
			res: r, number: n, egress: cfn.Truthy(r.Properties["Egress"]),
			allow: strings.EqualFold(cfn.Str(r.Properties["RuleAction"]), "allow"),
			cidr:  c.Masked(), all: cfn.Str(r.Properties["Protocol"]) == "-1",
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

// denies evaluates an ACL for every address of target in one direction: it
// holds when the first entry that concerns any of its addresses denies all
// of them. It returns the deciding entry (nil: the default rule).
func denies(entries []naclEntry, egress bool, target netip.Prefix) (bool, *naclEntry) {
	for i := range entries {
		en := &entries[i]
		if en.egress != egress || !en.cidr.Overlaps(target) {
			continue
		}
		if en.allow {
			return false, en
		}
		if en.all && en.cidr.Bits() <= target.Bits() {
			return true, en
		}
	}
	return true, nil
}

// vpcAcls are the network ACLs of the VPC's subnets, and the subnets that
// have none (which get the VPC's default ACL, allowing everything).
func vpcAcls(vpc *cfn.Resource) (acls []*cfn.Resource, bare []*cfn.Resource) {
	assoc := map[*cfn.Resource]*cfn.Resource{}
	for _, a := range vpc.Stack.OfType("AWS::EC2::SubnetNetworkAclAssociation") {
		assoc[a.Resolve("SubnetId")] = a.Resolve("NetworkAclId")
	}
	seen := map[*cfn.Resource]bool{}
	for _, s := range vpc.Stack.OfType("AWS::EC2::Subnet") {
		if s.Resolve("VpcId") != vpc {
			continue
		}
		acl := assoc[s]
		if acl == nil {
			bare = append(bare, s)
			continue
		}
		if !seen[acl] {
			seen[acl] = true
			acls = append(acls, acl)
		}
	}
	return acls, bare
}

// peerRanges are the VPC ranges of every other production and pool.
func (v *view) peerRanges(own netip.Prefix) (peers map[netip.Prefix][]string, siblings []string) {
	peers = map[netip.Prefix][]string{}
	for _, o := range v.others() {
		c := o.VpcCidr
		if o.PooledVpc && o.Pool != nil {
			c = o.Pool.VpcCidr
		}
		if !c.IsValid() {
			continue
		}
		c = c.Masked()
		if c == own.Masked() {
			siblings = append(siblings, o.Name)
			continue
		}
		peers[c] = append(peers[c], o.Name)
	}
	for _, p := range v.studio.Pools {
		c := p.VpcCidr.Masked()
		if c.IsValid() && c != own.Masked() && peers[c] == nil {
			peers[c] = []string{"pool " + p.Account}
		}
	}
	return peers, siblings
}

// checkAclDeniesPeers evaluates the network ACLs for every other
// production's range, in both directions (ISE 2.6).
func checkAclDeniesPeers(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	own, err := netip.ParsePrefix(cfn.Str(vpc.Properties["CidrBlock"]))
	if err != nil {
		return failed(cite(vpc) + " has no literal CidrBlock")
	}
	acls, bare := vpcAcls(vpc)
	var problems []string
	for _, s := range bare {
		problems = append(problems, cite(s)+" has no network ACL of its own, so the default ACL allows everything")
	}
	if len(acls) == 0 {
		return failed(fmt.Sprintf("no network ACL is associated with the subnets of %s", cite(vpc)))
	}
	peers, siblings := v.peerRanges(own)
	var e []Evidence
	var ranges []netip.Prefix
	for c := range peers {
		ranges = append(ranges, c)
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].String() < ranges[j].String() })
	for _, acl := range acls {
		entries := naclEntries(acl)
		for _, c := range ranges {
			for _, egress := range []bool{false, true} {
				dir := "inbound"
				if egress {
					dir = "outbound"
				}
				ok, by := denies(entries, egress, c)
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("%s allows %s %s (%s) by rule %v", cite(by.res), dir, c, strings.Join(peers[c], ", "), by.number))
				case by != nil:
					e = append(e, ev(by.res, "RuleAction", fmt.Sprintf("deny %s by rule %v, covering %s %s", by.cidr, by.number, dir, c)))
				}
			}
		}
	}
	detail := fmt.Sprintf("the network ACL of every subnet denies, in both directions, the ranges of all %s of the estate", count(len(ranges), "other production or pool", "other productions and pools"))
	if len(problems) > 0 {
		return verdict("", problems, e)
	}
	if len(siblings) > 0 {
		return result{outcome: Limited, evidence: e, detail: detail + fmt.Sprintf("; %s share the pooled VPC and cannot be separated by network ACLs", strings.Join(siblings, ", "))}
	}
	return passed(detail, e...)
}

// checkAclOrder: the RFC 1918 ranges are denied explicitly, after the allows
// for the VPC, management and on-premises, so that every other production,
// present or future, is denied.
func checkAclOrder(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	acls, _ := vpcAcls(vpc)
	if len(acls) == 0 {
		return failed("no network ACL on the subnets of " + cite(vpc))
	}
	private := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	var problems []string
	var e []Evidence
	for _, acl := range acls {
		entries := naclEntries(acl)
		for _, egress := range []bool{false, true} {
			var lastPrivateAllow float64 = -1
			var allowEv []Evidence
			for _, en := range entries {
				if en.egress != egress || !en.allow {
					continue
				}
				for _, p := range private {
					if p.Overlaps(en.cidr) && en.cidr.Bits() >= p.Bits() && en.number > lastPrivateAllow {
						lastPrivateAllow = en.number
					}
				}
				if en.cidr.Bits() > 0 {
					allowEv = append(allowEv, ev(en.res, "RuleAction", fmt.Sprintf("allow %s by rule %v", en.cidr, en.number)))
				}
			}
			e = append(e, allowEv...)
			for _, p := range private {
				var found *naclEntry
				for i := range entries {
					en := &entries[i]
					if en.egress == egress && !en.allow && en.all && en.cidr == p {
						found = en
						break
					}
				}
				dir := "inbound"
				if egress {
					dir = "outbound"
				}
				switch {
				case found == nil:
					problems = append(problems, fmt.Sprintf("%s has no %s deny for %s", cite(acl), dir, p))
				case found.number < lastPrivateAllow:
					problems = append(problems, fmt.Sprintf("%s denies %s %s by rule %v, before the allows it should follow (rule %v)", cite(found.res), dir, p, found.number, lastPrivateAllow))
				default:
					e = append(e, ev(found.res, "RuleAction", fmt.Sprintf("deny %s %s by rule %v", dir, p, found.number)))
				}
			}
		}
	}
	return verdict("10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16 are denied in both directions after the allows for the VPC, management and on-premises, so a production added later is denied too", problems, e)
}

// vpns are the VPN connections of the management network stack.
func (v *view) vpns() []*cfn.Resource {
	return v.t(v.network).OfType("AWS::EC2::VPNConnection")
}

// withVpns cites what fn finds on each VPN; without a VPN there is nothing
// to check.
func withVpns(v *view, ok func(n int) string, fn func(vpn *cfn.Resource) []Evidence) result {
	vpns := v.vpns()
	if len(vpns) == 0 {
		return result{outcome: NotUsed, detail: "no site-to-site VPN in " + v.network + " (onPremises.vpn is not set)"}
	}
	var e []Evidence
	for _, vpn := range vpns {
		e = append(e, fn(vpn)...)
	}
	return passed(ok(len(vpns)), e...)
}

// checkVpnCrypto: every tunnel pins IKEv2 and current algorithms (ISE 2.7;
// RE-NET-009 judges them). The first tunnel's proposals are cited.
func checkVpnCrypto(v *view) result {
	fields := []string{"IKEVersions"}
	for _, ph := range []string{"Phase1", "Phase2"} {
		fields = append(fields, ph+"EncryptionAlgorithms", ph+"IntegrityAlgorithms", ph+"DHGroupNumbers")
	}
	return withVpns(v, func(n int) string {
		return fmt.Sprintf("%s pins IKEv2, AES-256, SHA-2 and elliptic-curve DH groups in both phases of every tunnel", count(n, "VPN", "VPNs"))
	}, func(vpn *cfn.Resource) []Evidence {
		var e []Evidence
		tun := cfn.AsMap(cfn.At(vpn.Properties, "VpnTunnelOptionsSpecifications[0]"))
		for _, f := range fields {
			var vals []string
			for _, x := range cfn.AsList(tun[f]) {
				vals = append(vals, vpn.Stack.String(cfn.AsMap(x)["Value"]))
			}
			e = append(e, ev(vpn, "VpnTunnelOptionsSpecifications[0]."+f, strings.Join(vals, ", ")))
		}
		return e
	})
}

// checkVpnPresent: an IPsec VPN joins on-premises to the Transit Gateway.
func checkVpnPresent(v *view) result {
	return withVpns(v, func(int) string {
		return "on-premises traffic to the Transit Gateway is carried by an IPsec (ipsec.1) VPN"
	}, func(vpn *cfn.Resource) []Evidence {
		e := []Evidence{ev(vpn, "Type", vpn.Properties["Type"])}
		if tgw := vpn.Resolve("TransitGatewayId"); tgw != nil {
			e = append(e, ev(vpn, "TransitGatewayId", tgw.ID))
		}
		return e
	})
}
