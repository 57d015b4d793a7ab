package test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
)

// ISE 2.2, the heart of the product: no production can reach another over
// the Transit Gateway, whatever the tiers, and every production reaches
// management and on-premises. The proof reads the synthesized templates
// only: route tables, associations and propagations in the network stack and
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
	ts       Templates
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
func buildTransitGraph(ts Templates, network string, onPrem []netip.Prefix) *transitGraph {
	g := &transitGraph{ts: ts, network: network, onPrem: onPrem,
		networks: map[string]*tgwNetwork{}, assoc: map[string][]string{}, routes: map[string][]tgwRoute{}}
	for _, rt := range ts.In(network, "AWS::EC2::TransitGatewayRouteTable") {
		g.routes[rt.Stack+"/"+rt.ID] = nil
	}
	// A link stack names a route table through the SSM parameter the hub
	// publishes for it; follow resolves the parameter to the hub's Ref.
	resolveTable := func(r Resource, v any) (string, bool) {
		stack, v, err := ts.follow(r.Stack, v)
		if err != nil {
			g.problems = append(g.problems, fmt.Sprintf("%s: route table: %v", r, err))
			return "", false
		}
		id, ok := ref(v)
		rt, found := ts.Get(stack, id)
		if !ok || !found || rt.Type != "AWS::EC2::TransitGatewayRouteTable" {
			g.problems = append(g.problems, fmt.Sprintf("%s: route table %v (in %s) is not an AWS::EC2::TransitGatewayRouteTable", r, v, stack))
			return "", false
		}
		if stack != network {
			g.problems = append(g.problems, fmt.Sprintf("%s: route table %s/%s is outside the hub %s", r, stack, id, network))
		}
		return stack + "/" + id, true
	}
	resolve := func(r Resource, v any) *tgwNetwork {
		n, err := g.attachment(r.Stack, v)
		if err != nil {
			g.problems = append(g.problems, fmt.Sprintf("%s: %v", r, err))
		}
		return n
	}
	for _, r := range ts.All("AWS::EC2::TransitGatewayRouteTableAssociation") {
		n := resolve(r, r.Props["TransitGatewayAttachmentId"])
		if rt, ok := resolveTable(r, r.Props["TransitGatewayRouteTableId"]); ok && n != nil {
			g.assoc[n.node] = append(g.assoc[n.node], rt)
		}
	}
	for _, r := range ts.All("AWS::EC2::TransitGatewayRouteTablePropagation") {
		n := resolve(r, r.Props["TransitGatewayAttachmentId"])
		if rt, ok := resolveTable(r, r.Props["TransitGatewayRouteTableId"]); ok && n != nil {
			for _, c := range n.cidrs {
				g.routes[rt] = append(g.routes[rt], tgwRoute{cidr: c, via: r.String(), target: n})
			}
		}
	}
	for _, r := range ts.All("AWS::EC2::TransitGatewayRoute") {
		rt, ok := resolveTable(r, r.Props["TransitGatewayRouteTableId"])
		if !ok {
			continue
		}
		s, _ := r.Props["DestinationCidrBlock"].(string)
		c, err := netip.ParsePrefix(s)
		if err != nil {
			g.problems = append(g.problems, fmt.Sprintf("%s: DestinationCidrBlock %v: %v", r, r.Props["DestinationCidrBlock"], err))
			continue
		}
		route := tgwRoute{cidr: c.Masked(), via: r.String(), blackhole: isTrue(r.Props["Blackhole"])}
		if !route.blackhole {
			route.target = resolve(r, r.Props["TransitGatewayAttachmentId"])
		}
		g.routes[rt] = append(g.routes[rt], route)
	}
	g.crossCheckLinks()
	return g
}

