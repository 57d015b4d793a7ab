package test

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
)

// ISE 2.2, the heart of the product: no production can reach another over
// the Transit Gateway, whatever the tiers, and every production reaches
// management and on-premises. The proof reads the synthesized templates
// only, through the cfn model: route tables, associations and propagations in the network stack and
// the link stacks, resolved through the SSM parameters the network stack
// publishes and the attachment look-ups the link stacks make.

// tgwNetwork is what one Transit Gateway attachment stands for.
type tgwNetwork struct {
	node  string // identity: stack/logical id of the attachment (or VPN connection)
	name  string // renderenv:network tag, "management" or "on-premises"
	kind  string // management, on-premises or production
	cidrs []netip.Prefix
}

func (n *tgwNetwork) String() string {
	return fmt.Sprintf("%s %v", n.name, n.cidrs)
}

// tgwRoute is one route of a Transit Gateway route table.
type tgwRoute struct {
	cidr      netip.Prefix
	via       string // the propagation or static route resource
	target    *tgwNetwork
	blackhole bool
}

// transitGraph is the Transit Gateway as the templates describe it.
type transitGraph struct {
	a        *cfn.Assembly
	network  string                 // the hub stack
	onPrem   []netip.Prefix         // what the VPN attachment stands for
	networks map[string]*tgwNetwork // by node
	assoc    map[string][]string    // node -> route tables (stack/logical id)
	routes   map[string][]tgwRoute  // route table -> routes
	problems []string               // references the graph could not resolve
}

const (
	kindManagement = "management"
	kindOnPrem     = "on-premises"
	kindProduction = "production"
)

// buildTransitGraph reads the Transit Gateway from the templates. network is
// the hub stack; onPrem are the studio's on-premises ranges, which the VPN
// attachment stands for (BGP learns them at run time, so no template holds
// them).
func buildTransitGraph(a *cfn.Assembly, network string, onPrem []netip.Prefix) *transitGraph {
	g := &transitGraph{a: a, network: network, onPrem: onPrem,
		networks: map[string]*tgwNetwork{}, assoc: map[string][]string{}, routes: map[string][]tgwRoute{}}
	if hub := a.Stack(network); hub != nil {
		for _, rt := range hub.OfType("AWS::EC2::TransitGatewayRouteTable") {
			g.routes[rt.String()] = nil
		}
	}
	// A link stack names a route table through the SSM parameter the hub
	// publishes for it; Resolve follows the parameter to the hub's table.
	resolveTable := func(r *cfn.Resource) (string, bool) {
		rt := r.Resolve("TransitGatewayRouteTableId")
		if rt == nil || rt.Type != "AWS::EC2::TransitGatewayRouteTable" {
			g.problems = append(g.problems, fmt.Sprintf("%s: route table %s is not an AWS::EC2::TransitGatewayRouteTable of the estate", r, r.Stack.String(r.Properties["TransitGatewayRouteTableId"])))
			return "", false
		}
		if rt.Stack.Name != network {
			g.problems = append(g.problems, fmt.Sprintf("%s: route table %s is outside the hub %s", r, rt, network))
		}
		return rt.String(), true
	}
	resolve := func(r *cfn.Resource) *tgwNetwork {
		n, err := g.attachment(r)
		if err != nil {
			g.problems = append(g.problems, fmt.Sprintf("%s: %v", r, err))
		}
		return n
	}
	for _, r := range a.Resources("AWS::EC2::TransitGatewayRouteTableAssociation") {
		n := resolve(r)
		if rt, ok := resolveTable(r); ok && n != nil {
			g.assoc[n.node] = append(g.assoc[n.node], rt)
		}
	}
	for _, r := range a.Resources("AWS::EC2::TransitGatewayRouteTablePropagation") {
		n := resolve(r)
		if rt, ok := resolveTable(r); ok && n != nil {
			for _, c := range n.cidrs {
				g.routes[rt] = append(g.routes[rt], tgwRoute{cidr: c, via: r.String(), target: n})
			}
		}
	}
	for _, r := range a.Resources("AWS::EC2::TransitGatewayRoute") {
		rt, ok := resolveTable(r)
		if !ok {
			continue
		}
		c, err := netip.ParsePrefix(r.Stack.String(r.Properties["DestinationCidrBlock"]))
		if err != nil {
			g.problems = append(g.problems, fmt.Sprintf("%s: DestinationCidrBlock %v: %v", r, r.Properties["DestinationCidrBlock"], err))
			continue
		}
		route := tgwRoute{cidr: c.Masked(), via: r.String(), blackhole: cfn.Truthy(r.Properties["Blackhole"])}
		if !route.blackhole {
			route.target = resolve(r)
		}
		g.routes[rt] = append(g.routes[rt], route)
	}
	g.crossCheckLinks()
	return g
}

