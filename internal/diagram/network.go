package diagram

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// hub draws the management VPC and on-premises, the destinations a
// production's route table may reach.
func (g *graph) hub(hub *cfn.Stack, e *manifest.Estate) {
	g.open("mgmt", "management account "+e.Studio.ManagementAccount, "#e4ecf7")
	label := "management VPC " + vpcCidr(hub) + "\\nrender scheduler (TLS " + joinInts(e.Studio.Scheduler.Ports) + ")"
	for _, l := range e.Studio.LicenseServers {
		label += fmt.Sprintf("\\nlicence egress %s:%d", l.Name, l.Port)
	}
	g.node("mgmt_vpc", label+"\\nthe estate's only internet egress", "box")
	g.open("tgw", "Transit Gateway", "#f2f2f2")
	g.node("rt_productions", "route table "+e.Studio.Studio+"-productions\\n(every production is associated here)", "box")
	g.node("rt_management", "route table "+e.Studio.Studio+"-management", "box")
	g.close()
	g.close()
	var onPrem []string
	for _, c := range e.Studio.OnPremises.Cidrs {
		onPrem = append(onPrem, c.String())
	}
	via := ""
	if len(hub.OfType("AWS::EC2::VPNConnection")) > 0 {
		via = " (site-to-site VPN)"
	}
	g.node("onprem", "on-premises "+strings.Join(onPrem, ", ")+via, "folder")
}

// tgw draws the route tables' propagations (network stack) and the
// production's association and static route (its link stack): productions
// reach management and on-premises; management reaches each production by
// one static route; no table leads from one production to another.
func (g *graph) tgw(hub *cfn.Stack, e *manifest.Estate, network string) {
	tables := map[string]string{} // logical id -> node
	for _, rt := range hub.OfType("AWS::EC2::TransitGatewayRouteTable") {
		if tags, _ := rt.Tags(); strings.HasSuffix(tags["Name"], "-productions") {
			tables[rt.ID] = "rt_productions"
		} else {
			tables[rt.ID] = "rt_management"
		}
	}
	for _, p := range hub.OfType("AWS::EC2::TransitGatewayRouteTablePropagation") {
		table := tables[p.Resolve("TransitGatewayRouteTableId").ID]
		from := p.Resolve("TransitGatewayAttachmentId")
		if table == "" || from == nil {
			continue
		}
		// The management VPC's attachment, or the VPN's (an attachment
		// the VPN connection creates, read by a custom resource).
		if from.Type == "AWS::EC2::TransitGatewayAttachment" {
			g.edgeOnce(table, "mgmt_vpc", "route "+vpcCidr(hub)+" (propagated)")
		} else {
			g.edgeOnce(table, "onprem", "on-premises routes (BGP over the VPN)")
		}
	}
	if network != "" {
		g.edge("tier_transit", "rt_productions", "attachment, associated", "")
	}
	for _, rt := range linkRoutes(g.a, network) {
		g.edge("rt_management", "tier_transit", "static route "+rt+"\\n(never propagated)", "")
	}
	g.node("others", "other productions", "box")
	g.edge("rt_productions", "others", "no route", "dashed")
}