// attachment resolves an attachment id expression to the network it stands
// for: an attachment resource of the stack, or a look-up (Custom::AWS) that
// finds one by tags, or finds the VPN's attachment by the VPN connection.
func (g *transitGraph) attachment(stack string, v any) (*tgwNetwork, error) {
	ts := g.ts
	id, ok := refOrAtt(v)
	if !ok {
		return nil, fmt.Errorf("attachment %v is neither a Ref nor a GetAtt", v)
	}
	r, found := ts.Get(stack, id)
	if !found {
		return nil, fmt.Errorf("attachment %s is not a resource of the stack", id)
	}
	switch r.Type {
	case "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment":
		return g.vpcAttachment(r)
	case "AWS::EC2::VPNConnection":
		return g.vpnAttachment(r), nil
	case "Custom::AWS", "AWS::CloudFormation::CustomResource":
		call, err := lookupCall(r)
		if err != nil {
			return nil, err
		}
		tagFilters := map[string]string{}
		for _, f := range call.Parameters.Filters {
			switch {
			case strings.HasPrefix(f.Name, "tag:") && len(f.Values) == 1:
				tagFilters[strings.TrimPrefix(f.Name, "tag:")] = f.Values[0]
			case f.Name == "resource-id" && len(f.Values) == 1 && strings.HasPrefix(f.Values[0], "ref:"):
				vpn, ok := ts.Get(stack, strings.TrimPrefix(f.Values[0], "ref:"))
				if ok && vpn.Type == "AWS::EC2::VPNConnection" {
					return g.vpnAttachment(vpn), nil
				}
			}
		}
		if len(tagFilters) == 0 {
			return nil, fmt.Errorf("look-up %s finds its attachment neither by tags nor by a VPN connection: %s", id, call.Action)
		}
		var matches []Resource
		for _, a := range ts.All("AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment") {
			tg, _ := tags(a)
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
	return nil, fmt.Errorf("attachment %s is a %s, which the checker cannot follow", id, r.Type)
}

func (g *transitGraph) vpcAttachment(a Resource) (*tgwNetwork, error) {
	ts := g.ts
	node := a.Stack + "/" + a.ID
	if n, ok := g.networks[node]; ok {
		return n, nil
	}
	vpcID, ok := ref(a.Props["VpcId"])
	vpc, found := ts.Get(a.Stack, vpcID)
	if !ok || !found || vpc.Type != "AWS::EC2::VPC" {
		return nil, fmt.Errorf("attachment %s: VpcId %v is not a VPC of %s", a, a.Props["VpcId"], a.Stack)
	}
	var cidrs []netip.Prefix
	add := func(v any) error {
		s, _ := v.(string)
		c, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("attachment %s: VPC range %v: %v", a, v, err)
		}
		cidrs = append(cidrs, c.Masked())
		return nil
	}
	if err := add(vpc.Props["CidrBlock"]); err != nil {
		return nil, err
	}
	for _, extra := range ts.In(a.Stack, "AWS::EC2::VPCCidrBlock") {
		if id, _ := ref(extra.Props["VpcId"]); id == vpcID {
			if err := add(extra.Props["CidrBlock"]); err != nil {
				return nil, err
			}
		}
	}
	n := &tgwNetwork{node: node, cidrs: cidrs, kind: kindProduction}
	tg, _ := tags(a)
	n.name = tg["renderenv:network"]
	if n.name == "" {
		n.name = a.Stack
	}
	if a.Stack == g.network {
		n.kind, n.name = kindManagement, "management"
	}
	g.networks[node] = n
	return n, nil
}

func (g *transitGraph) vpnAttachment(vpn Resource) *tgwNetwork {
	node := vpn.Stack + "/" + vpn.ID
	if n, ok := g.networks[node]; ok {
		return n
	}
	cidrs := append([]netip.Prefix(nil), g.onPrem...)
	// Static VPN routes, when the VPN does not use BGP.
	for _, r := range g.ts.In(vpn.Stack, "AWS::EC2::VPNConnectionRoute") {
		if id, _ := ref(r.Props["VpnConnectionId"]); id == vpn.ID {
			s, _ := r.Props["DestinationCidrBlock"].(string)
			if c, err := netip.ParsePrefix(s); err == nil {
				cidrs = append(cidrs, c.Masked())
			}
		}
	}
	n := &tgwNetwork{node: node, name: "on-premises", kind: kindOnPrem, cidrs: cidrs}
	g.networks[node] = n
	return n
}

// awsCall is the SDK call of a Custom::AWS look-up.
type awsCall struct {
	Service    string `json:"service"`
	Action     string `json:"action"`
	Parameters struct {
		Filters []struct {
			Name   string   `json:"Name"`
			Values []string `json:"Values"`
		} `json:"Filters"`
	} `json:"parameters"`
}

// lookupCall decodes the Create call of a Custom::AWS resource. The call is
// JSON joined with tokens; a Ref becomes "ref:ID", other tokens "<token>".
func lookupCall(r Resource) (awsCall, error) {
	var call awsCall
	text, err := joinTokens(r.Props["Create"])
	if err != nil {
		return call, fmt.Errorf("look-up %s: %v", r.ID, err)
	}
	if err := json.Unmarshal([]byte(text), &call); err != nil {
		return call, fmt.Errorf("look-up %s: Create is not a JSON SDK call: %v", r.ID, err)
	}
	return call, nil
}

func joinTokens(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case map[string]any:
		if id, ok := ref(t); ok {
			return "ref:" + id, nil
		}
		if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			var parts []string
			for _, p := range asList(j[1]) {
				s, err := joinTokens(p)
				if err != nil {
					return "", err
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, sep), nil
		}
		return "<token>", nil
	}
	return "", fmt.Errorf("unexpected %T in a joined string", v)
}