// attachment resolves the TransitGatewayAttachmentId of r to the network it
// stands for: an attachment resource of the stack, or a look-up
// (Custom::AWS) that finds one by tags, or finds the VPN's attachment by
// the VPN connection.
func (g *transitGraph) attachment(r *cfn.Resource) (*tgwNetwork, error) {
	v := r.Properties["TransitGatewayAttachmentId"]
	id, _ := cfn.RefID(v)
	if id == "" {
		return nil, fmt.Errorf("attachment %v is neither a Ref nor a GetAtt", v)
	}
	att := r.Stack.Resource(id)
	if att == nil {
		return nil, fmt.Errorf("attachment %s is not a resource of the stack", id)
	}
	switch att.Type {
	case "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment":
		return g.vpcAttachment(att)
	case "AWS::EC2::VPNConnection":
		return g.vpnAttachment(att), nil
	case "Custom::AWS", "AWS::CloudFormation::CustomResource":
		call, err := att.SDKCall("Create")
		if err != nil {
			return nil, fmt.Errorf("look-up %s: %v", id, err)
		}
		tagFilters := map[string]string{}
		for _, f := range cfn.AsList(call.Parameters["Filters"]) {
			name, values := cfn.Str(cfn.AsMap(f)["Name"]), cfn.AsList(cfn.AsMap(f)["Values"])
			if len(values) != 1 {
				continue
			}
			value := cfn.Str(values[0])
			switch {
			case strings.HasPrefix(name, "tag:"):
				tagFilters[strings.TrimPrefix(name, "tag:")] = value
			case name == "resource-id" && strings.HasPrefix(value, "${Ref:"):
				vpn := r.Stack.Resource(strings.TrimSuffix(strings.TrimPrefix(value, "${Ref:"), "}"))
				if vpn != nil && vpn.Type == "AWS::EC2::VPNConnection" {
					return g.vpnAttachment(vpn), nil
				}
			}
		}
		if len(tagFilters) == 0 {
			return nil, fmt.Errorf("look-up %s finds its attachment neither by tags nor by a VPN connection: %s", id, call.Action)
		}
		var matches []*cfn.Resource
		for _, a := range g.a.Resources("AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment") {
			tg, _ := a.Tags()
			all := true
			for k, val := range tagFilters {
				all = all && tg[k] == val
			}
			if all {
				matches = append(matches, a)
			}
		}
		switch len(matches) {
		case 0:
			return nil, fmt.Errorf("look-up %s by tags %v matches no attachment of the estate", id, tagFilters)
		case 1:
			return g.vpcAttachment(matches[0])
		default:
			var names []string
			for _, m := range matches {
				names = append(names, m.String())
			}
			return nil, fmt.Errorf("look-up %s by tags %v is ambiguous: %s", id, tagFilters, strings.Join(names, ", "))
		}
	}
	return nil, fmt.Errorf("attachment %s is a %s, which the checker cannot follow", id, att.Type)
}

func (g *transitGraph) vpcAttachment(a *cfn.Resource) (*tgwNetwork, error) {
	node := a.String()
	if n, ok := g.networks[node]; ok {
		return n, nil
	}
	vpc := a.Resolve("VpcId")
	if vpc == nil || vpc.Stack != a.Stack || vpc.Type != "AWS::EC2::VPC" {
		return nil, fmt.Errorf("attachment %s: VpcId %v is not a VPC of %s", a, a.Properties["VpcId"], a.Stack.Name)
	}
	var cidrs []netip.Prefix
	add := func(v any) error {
		c, err := netip.ParsePrefix(a.Stack.String(v))
		if err != nil {
			return fmt.Errorf("attachment %s: VPC range %v: %v", a, v, err)
		}
		cidrs = append(cidrs, c.Masked())
		return nil
	}
	if err := add(vpc.Properties["CidrBlock"]); err != nil {
		return nil, err
	}
	for _, extra := range a.Stack.OfType("AWS::EC2::VPCCidrBlock") {
		if extra.Resolve("VpcId") == vpc {
			if err := add(extra.Properties["CidrBlock"]); err != nil {
				return nil, err
			}
		}
	}
	n := &tgwNetwork{node: node, cidrs: cidrs, kind: kindProduction}
	tg, _ := a.Tags()
	n.name = tg["renderenv:network"]
	if n.name == "" {
		n.name = a.Stack.Name
	}
	if a.Stack.Name == g.network {
		n.kind, n.name = kindManagement, "management"
	}
	g.networks[node] = n
	return n, nil
}

