// Package diagram draws an estate, or one production, from its synthesized
// templates (read through internal/cfn): VPCs and their subnet tiers, the
// endpoints, the Transit Gateway route tables as who reaches whom, the keys
// and what they protect, the render nodes' ports. It writes Graphviz DOT;
// Render turns DOT into SVG or PNG with Graphviz compiled to WebAssembly,
// so no system package is needed.
package diagram

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// tierColours fill a production's cluster by tier: Tier 1 red, 2 amber,
// 3 green, light enough for black text.
var tierColours = map[int64]string{1: "#f8d7d3", 2: "#fbe8c8", 3: "#dcefd9"}

// Production is the DOT picture of one production: its VPC (or its pool's),
// subnet tiers, endpoints, storage, keys and launch templates, the ports
// its render nodes reach, and what the Transit Gateway lets it reach.
func Production(a *cfn.Assembly, e *manifest.Estate, name string) (string, error) {
	n := names.Names{Studio: e.Studio.Studio}
	var r *manifest.Resolved
	for _, p := range e.Resolved() {
		if p.Name == name {
			r = &p
		}
	}
	if r == nil {
		return "", fmt.Errorf("no production %s in the manifests", name)
	}
	st := a.Stack(n.ProductionStack(name))
	if st == nil {
		return "", fmt.Errorf("the assembly has no stack %s: synthesize the production first", n.ProductionStack(name))
	}
	net := st
	if r.PooledVpc {
		if net = a.Stack(n.PoolStack(r.Account)); net == nil {
			return "", fmt.Errorf("the assembly has no stack %s, the pool production %s uses", n.PoolStack(r.Account), name)
		}
	}
	g := newGraph(fmt.Sprintf("%s: Tier %d (%s)", n.ProductionStack(name), r.Tier, r.Policy.Label))
	g.a = a
	hub := a.Stack(n.NetworkStack())
	if hub == nil {
		return "", fmt.Errorf("the assembly has no stack %s: synthesize the shared stacks too", n.NetworkStack())
	}
	g.hub(hub, e)
	g.open("prod", fmt.Sprintf("%s · account %s · Tier %d", name, r.Account, r.Tier), tierColours[r.Tier])
	vpcLabel := "VPC " + vpcCidr(net)
	if r.PooledVpc {
		vpcLabel = "pool VPC " + vpcCidr(net) + " (shared with the account's Tier 3 productions)"
	}
	g.open("vpc", vpcLabel, "white")
	for _, tier := range subnetTiers(net) {
		g.node("tier_"+tier.name, tier.name+" subnets\\n"+strings.Join(tier.cidrs, ", "), "box")
	}
	if eps := endpointServices(net); len(eps) > 0 {
		g.node("endpoints", "interface endpoints (private DNS)\\n"+wrap(eps, 4), "box3d")
		g.edge("tier_endpoints", "endpoints", "", "dotted")
	}
	g.node("s3gw", "S3 gateway endpoint", "cds")
	g.close()
	for _, b := range st.OfType("AWS::S3::Bucket") {
		name := cfn.Str(b.Prop("BucketName"))
		if name == n.AssetBucket(r.Name, r.Account, r.Region) {
			g.node("assets", "asset bucket\\n"+name+"\\nversioned, TLS only, retained", "cylinder")
		} else {
			g.node("bucket_"+b.ID, "server access logs\\n"+name, "cylinder")
			g.edge("assets", "bucket_"+b.ID, "access logs", "dotted")
		}
	}
	var templates []string
	for _, lt := range st.OfType("AWS::EC2::LaunchTemplate") {
		templates = append(templates, cfn.Str(lt.Prop("LaunchTemplateName")))
	}
	if len(templates) > 0 {
		g.node("templates", "launch templates\\n"+wrap(templates, 2)+"\\nIMDSv2, encrypted EBS, SSM", "component")
		g.edge("templates", "tier_render", "launch into", "dashed")
	}
	g.keys(a, st, r, n)
	g.close()
	g.renderPorts(st, net, hub)
	g.tgw(hub, e, net.Name)
	return g.String(), nil
}

// keys draws the production's keys (its own or its pool's) and what each
// protects.
func (g *graph) keys(a *cfn.Assembly, st *cfn.Stack, r *manifest.Resolved, n names.Names) {
	protects := map[string][]string{"content-asset": {"bucket", "SSE-KMS"}, "root-volume": {"templates", "EBS volumes"}, "logging": {"logs", "log groups, sessions"}}
	g.node("logs", "log groups: flow logs, DNS queries,\\nsessions (copies in the log archive)", "note")
	stacks := []*cfn.Stack{st}
	if pool := a.Stack(n.PoolStack(r.Account)); pool != nil && (r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey) {
		stacks = append(stacks, pool)
	}
	for _, s := range stacks {
		for _, al := range s.OfType("AWS::KMS::Alias") {
			alias := cfn.Str(al.Prop("AliasName"))
			purpose := alias[strings.LastIndex(alias, "/")+1:]
			p, ok := protects[purpose]
			if !ok {
				continue
			}
			id := "key_" + purpose
			if g.has(id) {
				continue
			}
			g.node(id, "KMS key "+purpose+"\\n"+alias+"\\nrotated, retained", "hexagon")
			target := p[0]
			if target == "bucket" {
				target = "assets"
			}
			g.edge(id, target, p[1], "dashed")
		}
	}
}

// renderPorts draws where the render nodes may connect: the egress rules of
// the render security group, by destination.
func (g *graph) renderPorts(st, net, hub *cfn.Stack) {
	ports := map[string][]string{}
	var order []string
	for _, sg := range st.OfType("AWS::EC2::SecurityGroup") {
		if !strings.HasSuffix(cfn.Str(sg.Prop("GroupDescription")), "render nodes") {
			continue
		}
		for _, rule := range cfn.AsList(sg.Prop("SecurityGroupEgress")) {
			m := cfn.AsMap(rule)
			dest := st.String(m["CidrIp"])
			if dest == "" {
				continue
			}
			if _, seen := ports[dest]; !seen {
				order = append(order, dest)
			}
			ports[dest] = append(ports[dest], portText(m))
		}
	}
	mgmt := vpcCidr(hub)
	for _, dest := range order {
		label := strings.Join(slices.Compact(ports[dest]), ", ")
		switch {
		case dest == mgmt:
			g.edge("tier_render", "rt_productions", label+"\\nto the scheduler and licences", "bold")
		case dest == vpcCidr(net):
			g.edge("tier_render", "tier_endpoints", label, "")
		default:
			if t := tierOf(net, dest); t != "" && t != "render" {
				g.edgeOnce("tier_render", "tier_"+t, label)
			}
		}
	}
	g.edge("tier_render", "s3gw", "tcp 443 (S3 prefix list)", "")
	g.edge("s3gw", "assets", "only through this endpoint,\\nonly the production's roles", "")
}
