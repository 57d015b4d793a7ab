package rules

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Network rules: ISE 2.1 to 2.8, 4.1.

func init() {
	register(
		Rule{ID: "RE-NET-001", Controls: []string{"2.2", "2.3"},
			Description: "No internet gateway, egress-only internet gateway, NAT gateway or elastic IP outside the management network stack",
			Check:       checkNoInternetResources},
		Rule{ID: "RE-NET-002", Controls: []string{"2.3"},
			Description: "No subnet assigns public IP addresses on launch",
			Check:       checkNoPublicSubnets},
		Rule{ID: "RE-NET-003", Controls: []string{"2.2", "2.3"},
			Description: "No route to the internet outside the management VPC: no default route and no route to an internet, egress-only or NAT gateway",
			Check:       checkNoInternetRoutes},
		Rule{ID: "RE-NET-004", Controls: []string{"2.2", "2.3"},
			Description: "In the management VPC only the front-end subnets route to the internet gateway and hold the NAT gateways; other default routes go through NAT",
			Check:       checkManagementInternetPaths},
		Rule{ID: "RE-NET-005", Controls: []string{"2.2", "2.4"},
			Description: "A Transit Gateway route table a production is associated with holds no propagation from, and no static route to, another production's attachment",
			Check:       checkTransitIsolation},
		Rule{ID: "RE-NET-006", Controls: []string{"2.2"},
			Description: "Transit Gateways disable default route table association and propagation, so no attachment learns another by default",
			Check:       checkTransitDefaults},
		Rule{ID: "RE-NET-007", Controls: []string{"2.1", "2.5"},
			Description: "No security group admits ingress from 0.0.0.0/0 or ::/0",
			Check:       checkNoIngressFromAnywhere},
		Rule{ID: "RE-NET-008", Controls: []string{"2.1", "4.1"},
			Description: "No security group admits SSH (22) or RDP (3389), nor all protocols: access is through Session Manager",
			Check:       checkNoAdminIngress},
		Rule{ID: "RE-NET-009", Controls: []string{"2.7", "2.8"},
			Description: "Every site-to-site VPN tunnel pins IKEv2 and current ciphers, integrity algorithms and DH groups",
			Check:       checkVpnCrypto},
		Rule{ID: "RE-NET-010", Controls: []string{"2.5"},
			Description: "Every VPC's default security group is stripped of its rules",
			Check:       checkDefaultGroupClosed},
		Rule{ID: "RE-NET-011", Controls: []string{"2.1", "2.5"},
			Description: "Launch templates and interface endpoints name security groups of the assembly, never a VPC's default group",
			Check:       checkNoDefaultGroupUse},
		Rule{ID: "RE-NET-013", Controls: []string{"2.2", "2.4"},
			Description: "No route of a VPC outside the management network points at the range of another such VPC",
			Check:       checkNoRoutesToOtherProductions},
		Rule{ID: "RE-NET-012", Controls: []string{"4.1"},
			Description: "Every VPC outside the management network that hosts instances reaches Systems Manager privately: interface endpoints for ssm, ssmmessages and ec2messages with private DNS",
			Check:       checkSsmEndpoints},
	)
}

var internetTypes = []string{
	"AWS::EC2::InternetGateway", "AWS::EC2::EgressOnlyInternetGateway", "AWS::EC2::NatGateway",
	"AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EIP", "AWS::EC2::CarrierGateway",
}

func checkNoInternetResources(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources(internetTypes...) {
		if !isHub(r.Stack) {
			report(r, "", "%s outside the management network stack gives a production network an internet path", r.Type)
		}
	}
}

func checkNoPublicSubnets(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources("AWS::EC2::Subnet") {
		if cfn.Truthy(r.Properties["MapPublicIpOnLaunch"]) {
			report(r, "MapPublicIpOnLaunch", "is true: instances launched here get public IP addresses")
		}
	}
}

// defaultRoute names the destination property of a route to everywhere
// (0.0.0.0/0 or ::/0), or "".
func defaultRoute(r *cfn.Resource) string {
	switch {
	case r.Stack.String(r.Properties["DestinationCidrBlock"]) == "0.0.0.0/0":
		return "DestinationCidrBlock"
	case r.Stack.String(r.Properties["DestinationIpv6CidrBlock"]) == "::/0":
		return "DestinationIpv6CidrBlock"
	}
	return ""
}

