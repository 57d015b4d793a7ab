package evidence

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// Network checks: ISE 2.1 to 2.8.

// internetTypes are resources that give a VPC a path to or from the internet.
var internetTypes = []string{
	"AWS::EC2::InternetGateway", "AWS::EC2::EgressOnlyInternetGateway", "AWS::EC2::NatGateway",
	"AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EIP", "AWS::EC2::VPNGateway",
}

// checkOwnVpc: the production runs in a VPC of its own (ISE 2.4).
func checkOwnVpc(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no AWS::EC2::VPC found for " + v.prod + " or its pool")
	}
	e := []Evidence{ev(vpc, "CidrBlock", vpc.Props["CidrBlock"])}
	cidr, err := netip.ParsePrefix(str(vpc.Props["CidrBlock"]))
	if err != nil {
		return failed(cite(vpc)+" has no literal CidrBlock", e...)
	}
	// No other production's VPC overlaps it, whatever stack holds it.
	var problems []string
	for _, o := range v.ofType("AWS::EC2::VPC") {
		if o == vpc {
			continue
		}
		if oc, err := netip.ParsePrefix(str(o.Props["CidrBlock"])); err == nil && oc.Overlaps(cidr) {
			problems = append(problems, fmt.Sprintf("%s overlaps it with %s", cite(o), oc))
		}
	}
	if len(problems) > 0 {
		return verdict("", problems, e)
	}
	if vpc.Stack == v.prod {
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
	msg := fmt.Sprintf("%s runs in the pooled VPC %s of %s (%s); %s allows a pooled VPC", v.r.Name, cidr, vpc.Stack, who, v.tierText())
	if v.r.Policy.DedicatedVpc {
		return failed(msg+" not: its tier requires a dedicated VPC", e...)
	}
	return result{outcome: Limited, detail: msg, evidence: e}
}

// checkNoInternet: nothing in the production's network stacks reaches the
// internet: no gateways, no default routes, no public addresses (ISE 2.2,
// 2.4).
func checkNoInternet(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	var problems []string
	var e []Evidence
	stacks := []*template{v.t(vpc.Stack)}
	if vpc.Stack != v.prod {
		stacks = append(stacks, v.t(v.prod))
	}
	for _, t := range stacks {
		for _, r := range t.ofType(internetTypes...) {
			problems = append(problems, cite(r)+" gives the production network an internet path")
		}
		for _, r := range t.ofType("AWS::EC2::Route") {
			dest := str(r.Props["DestinationCidrBlock"]) + str(r.Props["DestinationIpv6CidrBlock"])
			switch {
			case dest == "0.0.0.0/0" || dest == "::/0":
				problems = append(problems, fmt.Sprintf("%s routes %s", cite(r), dest))
			case r.Props["GatewayId"] != nil || r.Props["NatGatewayId"] != nil || r.Props["EgressOnlyInternetGatewayId"] != nil:
				problems = append(problems, cite(r)+" routes to an internet or NAT gateway")
			}
		}
		for _, s := range t.ofType("AWS::EC2::Subnet") {
			if truthy(s.Props["MapPublicIpOnLaunch"]) {
				problems = append(problems, cite(s)+" maps public IPs on launch")
			}
		}
	}
	routes := v.t(vpc.Stack).ofType("AWS::EC2::Route")
	dests := map[string]*resource{}
	for _, r := range routes {
		d := str(r.Props["DestinationCidrBlock"])
		if dests[d] == nil {
			dests[d] = r
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dests)) {
		r := dests[d]
		target := "TransitGatewayId"
		for _, k := range []string{"TransitGatewayId", "VpcEndpointId", "GatewayId", "NatGatewayId"} {
			if r.Props[k] != nil {
				target = k
			}
		}
		e = append(e, ev(r, "DestinationCidrBlock", d+" via "+target))
	}
	e = append(e, Evidence{Stack: vpc.Stack, LogicalID: vpc.ID, Type: vpc.Type, Property: "internet gateway, NAT gateway, egress-only gateway, EIP", Value: "none in " + vpc.Stack})
	return verdict(fmt.Sprintf("%s has no internet or NAT gateway, no public IP mapping and no default route: %s, each to the Transit Gateway", vpc.Stack, count(len(routes), "route", "routes")), problems, e)
}