func (g *transitGraph) vpnAttachment(vpn *cfn.Resource) *tgwNetwork {
	node := vpn.String()
	if n, ok := g.networks[node]; ok {
		return n
	}
	cidrs := append([]netip.Prefix(nil), g.onPrem...)
	// Static VPN routes, when the VPN does not use BGP.
	for _, r := range vpn.Stack.OfType("AWS::EC2::VPNConnectionRoute") {
		if r.Resolve("VpnConnectionId") == vpn {
			if c, err := netip.ParsePrefix(r.Stack.String(r.Properties["DestinationCidrBlock"])); err == nil {
				cidrs = append(cidrs, c.Masked())
			}
		}
	}
	n := &tgwNetwork{node: node, name: "on-premises", kind: kindOnPrem, cidrs: cidrs}
	g.networks[node] = n
	return n
}

// crossCheckLinks: a link stack opens the scheduler and license servers to
// the range of the network it links; that range must be the range of the
// attachment its look-up finds, or the link joins one network and opens the
// hub to another.
func (g *transitGraph) crossCheckLinks() {
	for _, st := range g.a.Stacks {
		if st.Name == g.network {
			continue
		}
		var linked []*tgwNetwork
		for _, r := range st.OfType("AWS::EC2::TransitGatewayRouteTableAssociation") {
			if n, err := g.attachment(r); err == nil && n.kind == kindProduction {
				linked = append(linked, n)
			}
		}
		if len(linked) == 0 {
			continue
		}
		for _, r := range st.OfType("AWS::EC2::SecurityGroupIngress") {
			c, err := netip.ParsePrefix(r.Stack.String(r.Properties["CidrIp"]))
			if err != nil {
				continue
			}
			inside := false
			for _, n := range linked {
				for _, nc := range n.cidrs {
					inside = inside || (nc.Contains(c.Addr()) && nc.Bits() <= c.Bits())
				}
			}
			if !inside {
				g.problems = append(g.problems, fmt.Sprintf("%s: admits %s, but the stack links %v", r, c, linked))
			}
		}
	}
}

// describe renders the graph for a reviewer: each route table with the
// networks associated with it and its routes.
func (g *transitGraph) describe() string {
	var tables []string
	for rt := range g.routes {
		tables = append(tables, rt)
	}
	sort.Strings(tables)
	var b strings.Builder
	for _, rt := range tables {
		var assoc []string
		for node, rts := range g.assoc {
			if slices.Contains(rts, rt) {
				assoc = append(assoc, g.networks[node].name)
			}
		}
		sort.Strings(assoc)
		fmt.Fprintf(&b, "route table %s, associated with %d network(s) %v:\n", rt, len(assoc), assoc)
		for _, r := range g.routes[rt] {
			target := "blackhole"
			if r.target != nil {
				target = r.target.name
			}
			fmt.Fprintf(&b, "  %-18s -> %s (%s)\n", r.cidr, target, r.via)
		}
	}
	return b.String()
}

// productions returns the production networks, by name.
func (g *transitGraph) productions() []*tgwNetwork {
	out := g.ofKind(kindProduction)
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// ofKind returns the networks of one kind, by node.
func (g *transitGraph) ofKind(kind string) []*tgwNetwork {
	var out []*tgwNetwork
	for _, n := range g.networks {
		if n.kind == kind {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].node < out[j].node })
	return out
}

// table returns the one route table a network's attachment uses.
func (g *transitGraph) table(n *tgwNetwork) (string, error) {
	switch rts := g.assoc[n.node]; len(rts) {
	case 0:
		return "", fmt.Errorf("%s: attachment %s is associated with no route table", n.name, n.node)
	case 1:
		return rts[0], nil
	default:
		return "", fmt.Errorf("%s: attachment %s is associated with %d route tables %v; a Transit Gateway attachment has one", n.name, n.node, len(rts), rts)
	}
}

// isolationViolations lists every ordered pair of production networks where
// the first has a Transit Gateway route that overlaps the second's range.
func (g *transitGraph) isolationViolations() []string {
	var out []string
	prods := g.productions()
	for _, from := range prods {
		rt, err := g.table(from)
		if err != nil {
			continue // reported by reachViolations
		}
		for _, to := range prods {
			if to == from {
				continue
			}
			for _, r := range g.routes[rt] {
				if r.blackhole {
					continue
				}
				for _, c := range to.cidrs {
					if r.cidr.Overlaps(c) {
						out = append(out, fmt.Sprintf("%s reaches %s: route table %s routes %s (%s)", from.name, to.name, rt, r.cidr, r.via))
					}
				}
			}
		}
	}
	return out
}