// internetTarget names the property of a route that sends traffic to an
// internet, egress-only or NAT gateway, or "".
func internetTarget(r *cfn.Resource) string {
	for _, p := range []string{"GatewayId", "NatGatewayId", "EgressOnlyInternetGatewayId", "CarrierGatewayId"} {
		v := r.Properties[p]
		if v == nil {
			continue
		}
		if p != "GatewayId" {
			return p
		}
		// GatewayId also takes virtual private gateways; anything it
		// cannot be shown to be is taken for an internet gateway.
		if t := r.Resolve(p); t != nil && t.Type == "AWS::EC2::VPNGateway" || strings.HasPrefix(r.Stack.String(v), "vgw-") {
			continue
		}
		return p
	}
	return ""
}

func checkNoInternetRoutes(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources("AWS::EC2::Route") {
		if isHub(r.Stack) {
			continue
		}
		if p := internetTarget(r); p != "" {
			report(r, p, "routes to %s: a production network has no internet path", r.Stack.String(r.Properties[p]))
		} else if p := defaultRoute(r); p != "" {
			report(r, p, "is a default route outside the management VPC")
		}
	}
}

// frontEnd is the subnet group (aws-cdk:subnet-name) of the management
// VPC that alone faces the internet.
const frontEnd = "front-end"

func checkManagementInternetPaths(a *cfn.Assembly, report Reporter) {
	for _, s := range a.Stacks {
		if !isHub(s) {
			continue
		}
		public := map[*cfn.Resource]bool{}
		for _, sn := range s.OfType("AWS::EC2::Subnet") {
			public[sn] = tag(sn, "aws-cdk:subnet-name") == frontEnd
		}
		subnetsOf := map[*cfn.Resource][]*cfn.Resource{}
		for _, as := range s.OfType("AWS::EC2::SubnetRouteTableAssociation") {
			if rt := as.Resolve("RouteTableId"); rt != nil {
				subnetsOf[rt] = append(subnetsOf[rt], as.Resolve("SubnetId"))
			}
		}
		natEIPs := map[*cfn.Resource]bool{}
		for _, nat := range s.OfType("AWS::EC2::NatGateway") {
			if sn := nat.Resolve("SubnetId"); sn == nil || !public[sn] {
				report(nat, "SubnetId", "the NAT gateway is not in a %s subnet", frontEnd)
			}
			natEIPs[nat.Resolve("AllocationId")] = true
		}
		for _, eip := range s.OfType("AWS::EC2::EIP") {
			if !natEIPs[eip] {
				report(eip, "", "elastic IP not used by a front-end NAT gateway")
			}
		}
		for _, r := range s.OfType("AWS::EC2::Route") {
			gw := r.Resolve("GatewayId")
			viaIgw := gw != nil && gw.Type == "AWS::EC2::InternetGateway"
			rt := r.Resolve("RouteTableId")
			if viaIgw {
				if len(subnetsOf[rt]) == 0 {
					report(r, "RouteTableId", "routes to the internet gateway from a route table no subnet uses")
				}
				for _, sn := range subnetsOf[rt] {
					if sn == nil || !public[sn] {
						report(r, "GatewayId", "routes subnet %s, which is not a %s subnet, to the internet gateway", idOf(sn), frontEnd)
					}
				}
			}
			if nat, p := r.Resolve("NatGatewayId"), defaultRoute(r); p != "" && !viaIgw && (nat == nil || nat.Type != "AWS::EC2::NatGateway") {
				report(r, p, "default route neither to the internet gateway from the front end nor through a NAT gateway")
			}
		}
	}
}

func idOf(r *cfn.Resource) string {
	if r == nil {
		return "(unresolved)"
	}
	return r.ID
}

// attachment is a Transit Gateway attachment as an association,
// propagation or route names it.
type attachment struct {
	key string // the resource it resolves to, or its text
	hub bool   // the management VPC's or the VPN's: declared in the hub
}