// Estate is the DOT picture of the whole estate: the management VPC, the
// Transit Gateway's route tables and each production as one box coloured
// by tier, with the range management routes to it.
func Estate(a *cfn.Assembly, e *manifest.Estate) (string, error) {
	n := names.Names{Studio: e.Studio.Studio}
	hub := a.Stack(n.NetworkStack())
	if hub == nil {
		return "", fmt.Errorf("the assembly has no stack %s: synthesize the whole estate first", n.NetworkStack())
	}
	g := newGraph(e.Studio.Studio + " render estate")
	g.a = a
	g.hub(hub, e)
	g.tgw(hub, e, "")
	for _, r := range e.Resolved() {
		st := a.Stack(n.ProductionStack(r.Name))
		if st == nil {
			continue
		}
		cidr := vpcCidr(st)
		if r.PooledVpc {
			cidr = "pool " + r.Pool.VpcCidr.String()
		}
		id := "p_" + strings.ReplaceAll(r.Name, "-", "_")
		g.filled(id, fmt.Sprintf("%s\\nTier %d · %s\\n%s", r.Name, r.Tier, r.Account, cidr), tierColours[r.Tier])
		g.edge(id, "rt_productions", "", "")
		link := n.ProductionStack(r.Name)
		if r.PooledVpc {
			link = n.PoolStack(r.Account)
		}
		for _, rt := range linkRoutes(a, link) {
			g.edge("rt_management", id, "static route "+rt, "")
		}
	}
	g.lines = slices.DeleteFunc(g.lines, func(l string) bool { return strings.Contains(l, `"others"`) })
	g.node("isolation", "no route table leads from one production to another", "note")
	return g.String(), nil
}

// linkRoutes are the static routes the link stack of the named network
// stack (a production's or a pool's) adds to the management route table.
func linkRoutes(a *cfn.Assembly, network string) []string {
	var out []string
	if link := a.Stack(names.LinkStack(network)); link != nil {
		for _, rt := range link.OfType("AWS::EC2::TransitGatewayRoute") {
			out = append(out, cfn.Str(rt.Prop("DestinationCidrBlock")))
		}
	}
	return out
}

// vpcCidr is the CIDR of the stack's VPC, or "".
func vpcCidr(s *cfn.Stack) string {
	if s == nil {
		return ""
	}
	for _, v := range s.OfType("AWS::EC2::VPC") {
		return cfn.Str(v.Prop("CidrBlock"))
	}
	return ""
}

type subnetTier struct {
	name  string
	cidrs []string
}

// subnetTiers are the stack's subnets by tier (the CDK's subnet name), in
// address order.
func subnetTiers(s *cfn.Stack) []subnetTier {
	var out []subnetTier
	for _, sn := range s.OfType("AWS::EC2::Subnet") {
		tags, _ := sn.Tags()
		name := tags["aws-cdk:subnet-name"]
		i := slices.IndexFunc(out, func(t subnetTier) bool { return t.name == name })
		if i < 0 {
			out = append(out, subnetTier{name: name})
			i = len(out) - 1
		}
		out[i].cidrs = append(out[i].cidrs, cfn.Str(sn.Prop("CidrBlock")))
	}
	for _, t := range out {
		slices.Sort(t.cidrs)
	}
	slices.SortFunc(out, func(a, b subnetTier) int { return strings.Compare(a.cidrs[0], b.cidrs[0]) })
	return out
}

// tierOf is the subnet tier a CIDR is one of, or "".
func tierOf(s *cfn.Stack, cidr string) string {
	for _, t := range subnetTiers(s) {
		if slices.Contains(t.cidrs, cidr) {
			return t.name
		}
	}
	return ""
}

// endpointServices are the interface endpoints' services (kms, ssm, ...).
func endpointServices(s *cfn.Stack) []string {
	var out []string
	for _, ep := range s.OfType("AWS::EC2::VPCEndpoint") {
		if cfn.Str(ep.Prop("VpcEndpointType")) != "Interface" {
			continue
		}
		// com.amazonaws.<region>.<service>
		if parts := strings.SplitN(s.String(ep.Prop("ServiceName")), ".", 4); len(parts) == 4 {
			out = append(out, parts[3])
		}
	}
	slices.Sort(out)
	return out
}

func portText(rule map[string]any) string {
	from, to := fmt.Sprint(rule["FromPort"]), fmt.Sprint(rule["ToPort"])
	switch {
	case from == "0" && to == "65535":
		return "tcp all"
	case from == to:
		return "tcp " + from
	}
	return "tcp " + from + "-" + to
}

func joinInts(v []int64) string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprint(x)
	}
	return strings.Join(out, ", ")
}