// routesTo reports whether route table rt has a route that covers all of c.
func (g *transitGraph) routesTo(rt string, c netip.Prefix) bool {
	for _, r := range g.routes[rt] {
		if !r.blackhole && r.cidr.Bits() <= c.Bits() && r.cidr.Contains(c.Addr()) {
			return true
		}
	}
	return false
}

// reachViolations lists every production network that cannot reach the
// management VPC or on-premises, or that management cannot answer.
func (g *transitGraph) reachViolations() []string {
	var out []string
	mgmt, onPrem := g.ofKind(kindManagement), g.ofKind(kindOnPrem)
	if len(mgmt) != 1 {
		return []string{fmt.Sprintf("want one management attachment, found %d", len(mgmt))}
	}
	mgmtRT, err := g.table(mgmt[0])
	if err != nil {
		out = append(out, err.Error())
	}
	for _, n := range g.productions() {
		rt, err := g.table(n)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		for _, dest := range append(mgmt, onPrem...) {
			for _, c := range dest.cidrs {
				if !g.routesTo(rt, c) {
					out = append(out, fmt.Sprintf("%s cannot reach %s %s: route table %s has no route covering it", n.name, dest.name, c, rt))
				}
			}
		}
		for _, c := range n.cidrs {
			if mgmtRT != "" && !g.routesTo(mgmtRT, c) {
				out = append(out, fmt.Sprintf("management cannot answer %s %s: route table %s has no route covering it", n.name, c, mgmtRT))
			}
		}
	}
	return out
}

// transitGraphOf builds the graph of an assembly of s (s's own, or a
// broken copy) and fails on anything the checker could not resolve: an
// unresolved reference would hide a route.
func transitGraphOf(t *testing.T, s *Synthesized, a *cfn.Assembly) *transitGraph {
	t.Helper()
	g := buildTransitGraph(a, s.NetworkStack(), s.Manifests.Studio.OnPremises.Cidrs)
	for _, p := range g.problems {
		t.Errorf("transit graph: %s", p)
	}
	// Every VPC outside the hub is a production (or pool) network with an
	// attachment; a network the graph missed would be a network unproven.
	vpcs := 0
	for _, r := range a.Resources("AWS::EC2::VPC") {
		if r.Stack.Name != s.NetworkStack() {
			vpcs++
		}
	}
	if got := len(g.productions()); got != vpcs || got < 2 {
		t.Fatalf("transit graph has %d production networks, but the estate has %d production and pool VPCs (want at least 2 to prove anything)", got, vpcs)
	}
	return g
}

func TestProductionsCannotReachEachOther(t *testing.T) {
	eachEstate(t, checkedEstates, func(t *testing.T, s *Synthesized) {
		g := transitGraphOf(t, s, s.Assembly)
		t.Logf("the Transit Gateway as the templates describe it:\n%s", g.describe())
		for _, v := range g.isolationViolations() {
			t.Error(v)
		}
		n := len(g.productions())
		t.Logf("proved %d ordered pairs of %d production networks isolated", n*(n-1), n)
	})
}

func TestProductionsReachManagementAndOnPremises(t *testing.T) {
	eachEstate(t, checkedEstates, func(t *testing.T, s *Synthesized) {
		for _, v := range managementAndOnPremisesReach(s, transitGraphOf(t, s, s.Assembly)) {
			t.Error(v)
		}
	})
}

// managementAndOnPremisesReach returns what keeps a production from
// management or on-premises, including a VPN the studio asks for and the
// Transit Gateway lacks.
func managementAndOnPremisesReach(s *Synthesized, g *transitGraph) []string {
	v := g.reachViolations()
	if len(g.ofKind(kindOnPrem)) == 0 && s.Manifests.Studio.OnPremises.Vpn != nil {
		v = append(v, "the studio has a VPN, but no VPN attachment is associated or propagated")
	}
	return v
}

// leak adds a resource of type typ with props to a copy of the acme
// estate, in the link stack that associates victim's attachment with its
// route table, and returns the proof's isolation violations; props may
// name the association's attachment and route table.
func leak(t *testing.T, s *Synthesized, g *transitGraph, victim *tgwNetwork, id, typ string, props func(assoc *cfn.Resource) map[string]any) (stack string, violations []string) {
	t.Helper()
	d := newDraft(t, s.Assembly)
	var assoc *cfn.Resource
	for _, r := range d.Resources("AWS::EC2::TransitGatewayRouteTableAssociation") {
		if a, err := g.attachment(r); err == nil && a.node == victim.node {
			assoc = r
		}
	}
	if assoc == nil {
		t.Fatalf("no association for %s", victim.name)
	}
	d.add(assoc.Stack.Name, id, map[string]any{"Type": typ, "Properties": props(assoc)})
	return assoc.Stack.Name, transitGraphOf(t, s, d.assemble(t)).isolationViolations()
}