func attachmentOf(r *cfn.Resource) attachment {
	v := r.Properties["TransitGatewayAttachmentId"]
	if t := r.Stack.Resolve(v); t != nil {
		return attachment{key: t.String(), hub: isHub(r.Stack) && isHub(t.Stack)}
	}
	return attachment{key: r.Stack.Name + ":" + r.Stack.String(v)}
}

func routeTableOf(r *cfn.Resource) string {
	v := r.Properties["TransitGatewayRouteTableId"]
	if t := r.Stack.Resolve(v); t != nil {
		return t.String()
	}
	return r.Stack.String(v)
}

func checkTransitIsolation(a *cfn.Assembly, report Reporter) {
	// The production attachments associated with each route table.
	associated := map[string][]string{}
	for _, r := range a.Resources("AWS::EC2::TransitGatewayRouteTableAssociation") {
		if at := attachmentOf(r); !at.hub {
			rt := routeTableOf(r)
			associated[rt] = append(associated[rt], at.key)
		}
	}
	learns := func(r *cfn.Resource, what string) {
		at := attachmentOf(r)
		if at.hub {
			return
		}
		rt := routeTableOf(r)
		for _, other := range associated[rt] {
			if other != at.key {
				report(r, "TransitGatewayAttachmentId", "%s production attachment %s into route table %s, which production attachment %s uses: one production reaches another", what, at.key, rt, other)
				return
			}
		}
	}
	for _, r := range a.Resources("AWS::EC2::TransitGatewayRouteTablePropagation") {
		learns(r, "propagates")
	}
	for _, r := range a.Resources("AWS::EC2::TransitGatewayRoute") {
		if !cfn.Truthy(r.Properties["Blackhole"]) {
			learns(r, "routes "+r.Stack.String(r.Properties["DestinationCidrBlock"])+" to")
		}
	}
}

func checkTransitDefaults(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources("AWS::EC2::TransitGateway") {
		for _, p := range []string{"DefaultRouteTableAssociation", "DefaultRouteTablePropagation"} {
			// Both default to enable.
			if v := r.Stack.String(r.Properties[p]); v != "disable" {
				report(r, p, "is %q, want \"disable\": attachments would share a route table and learn each other", v)
			}
		}
	}
}

// ingress is one ingress permission, inline or standalone.
type ingress struct {
	r    *cfn.Resource
	path string
	m    map[string]any
}

func ingressRules(a *cfn.Assembly) []ingress {
	var out []ingress
	for _, r := range a.Resources("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress") {
		if r.Type == "AWS::EC2::SecurityGroupIngress" {
			out = append(out, ingress{r, "", r.Properties})
			continue
		}
		for i, rule := range cfn.AsList(r.Properties["SecurityGroupIngress"]) {
			out = append(out, ingress{r, fmt.Sprintf("SecurityGroupIngress[%d]", i), cfn.AsMap(rule)})
		}
	}
	return out
}

func (in ingress) at(prop string) string {
	if in.path == "" {
		return prop
	}
	return in.path + "." + prop
}

// covers reports whether the rule admits TCP or UDP traffic to port. ICMP
// rules carry types and codes in the port fields, not ports.
func (in ingress) covers(port float64) bool {
	switch strings.ToLower(in.r.Stack.String(in.m["IpProtocol"])) {
	case "-1", "all":
		return true
	case "tcp", "udp", "6", "17":
	default:
		return false
	}
	from, okFrom := cfn.Number(in.m["FromPort"])
	to, okTo := cfn.Number(in.m["ToPort"])
	if !okFrom || !okTo || from == -1 {
		return true
	}
	return from <= port && port <= to
}

func checkNoIngressFromAnywhere(a *cfn.Assembly, report Reporter) {
	for _, in := range ingressRules(a) {
		if v := in.r.Stack.String(in.m["CidrIp"]); v == "0.0.0.0/0" {
			report(in.r, in.at("CidrIp"), "admits %s: no security group is open to the internet", v)
		}
		if v := in.r.Stack.String(in.m["CidrIpv6"]); v == "::/0" {
			report(in.r, in.at("CidrIpv6"), "admits %s: no security group is open to the internet", v)
		}
	}
}

var adminPorts = []struct {
	port float64
	name string
}{{22, "SSH"}, {3389, "RDP"}}