// checkNoPublicAddress: launch templates give render nodes no public IP.
func checkNoPublicAddress(v *view) result {
	lts := v.launchTemplates()
	if len(lts) == 0 {
		return failed("no launch template in " + v.prod)
	}
	var problems []string
	var e []Evidence
	for _, lt := range lts {
		nis := asList(lt.prop("LaunchTemplateData.NetworkInterfaces"))
		if len(nis) == 0 {
			problems = append(problems, cite(lt)+" leaves the public IP to the subnet's default (no NetworkInterfaces with AssociatePublicIpAddress false)")
			continue
		}
		for i, ni := range nis {
			p := fmt.Sprintf("LaunchTemplateData.NetworkInterfaces[%d].AssociatePublicIpAddress", i)
			if val, ok := asMap(ni)["AssociatePublicIpAddress"]; !ok || truthy(val) {
				problems = append(problems, cite(lt)+": "+p+" is not false")
			} else {
				e = append(e, ev(lt, p, val))
			}
		}
	}
	return verdict(fmt.Sprintf("%s assign no public IP", count(len(lts), "launch template", "launch templates")), problems, e)
}

// checkTransitIsolation: the production's attachment is associated with a
// Transit Gateway route table that learns only management and on-premises
// routes, so it reaches no other production (ISE 2.2).
func checkTransitIsolation(v *view) result {
	link := v.t(v.link)
	var e []Evidence
	var problems []string
	assocs := link.ofType("AWS::EC2::TransitGatewayRouteTableAssociation")
	if len(assocs) == 0 {
		return failed(v.link + " associates no Transit Gateway attachment")
	}
	for _, tgw := range v.t(v.network).ofType("AWS::EC2::TransitGateway") {
		for _, k := range []string{"DefaultRouteTableAssociation", "DefaultRouteTablePropagation"} {
			if str(tgw.Props[k]) != "disable" {
				problems = append(problems, fmt.Sprintf("%s: %s is not disable", cite(tgw), k))
			} else {
				e = append(e, ev(tgw, k, "disable"))
			}
		}
	}
	for _, a := range assocs {
		rt := v.resolve(a.Stack, a.Props["TransitGatewayRouteTableId"])
		if rt == nil || rt.Type != "AWS::EC2::TransitGatewayRouteTable" {
			problems = append(problems, cite(a)+": its route table is not a route table of the estate")
			continue
		}
		e = append(e, ev(a, "TransitGatewayRouteTableId", rt.Stack+" / "+rt.ID))
		// Who propagates into that table, and which static routes it holds.
		var sources []string
		for _, p := range v.ofType("AWS::EC2::TransitGatewayRouteTablePropagation") {
			name := p.Stack
			if v.resolve(name, p.Props["TransitGatewayRouteTableId"]) != rt {
				continue
			}
			if name != rt.Stack {
				problems = append(problems, fmt.Sprintf("%s propagates a production's routes into %s, which %s is associated with", cite(p), rt.ID, v.prod))
				continue
			}
			src := v.resolve(name, p.Props["TransitGatewayAttachmentId"])
			what := "an attachment of " + name
			if src != nil {
				what = src.ID
			}
			sources = append(sources, what)
			e = append(e, ev(p, "TransitGatewayAttachmentId", what))
		}
		for _, r := range v.ofType("AWS::EC2::TransitGatewayRoute") {
			if v.resolve(r.Stack, r.Props["TransitGatewayRouteTableId"]) == rt && !truthy(r.Props["Blackhole"]) {
				problems = append(problems, fmt.Sprintf("%s adds a static route %s to %s", cite(r), str(r.Props["DestinationCidrBlock"]), rt.ID))
			}
		}
		if len(problems) == 0 {
			e = append(e, ev(rt, "propagations", strings.Join(sources, ", ")))
		}
	}
	return verdict(fmt.Sprintf("%s is associated with %s's production route table, which learns routes only from %s's own attachments (management VPC and VPN); default association and propagation are off", v.link, v.network, v.network), problems, e)
}