// crossCheckLinks: a link stack opens the scheduler and license servers to
// the range of the network it links; that range must be the range of the
// attachment its look-up finds, or the link joins one network and opens the
// hub to another.
func (g *transitGraph) crossCheckLinks() {
	ts := g.ts
	for _, stack := range ts.Stacks() {
		if stack == g.network {
			continue
		}
		var linked []*tgwNetwork
		for _, r := range ts.In(stack, "AWS::EC2::TransitGatewayRouteTableAssociation") {
			if n, err := g.attachment(stack, r.Props["TransitGatewayAttachmentId"]); err == nil && n.kind == kindProduction {
				linked = append(linked, n)
			}
		}
		if len(linked) == 0 {
			continue
		}
		for _, r := range ts.In(stack, "AWS::EC2::SecurityGroupIngress") {
			s, _ := r.Props["CidrIp"].(string)
			c, err := netip.ParsePrefix(s)
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
			if contains(rts, rt) {
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
	var out []*tgwNetwork
	for _, n := range g.networks {
		if n.kind == kindProduction {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

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

// transitGraphOf builds the graph of an estate and fails on anything the
// checker could not resolve: an unresolved reference would hide a route.
func transitGraphOf(t *testing.T, s *Synthesized, ts Templates) *transitGraph {
	t.Helper()
	g := buildTransitGraph(ts, s.NetworkStack(), s.Manifests.Studio.OnPremises.Cidrs)
	for _, p := range g.problems {
		t.Errorf("transit graph: %s", p)
	}
	// Every VPC outside the hub is a production (or pool) network with an
	// attachment; a network the graph missed would be a network unproven.
	vpcs := 0
	for _, r := range ts.All("AWS::EC2::VPC") {
		if r.Stack != s.NetworkStack() {
			vpcs++
		}
	}
	if got := len(g.productions()); got != vpcs || got < 2 {
		t.Fatalf("transit graph has %d production networks, but the estate has %d production and pool VPCs (want at least 2 to prove anything)", got, vpcs)
	}
	return g
}

func TestProductionsCannotReachEachOther(t *testing.T) {
	eachEstate(t, reachabilityEstates, func(t *testing.T, s *Synthesized) {
		g := transitGraphOf(t, s, s.Templates)
		t.Logf("the Transit Gateway as the templates describe it:\n%s", g.describe())
		for _, v := range g.isolationViolations() {
			t.Error(v)
		}
		n := len(g.productions())
		t.Logf("proved %d ordered pairs of %d production networks isolated", n*(n-1), n)
	})
}

func TestProductionsReachManagementAndOnPremises(t *testing.T) {
	eachEstate(t, reachabilityEstates, func(t *testing.T, s *Synthesized) {
		for _, v := range managementAndOnPremisesReach(s, transitGraphOf(t, s, s.Templates)) {
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

// The checker must be able to fail: a propagation of one production's
// attachment into the production route table (one line in a link stack)
// lets every other production reach it.
func TestReachabilityCheckerCatchesALeakedPropagation(t *testing.T) {
	s := synth(t, acmeEstate)
	g := transitGraphOf(t, s, s.Templates)
	if v := g.isolationViolations(); len(v) > 0 {
		t.Fatalf("the acme estate already leaks: %v", v)
	}
	ts := clone(s.Templates)
	// The link of the first production network: its association names the
	// attachment and the production route table.
	victim := g.productions()[0]
	assoc := associationOf(t, g, ts, victim)
	asMap(ts[assoc.Stack]["Resources"])["InjectedLeak"] = map[string]any{
		"Type": "AWS::EC2::TransitGatewayRouteTablePropagation",
		"Properties": map[string]any{
			"TransitGatewayAttachmentId": assoc.Props["TransitGatewayAttachmentId"],
			"TransitGatewayRouteTableId": assoc.Props["TransitGatewayRouteTableId"],
		},
	}
	leaked := transitGraphOf(t, s, ts).isolationViolations()
	if len(leaked) == 0 {
		t.Fatalf("injected %s/InjectedLeak propagating %s into its own route table, but the checker reports no production reaching another", assoc.Stack, victim.name)
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

// vpcRouteViolations checks the VPC route tables of every stack but the hub:
// no route to the internet and none towards another production's range.
func vpcRouteViolations(ts Templates, network string, g *transitGraph) []string {
	var out []string
	prods := g.productions()
	for _, r := range ts.All("AWS::EC2::Route") {
		if r.Stack == network {
			continue
		}
		if isDefaultRoute(r.Props) {
			out = append(out, fmt.Sprintf("%s: route to the internet (%v%v)", r, orEmpty(r.Props["DestinationCidrBlock"]), orEmpty(r.Props["DestinationIpv6CidrBlock"])))
			continue
		}
		s, _ := r.Props["DestinationCidrBlock"].(string)
		dest, err := netip.ParsePrefix(s)
		if err != nil {
			continue // prefix-list and IPv6 routes carry no IPv4 range
		}
		// The route's own network: the production whose attachment is in
		// the same stack.
		for _, n := range prods {
			if strings.HasPrefix(n.node, r.Stack+"/") {
				continue
			}
			for _, c := range n.cidrs {
				if dest.Overlaps(c) {
					out = append(out, fmt.Sprintf("%s: route to %s overlaps %s's range %s", r, dest, n.name, c))
				}
			}
		}
	}
	return out
}

func TestProductionVpcRoutesAvoidOtherProductionsAndTheInternet(t *testing.T) {
	eachEstate(t, reachabilityEstates, func(t *testing.T, s *Synthesized) {
		g := transitGraphOf(t, s, s.Templates)
		for _, v := range vpcRouteViolations(s.Templates, s.NetworkStack(), g) {
			t.Error(v)
		}
	})
}

func TestVpcRouteCheckerCatchesInjectedRoutes(t *testing.T) {
	s := synth(t, acmeEstate)
	g := transitGraphOf(t, s, s.Templates)
	ts := clone(s.Templates)
	prods := g.productions()
	from, to := prods[0], prods[1]
	stack := strings.SplitN(from.node, "/", 2)[0]
	var table any
	for _, r := range ts.In(stack, "AWS::EC2::Route") {
		table = r.Props["RouteTableId"]
		break
	}
	if table == nil {
		t.Fatalf("%s has no VPC routes to copy", stack)
	}
	rs := asMap(ts[stack]["Resources"])
	rs["InjectedDefault"] = map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{
		"DestinationCidrBlock": "0.0.0.0/0", "RouteTableId": table, "TransitGatewayId": "tgw-0123456789abcdef0"}}
	rs["InjectedPeer"] = map[string]any{"Type": "AWS::EC2::Route", "Properties": map[string]any{
		"DestinationCidrBlock": to.cidrs[0].String(), "RouteTableId": table, "TransitGatewayId": "tgw-0123456789abcdef0"}}
	got := strings.Join(vpcRouteViolations(ts, s.NetworkStack(), g), "\n")
	for _, want := range []string{stack + "/InjectedDefault", stack + "/InjectedPeer (AWS::EC2::Route): route to " + to.cidrs[0].String() + " overlaps " + to.name} {
		if !strings.Contains(got, want) {
			t.Errorf("injected routes not reported: want %q in:\n%s", want, got)
		}
	}
}

// The checker must also follow static routes: one AWS::EC2::TransitGatewayRoute
// in the production route table that sends a production's range to its
// attachment lets every other production reach it, with no propagation at
// all.
func TestReachabilityCheckerCatchesALeakedStaticRoute(t *testing.T) {
	s := synth(t, acmeEstate)
	g := transitGraphOf(t, s, s.Templates)
	if v := g.isolationViolations(); len(v) > 0 {
		t.Fatalf("the acme estate already leaks: %v", v)
	}
	ts := clone(s.Templates)
	// The link of the last production network: its association names the
	// attachment and the production route table.
	prods := g.productions()
	victim := prods[len(prods)-1]
	assoc := associationOf(t, g, ts, victim)
	// A /24 inside the victim's range: a narrower route leaks as surely as
	// the whole range.
	dest := netip.PrefixFrom(victim.cidrs[0].Addr(), 24)
	if victim.cidrs[0].Bits() > 24 {
		dest = victim.cidrs[0]
	}
	asMap(ts[assoc.Stack]["Resources"])["InjectedStaticRoute"] = map[string]any{
		"Type": "AWS::EC2::TransitGatewayRoute",
		"Properties": map[string]any{
			"DestinationCidrBlock":       dest.String(),
			"TransitGatewayAttachmentId": assoc.Props["TransitGatewayAttachmentId"],
			"TransitGatewayRouteTableId": assoc.Props["TransitGatewayRouteTableId"],
		},
	}
	leaked := transitGraphOf(t, s, ts).isolationViolations()
	if len(leaked) == 0 {
		t.Fatalf("injected %s/InjectedStaticRoute sending %s to %s in the production route table, but the checker reports no production reaching another", assoc.Stack, dest, victim.name)
	}
	via := assoc.Stack + "/InjectedStaticRoute (AWS::EC2::TransitGatewayRoute)"
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
	ts = clone(s.Templates)
	asMap(ts[assoc.Stack]["Resources"])["InjectedBlackhole"] = map[string]any{
		"Type": "AWS::EC2::TransitGatewayRoute",
		"Properties": map[string]any{
			"DestinationCidrBlock":       dest.String(),
			"Blackhole":                  true,
			"TransitGatewayRouteTableId": assoc.Props["TransitGatewayRouteTableId"],
		},
	}
	if v := transitGraphOf(t, s, ts).isolationViolations(); len(v) > 0 {
		t.Errorf("a blackhole route reported as a leak: %v", v)
	}
}

// associationOf is the link stack's association of network n with its
// route table.
func associationOf(t *testing.T, g *transitGraph, ts Templates, n *tgwNetwork) Resource {
	t.Helper()
	for _, r := range ts.All("AWS::EC2::TransitGatewayRouteTableAssociation") {
		if a, err := g.attachment(r.Stack, r.Props["TransitGatewayAttachmentId"]); err == nil && a.node == n.node {
			return r
		}
	}
	t.Fatalf("no association for %s", n.name)
	return Resource{}
}