// The checker must be able to fail: a propagation of one production's
// attachment into the production route table (one line in a link stack)
// lets every other production reach it.
func TestReachabilityCheckerCatchesALeakedPropagation(t *testing.T) {
	s := synth(t, acmeEstate)
	g := transitGraphOf(t, s, s.Assembly)
	if v := g.isolationViolations(); len(v) > 0 {
		t.Fatalf("the acme estate already leaks: %v", v)
	}
	// The link of the first production network: its association names the
	// attachment and the production route table.
	victim := g.productions()[0]
	stack, leaked := leak(t, s, g, victim, "InjectedLeak", "AWS::EC2::TransitGatewayRouteTablePropagation", func(assoc *cfn.Resource) map[string]any {
		return map[string]any{
			"TransitGatewayAttachmentId": assoc.Properties["TransitGatewayAttachmentId"],
			"TransitGatewayRouteTableId": assoc.Properties["TransitGatewayRouteTableId"],
		}
	})
	if len(leaked) == 0 {
		t.Fatalf("injected %s/InjectedLeak propagating %s into its own route table, but the checker reports no production reaching another", stack, victim.name)
	}
	for _, other := range g.productions() {
		if other == victim {
			continue
		}
		want := other.name + " reaches " + victim.name + ":"
		found := false
		for _, v := range leaked {
			found = found || strings.HasPrefix(v, want)
		}
		if !found {
			t.Errorf("after the leak, want %q reported; got %q", want, leaked)
		}
	}
}

// The checker must also follow static routes: one AWS::EC2::TransitGatewayRoute
// in the production route table that sends a production's range to its
// attachment lets every other production reach it, with no propagation at
// all.
func TestReachabilityCheckerCatchesALeakedStaticRoute(t *testing.T) {
	s := synth(t, acmeEstate)
	g := transitGraphOf(t, s, s.Assembly)
	if v := g.isolationViolations(); len(v) > 0 {
		t.Fatalf("the acme estate already leaks: %v", v)
	}
	// The link of the last production network: its association names the
	// attachment and the production route table.
	prods := g.productions()
	victim := prods[len(prods)-1]
	// A /24 inside the victim's range: a narrower route leaks as surely as
	// the whole range.
	dest := netip.PrefixFrom(victim.cidrs[0].Addr(), 24)
	if victim.cidrs[0].Bits() > 24 {
		dest = victim.cidrs[0]
	}
	stack, leaked := leak(t, s, g, victim, "InjectedStaticRoute", "AWS::EC2::TransitGatewayRoute", func(assoc *cfn.Resource) map[string]any {
		return map[string]any{
			"DestinationCidrBlock":       dest.String(),
			"TransitGatewayAttachmentId": assoc.Properties["TransitGatewayAttachmentId"],
			"TransitGatewayRouteTableId": assoc.Properties["TransitGatewayRouteTableId"],
		}
	})
	if len(leaked) == 0 {
		t.Fatalf("injected %s/InjectedStaticRoute sending %s to %s in the production route table, but the checker reports no production reaching another", stack, dest, victim.name)
	}
	via := stack + "/InjectedStaticRoute"
	for _, other := range prods {
		if other == victim {
			continue
		}
		want := other.name + " reaches " + victim.name + ":"
		found := false
		for _, v := range leaked {
			found = found || (strings.HasPrefix(v, want) && strings.Contains(v, "routes "+dest.String()+" ("+via+")"))
		}
		if !found {
			t.Errorf("after the static route, want %q through %s reported; got %q", want, via, leaked)
		}
	}
	for _, v := range leaked {
		if !strings.Contains(v, via) {
			t.Errorf("reported %q, which the injected route does not explain", v)
		}
	}
	// A blackhole route for the same range carries nothing.
	_, leaked = leak(t, s, g, victim, "InjectedBlackhole", "AWS::EC2::TransitGatewayRoute", func(assoc *cfn.Resource) map[string]any {
		return map[string]any{
			"DestinationCidrBlock":       dest.String(),
			"Blackhole":                  true,
			"TransitGatewayRouteTableId": assoc.Properties["TransitGatewayRouteTableId"],
		}
	})
	if len(leaked) > 0 {
		t.Errorf("a blackhole route reported as a leak: %v", leaked)
	}
}