func checkNoAdminIngress(a *cfn.Assembly, report Reporter) {
	for _, in := range ingressRules(a) {
		if proto := strings.ToLower(in.r.Stack.String(in.m["IpProtocol"])); proto == "-1" || proto == "all" {
			report(in.r, in.at("IpProtocol"), "admits all protocols and ports, SSH and RDP included: access is through Session Manager only")
			continue
		}
		for _, p := range adminPorts {
			if in.covers(p.port) {
				report(in.r, in.at("IpProtocol"), "admits %s (port %v, %s %v-%v): access is through Session Manager only",
					p.name, p.port, in.r.Stack.String(in.m["IpProtocol"]), cfn.Compact(in.m["FromPort"]), cfn.Compact(in.m["ToPort"]))
			}
		}
	}
}

// Deprecated IPsec choices.
var (
	weakDH        = []string{"1", "2", "5", "22", "23", "24"}
	weakIntegrity = []string{"SHA1", "MD5"}
	weakCipher    = []string{"DES", "3DES"}
)

func checkVpnCrypto(a *cfn.Assembly, report Reporter) {
	for _, vpn := range a.Resources("AWS::EC2::VPNConnection") {
		tunnels := cfn.AsList(vpn.Properties["VpnTunnelOptionsSpecifications"])
		if len(tunnels) == 0 {
			report(vpn, "VpnTunnelOptionsSpecifications", "not set: AWS's defaults (IKEv1, SHA-1, DH group 2) apply")
		}
		for i, tun := range tunnels {
			check := func(field string, bad func(string) bool) {
				path := fmt.Sprintf("VpnTunnelOptionsSpecifications[%d].%s", i, field)
				vals := cfn.AsList(cfn.AsMap(tun)[field])
				if len(vals) == 0 {
					report(vpn, path, "not set: AWS's defaults apply, deprecated ones included")
				}
				for _, x := range vals {
					if v := vpn.Stack.String(cfn.AsMap(x)["Value"]); bad(v) {
						report(vpn, path, "allows %s", v)
					}
				}
			}
			check("IKEVersions", func(x string) bool { return x != "ikev2" })
			for _, ph := range []string{"Phase1", "Phase2"} {
				check(ph+"EncryptionAlgorithms", func(x string) bool { return slices.Contains(weakCipher, x) })
				check(ph+"IntegrityAlgorithms", func(x string) bool { return slices.Contains(weakIntegrity, x) })
				check(ph+"DHGroupNumbers", func(x string) bool { return slices.Contains(weakDH, x) })
			}
		}
	}
}

func checkDefaultGroupClosed(a *cfn.Assembly, report Reporter) {
	for _, vpc := range a.Resources("AWS::EC2::VPC") {
		closed := false
		for _, r := range vpc.Stack.All() {
			if !strings.HasPrefix(r.Type, "Custom::") {
				continue
			}
			id, attr := cfn.RefID(r.Properties["DefaultSecurityGroupId"])
			closed = closed || (id == vpc.ID && attr == "DefaultSecurityGroup")
		}
		if !closed {
			report(vpc, "", "nothing in the stack strips the rules of the VPC's default security group (Custom::VpcRestrictDefaultSG, restrictDefaultSecurityGroup)")
		}
	}
}

// groupRefs are the security group references of a launch template or an
// interface endpoint, with their property paths.
func groupRefs(r *cfn.Resource) map[string]any {
	out := map[string]any{}
	add := func(base string, v any) {
		for i, g := range cfn.AsList(v) {
			out[fmt.Sprintf("%s[%d]", base, i)] = g
		}
	}
	if r.Type == "AWS::EC2::VPCEndpoint" {
		add("SecurityGroupIds", r.Properties["SecurityGroupIds"])
		return out
	}
	add(ltData+".SecurityGroupIds", r.Prop(ltData+".SecurityGroupIds"))
	for i, ni := range cfn.AsList(r.Prop(ltData + ".NetworkInterfaces")) {
		add(fmt.Sprintf("%s.NetworkInterfaces[%d].Groups", ltData, i), cfn.AsMap(ni)["Groups"])
	}
	return out
}