// checkManagementEgress: in the management VPC only the front end, which
// holds the NAT gateways, routes to the internet gateway, and only the
// application tier routes to NAT (ISE 2.2, 2.3).
func checkManagementEgress(v *view) result {
	n := v.t(v.network)
	tiers := subnetTiers(n)
	var problems []string
	var e []Evidence
	for _, r := range n.ofType("AWS::EC2::Route") {
		if str(r.Props["DestinationCidrBlock"]) != "0.0.0.0/0" {
			continue
		}
		rt := refID(r.Props["RouteTableId"])
		tier := ""
		for _, a := range n.ofType("AWS::EC2::SubnetRouteTableAssociation") {
			if refID(a.Props["RouteTableId"]) == rt {
				tier = tiers[refID(a.Props["SubnetId"])]
			}
		}
		switch {
		case r.Props["GatewayId"] != nil:
			if tier != "front-end" {
				problems = append(problems, fmt.Sprintf("%s sends 0.0.0.0/0 to the internet gateway from the %q tier", cite(r), tier))
			} else {
				e = append(e, ev(r, "GatewayId", "internet gateway, front-end tier"))
			}
		case r.Props["NatGatewayId"] != nil:
			if tier != "application" {
				problems = append(problems, fmt.Sprintf("%s sends 0.0.0.0/0 to NAT from the %q tier", cite(r), tier))
			} else {
				e = append(e, ev(r, "NatGatewayId", "NAT gateway, application tier"))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s sends 0.0.0.0/0 from the %q tier", cite(r), tier))
		}
	}
	for _, nat := range n.ofType("AWS::EC2::NatGateway") {
		if t := tiers[refID(nat.Props["SubnetId"])]; t != "front-end" {
			problems = append(problems, fmt.Sprintf("%s sits in the %q tier", cite(nat), t))
		}
	}
	for _, sg := range n.ofType("AWS::EC2::SecurityGroup") {
		for i, rule := range asList(sg.Props["SecurityGroupEgress"]) {
			m := asMap(rule)
			if c := str(m["CidrIp"]); c == "0.0.0.0/0" {
				problems = append(problems, fmt.Sprintf("%s: SecurityGroupEgress[%d] allows 0.0.0.0/0", cite(sg), i))
			}
		}
		if strings.Contains(strings.ToLower(str(sg.Props["GroupDescription"])), "license") {
			for i, rule := range asList(sg.Props["SecurityGroupEgress"]) {
				m := asMap(rule)
				e = append(e, ev(sg, fmt.Sprintf("SecurityGroupEgress[%d]", i), fmt.Sprintf("%s %s-%s to %s", str(m["IpProtocol"]), str(m["FromPort"]), str(m["ToPort"]), str(m["CidrIp"]))))
			}
		}
	}
	return verdict("only the management VPC's front end routes to the internet gateway, only its application tier routes to NAT, and no management security group allows egress to 0.0.0.0/0", problems, e)
}

// subnetTiers maps subnet logical ids to their tier (CDK's subnet name tag).
func subnetTiers(t *template) map[string]string {
	out := map[string]string{}
	for _, s := range t.ofType("AWS::EC2::Subnet") {
		tags, _ := tagsOf(s)
		out[s.ID] = tags["aws-cdk:subnet-name"]
	}
	return out
}

// checkTiers: the production VPC is split into tiers, none public (ISE 2.3).
func checkTiers(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	t := v.t(vpc.Stack)
	byTier := map[string][]*resource{}
	var problems []string
	for _, s := range t.ofType("AWS::EC2::Subnet") {
		if v.resolve(s.Stack, s.Props["VpcId"]) != vpc {
			continue
		}
		tags, _ := tagsOf(s)
		tier := tags["aws-cdk:subnet-name"]
		byTier[tier] = append(byTier[tier], s)
		if typ := tags["aws-cdk:subnet-type"]; typ == "Public" || truthy(s.Props["MapPublicIpOnLaunch"]) {
			problems = append(problems, fmt.Sprintf("%s is a public subnet (tier %q)", cite(s), tier))
		}
	}
	var e []Evidence
	for _, tier := range slices.Sorted(maps.Keys(byTier)) {
		s := byTier[tier][0]
		e = append(e, ev(s, "Tags.aws-cdk:subnet-name", fmt.Sprintf("%s (%s, %s)", tier, count(len(byTier[tier]), "subnet", "subnets"), str(s.Props["CidrBlock"]))))
	}
	if len(byTier) < 2 {
		problems = append(problems, fmt.Sprintf("%s has %s, not a tiered layout", cite(vpc), count(len(byTier), "subnet tier", "subnet tiers")))
	}
	return verdict(fmt.Sprintf("the VPC has %d private tiers: %s", len(byTier), strings.Join(slices.Sorted(maps.Keys(byTier)), ", ")), problems, e)
}

// checkManagementTiers: the management VPC is tiered too, with only the
// front end public.
func checkManagementTiers(v *view) result {
	n := v.t(v.network)
	byTier := map[string][]*resource{}
	var problems []string
	for _, s := range n.ofType("AWS::EC2::Subnet") {
		tags, _ := tagsOf(s)
		tier := tags["aws-cdk:subnet-name"]
		byTier[tier] = append(byTier[tier], s)
		if tags["aws-cdk:subnet-type"] == "Public" && tier != "front-end" {
			problems = append(problems, fmt.Sprintf("%s is public in the %q tier", cite(s), tier))
		}
		if truthy(s.Props["MapPublicIpOnLaunch"]) {
			problems = append(problems, cite(s)+" maps public IPs on launch")
		}
	}
	var e []Evidence
	for _, tier := range slices.Sorted(maps.Keys(byTier)) {
		s := byTier[tier][0]
		tags, _ := tagsOf(s)
		e = append(e, ev(s, "Tags.aws-cdk:subnet-name", fmt.Sprintf("%s (%s, %s)", tier, strings.ToLower(tags["aws-cdk:subnet-type"]), count(len(byTier[tier]), "subnet", "subnets"))))
	}
	if len(byTier) < 3 {
		problems = append(problems, fmt.Sprintf("%s's VPC has %s", v.network, count(len(byTier), "tier", "tiers")))
	}
	return verdict(fmt.Sprintf("the management VPC has %d tiers (%s); only front-end is public and no subnet maps public IPs", len(byTier), strings.Join(slices.Sorted(maps.Keys(byTier)), ", ")), problems, e)
}

// sgRule is one ingress or egress rule, inline or standalone.
type sgRule struct {
	res  *resource
	prop string
	m    map[string]any
}

func (r sgRule) text() string {
	src := str(r.m["CidrIp"]) + str(r.m["CidrIpv6"])
	if src == "" {
		if r.m["SourceSecurityGroupId"] != nil {
			src = "a security group"
		} else if r.m["DestinationPrefixListId"] != nil || r.m["SourcePrefixListId"] != nil {
			src = "a prefix list"
		} else if r.m["DestinationSecurityGroupId"] != nil {
			src = "a security group"
		}
	}
	proto := str(r.m["IpProtocol"])
	if proto == "-1" {
		return "all traffic " + src
	}
	return fmt.Sprintf("%s %s-%s %s", proto, str(r.m["FromPort"]), str(r.m["ToPort"]), src)
}

// covers reports whether the rule admits TCP traffic on port.
func (r sgRule) covers(port float64) bool {
	proto := strings.ToLower(str(r.m["IpProtocol"]))
	if proto == "-1" || proto == "all" {
		return true
	}
	if proto != "tcp" && proto != "6" {
		return false
	}
	from, ok1 := num(r.m["FromPort"])
	to, ok2 := num(r.m["ToPort"])
	if !ok1 || !ok2 {
		return true
	}
	return from <= port && port <= to
}

func (r sgRule) fromAnywhere() bool {
	return str(r.m["CidrIp"]) == "0.0.0.0/0" || str(r.m["CidrIpv6"]) == "::/0"
}

// rules collects the ingress (or egress) rules of the given stacks.
func rules(ts []*template, egress bool) []sgRule {
	inline, standalone := "SecurityGroupIngress", "AWS::EC2::SecurityGroupIngress"
	if egress {
		inline, standalone = "SecurityGroupEgress", "AWS::EC2::SecurityGroupEgress"
	}
	var out []sgRule
	for _, t := range ts {
		for _, sg := range t.ofType("AWS::EC2::SecurityGroup") {
			for i, rule := range asList(sg.Props[inline]) {
				out = append(out, sgRule{sg, fmt.Sprintf("%s[%d]", inline, i), asMap(rule)})
			}
		}
		for _, r := range t.ofType(standalone) {
			out = append(out, sgRule{r, "rule", r.Props})
		}
	}
	return out
}

// placeholder is CDK's rule that stands for "no egress at all".
func placeholder(r sgRule) bool { return str(r.m["CidrIp"]) == "255.255.255.255/32" }

// scope stacks for security group checks: the production's, its pool's and
// its link's.
func (v *view) sgStacks() []*template { return append(v.own(), v.t(v.link)) }

// checkNoOpenIngress: no security group admits traffic from anywhere.
func checkNoOpenIngress(v *view) result {
	var problems []string
	var e []Evidence
	for _, r := range rules(v.sgStacks(), false) {
		if r.fromAnywhere() {
			problems = append(problems, fmt.Sprintf("%s: %s admits %s", cite(r.res), r.prop, r.text()))
			continue
		}
		e = append(e, ev(r.res, r.prop, r.text()))
	}
	for _, sg := range v.renderGroups() {
		if len(asList(sg.Props["SecurityGroupIngress"])) == 0 {
			e = append(e, ev(sg, "SecurityGroupIngress", "none: render nodes accept no connections"))
		}
	}
	return verdict("no security group of the production, its pool or its link admits traffic from 0.0.0.0/0 or ::/0; every ingress names a private range or group", problems, e)
}

// checkRestrictedEgress: security groups do not allow all egress.
func checkRestrictedEgress(v *view) result {
	var problems []string
	var e []Evidence
	render := map[*resource]bool{}
	for _, sg := range v.renderGroups() {
		render[sg] = true
	}
	for _, r := range rules(v.own(), true) {
		if str(r.m["CidrIp"]) == "0.0.0.0/0" || str(r.m["CidrIpv6"]) == "::/0" {
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
// (ISE 2.5).
func checkDefaultGroupClosed(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	for _, r := range v.t(vpc.Stack).all() {
		if r.Type != "Custom::VpcRestrictDefaultSG" {
			continue
		}
		g := asMap(r.Props["DefaultSecurityGroupId"])["Fn::GetAtt"]
		if l := asList(g); len(l) == 2 && str(l[0]) == vpc.ID && str(l[1]) == "DefaultSecurityGroup" {
			return passed(fmt.Sprintf("%s strips every rule from the default security group of %s", r.ID, vpc.ID),
				ev(r, "DefaultSecurityGroupId", vpc.ID+".DefaultSecurityGroup"))
		}
	}
	return failed(fmt.Sprintf("nothing in %s removes the rules of the default security group of %s", vpc.Stack, cite(vpc)))
}

// checkNoDefaultGroupUse: launch templates and endpoints name security
// groups of their own, never the VPC's default group.
func checkNoDefaultGroupUse(v *view) result {
	var problems []string
	var e []Evidence
	for _, lt := range v.launchTemplates() {
		refs := ltGroupRefs(lt)
		if len(refs) == 0 {
			problems = append(problems, cite(lt)+" names no security group, so instances get the VPC's default group")
		}
		for _, ref := range refs {
			g := v.resolve(lt.Stack, ref)
			if g == nil || g.Type != "AWS::EC2::SecurityGroup" {
				problems = append(problems, fmt.Sprintf("%s uses %s, not a security group of the estate", cite(lt), compact(ref)))
				continue
			}
			e = append(e, ev(lt, "LaunchTemplateData.NetworkInterfaces.Groups", g.ID))
		}
	}
	for _, ep := range v.ownOfType("AWS::EC2::VPCEndpoint") {
		if str(ep.Props["VpcEndpointType"]) != "Interface" {
			continue
		}
		ids := asList(ep.Props["SecurityGroupIds"])
		if len(ids) == 0 {
			problems = append(problems, cite(ep)+" names no security group")
		}
		for _, ref := range ids {
			if g := v.resolve(ep.Stack, ref); g == nil || g.Type != "AWS::EC2::SecurityGroup" {
				problems = append(problems, fmt.Sprintf("%s uses %s", cite(ep), compact(ref)))
			}
		}
	}
	return verdict("launch templates and interface endpoints use renderenv's own security groups, never the default group", problems, e)
}

// naclEntry is one network ACL entry.
type naclEntry struct {
	res    *resource
	number float64
	egress bool
	allow  bool
	cidr   netip.Prefix
	all    bool // every protocol
}

func naclEntries(v *view, acl *resource) []naclEntry {
	var out []naclEntry
	for _, r := range v.t(acl.Stack).ofType("AWS::EC2::NetworkAclEntry") {
		if refID(r.Props["NetworkAclId"]) != acl.ID {
			continue
		}
		n, _ := num(r.Props["RuleNumber"])
		c, err := netip.ParsePrefix(str(r.Props["CidrBlock"]))
		if err != nil {
			continue // IPv6 entries do not concern IPv4 ranges
		}
		out = append(out, naclEntry{
			res: r, number: n, egress: truthy(r.Props["Egress"]),
			allow: strings.EqualFold(str(r.Props["RuleAction"]), "allow"),
			cidr:  c.Masked(), all: str(r.Props["Protocol"]) == "-1",
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
func (v *view) vpcAcls(vpc *resource) (acls []*resource, bare []*resource) {
	t := v.t(vpc.Stack)
	assoc := map[string]string{}
	for _, a := range t.ofType("AWS::EC2::SubnetNetworkAclAssociation") {
		assoc[refID(a.Props["SubnetId"])] = refID(a.Props["NetworkAclId"])
	}
	seen := map[string]bool{}
	for _, s := range t.ofType("AWS::EC2::Subnet") {
		if v.resolve(s.Stack, s.Props["VpcId"]) != vpc {
			continue
		}
		id := assoc[s.ID]
		if id == "" || t.Resources[id] == nil {
			bare = append(bare, s)
			continue
		}
		if !seen[id] {
			seen[id] = true
			acls = append(acls, t.Resources[id])
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
	own, err := netip.ParsePrefix(str(vpc.Props["CidrBlock"]))
	if err != nil {
		return failed(cite(vpc) + " has no literal CidrBlock")
	}
	acls, bare := v.vpcAcls(vpc)
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
		entries := naclEntries(v, acl)
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
	acls, _ := v.vpcAcls(vpc)
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
		entries := naclEntries(v, acl)
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

// vpnTunnels are the VPN connections of the management network stack.
func (v *view) vpns() []*resource {
	return v.t(v.network).ofType("AWS::EC2::VPNConnection")
}

// Deprecated IPsec choices (ISE 2.7).
var (
	weakDH        = map[string]bool{"1": true, "2": true, "5": true, "22": true, "23": true, "24": true}
	weakIntegrity = map[string]bool{"SHA1": true, "MD5": true}
	weakCipher    = map[string]bool{"DES": true, "3DES": true}
)

// checkVpnCrypto: every tunnel pins IKEv2 and current algorithms.
func checkVpnCrypto(v *view) result {
	vpns := v.vpns()
	if len(vpns) == 0 {
		return result{outcome: NotUsed, detail: "no site-to-site VPN in " + v.network + " (onPremises.vpn is not set)"}
	}
	var problems []string
	var e []Evidence
	values := func(x any) []string {
		var out []string
		for _, i := range asList(x) {
			out = append(out, str(asMap(i)["Value"]))
		}
		return out
	}
	for _, vpn := range vpns {
		tunnels := asList(vpn.Props["VpnTunnelOptionsSpecifications"])
		if len(tunnels) == 0 {
			problems = append(problems, cite(vpn)+" sets no tunnel options, so AWS's defaults (which include IKEv1, SHA-1 and DH group 2) apply")
			continue
		}
		for i, tun := range tunnels {
			m := asMap(tun)
			base := fmt.Sprintf("VpnTunnelOptionsSpecifications[%d].", i)
			check := func(field string, bad func(string) bool) {
				vals := values(m[field])
				if len(vals) == 0 {
					problems = append(problems, fmt.Sprintf("%s: %s%s is not set, so AWS's defaults apply", cite(vpn), base, field))
					return
				}
				for _, x := range vals {
					if bad(x) {
						problems = append(problems, fmt.Sprintf("%s: %s%s allows %s", cite(vpn), base, field, x))
						return
					}
				}
				if i == 0 {
					e = append(e, ev(vpn, base+field, strings.Join(vals, ", ")))
				}
			}
			check("IKEVersions", func(x string) bool { return x != "ikev2" })
			for _, ph := range []string{"Phase1", "Phase2"} {
				check(ph+"EncryptionAlgorithms", func(x string) bool { return weakCipher[x] })
				check(ph+"IntegrityAlgorithms", func(x string) bool { return weakIntegrity[x] })
				check(ph+"DHGroupNumbers", func(x string) bool { return weakDH[x] })
			}
		}
	}
	return verdict(fmt.Sprintf("%s pins IKEv2, AES-256, SHA-2 and elliptic-curve DH groups in both phases of every tunnel", count(len(vpns), "VPN", "VPNs")), problems, e)
}

// checkVpnPresent: an IPsec VPN joins on-premises to the Transit Gateway.
func checkVpnPresent(v *view) result {
	vpns := v.vpns()
	if len(vpns) == 0 {
		return result{outcome: NotUsed, detail: "no site-to-site VPN in " + v.network + " (onPremises.vpn is not set)"}
	}
	var e []Evidence
	for _, vpn := range vpns {
		e = append(e, ev(vpn, "Type", vpn.Props["Type"]))
		if tgw := v.resolve(vpn.Stack, vpn.Props["TransitGatewayId"]); tgw != nil {
			e = append(e, ev(vpn, "TransitGatewayId", tgw.ID))
		}
	}
	return passed("on-premises traffic to the Transit Gateway is carried by an IPsec (ipsec.1) VPN", e...)
}