func checkNoDefaultGroupUse(a *cfn.Assembly, report Reporter) {
	for _, r := range a.Resources("AWS::EC2::LaunchTemplate", "AWS::EC2::VPCEndpoint") {
		if r.Type == "AWS::EC2::VPCEndpoint" && r.Stack.String(r.Properties["VpcEndpointType"]) != "Interface" {
			continue
		}
		refs := groupRefs(r)
		if len(refs) == 0 {
			report(r, "", "names no security group, so the VPC's default group applies")
		}
		for _, path := range slices.Sorted(maps.Keys(refs)) {
			v := refs[path]
			if _, attr := cfn.RefID(v); attr == "DefaultSecurityGroup" {
				report(r, path, "is the VPC's default security group")
			} else if g := r.Stack.Resolve(v); g == nil || g.Type != "AWS::EC2::SecurityGroup" {
				report(r, path, "is %s, not a security group of the assembly", r.Stack.String(v))
			}
		}
	}
}

var ssmServices = []string{"ssm", "ssmmessages", "ec2messages"}

func checkSsmEndpoints(a *cfn.Assembly, report Reporter) {
	hosts := map[*cfn.Resource]bool{} // VPCs that launch templates place nodes in
	for _, lt := range a.Resources("AWS::EC2::LaunchTemplate") {
		for _, v := range groupRefs(lt) {
			if g := lt.Stack.Resolve(v); g != nil {
				if vpc := g.Resolve("VpcId"); vpc != nil && vpc.Type == "AWS::EC2::VPC" {
					hosts[vpc] = true
				}
			}
		}
	}
	for _, vpc := range a.Resources("AWS::EC2::VPC") {
		if isHub(vpc.Stack) || !hosts[vpc] {
			continue
		}
		found := map[string]bool{}
		for _, ep := range a.Resources("AWS::EC2::VPCEndpoint") {
			svc := ep.Stack.String(ep.Properties["ServiceName"])
			if ep.Resolve("VpcId") != vpc || !cfn.Truthy(ep.Properties["PrivateDnsEnabled"]) {
				continue
			}
			for _, s := range ssmServices {
				found[s] = found[s] || strings.HasSuffix(svc, "."+s)
			}
		}
		for _, s := range ssmServices {
			if !found[s] {
				report(vpc, "", "has no interface endpoint with private DNS for %s: Session Manager cannot reach its nodes without the internet", s)
			}
		}
	}
}

// vpcRanges returns the IPv4 ranges of a VPC: its CidrBlock and the
// AWS::EC2::VPCCidrBlock resources that add to it.
func vpcRanges(a *cfn.Assembly, vpc *cfn.Resource) []netip.Prefix {
	var out []netip.Prefix
	add := func(r *cfn.Resource) {
		if p, err := netip.ParsePrefix(r.Stack.String(r.Properties["CidrBlock"])); err == nil {
			out = append(out, p.Masked())
		}
	}
	add(vpc)
	for _, extra := range a.Resources("AWS::EC2::VPCCidrBlock") {
		if extra.Resolve("VpcId") == vpc {
			add(extra)
		}
	}
	return out
}

func checkNoRoutesToOtherProductions(a *cfn.Assembly, report Reporter) {
	ranges := map[*cfn.Resource][]netip.Prefix{}
	for _, vpc := range a.Resources("AWS::EC2::VPC") {
		if !isHub(vpc.Stack) {
			ranges[vpc] = vpcRanges(a, vpc)
		}
	}
	for _, r := range a.Resources("AWS::EC2::Route") {
		if isHub(r.Stack) {
			continue
		}
		dest, err := netip.ParsePrefix(r.Stack.String(r.Properties["DestinationCidrBlock"]))
		if err != nil {
			continue // prefix-list and IPv6 routes carry no IPv4 range
		}
		var own *cfn.Resource
		if rt := r.Resolve("RouteTableId"); rt != nil {
			own = rt.Resolve("VpcId")
		}
		for _, vpc := range a.Resources("AWS::EC2::VPC") {
			if vpc == own {
				continue
			}
			for _, c := range ranges[vpc] {
				if dest.Overlaps(c) {
					report(r, "DestinationCidrBlock", "%s overlaps %s, the range of %s: one production would reach another", dest, c, vpc)
				}
			}
		}
	}
}
