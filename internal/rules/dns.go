package rules

import (
	"slices"
	"strconv"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// DNS: a VPC with no internet path still resolves any name through the
// Route 53 Resolver, which recurses to name servers on the internet: an
// exit for data hidden in the names asked for.

func init() {
	register(
		Rule{ID: "RE-NET-014", Controls: []string{"2.2"},
			Description: "Every VPC outside the management network has a DNS Firewall rule group whose last rule blocks every name (*) with NXDOMAIN or NODATA, so DNS is no exit",
			Check:       checkDNSFirewall},
		Rule{ID: "RE-NET-015", Controls: []string{"8.1"},
			Description: "Every VPC outside the management network logs its DNS queries to a log group of its stack encrypted with a KMS key",
			Check:       checkDNSQueryLogs},
	)
}

// associations are the VPCs outside the management network, each with
// the resources of type in its stack whose property prop names it.
func associations(a *cfn.Assembly, typ, prop string) map[*cfn.Resource][]*cfn.Resource {
	out := map[*cfn.Resource][]*cfn.Resource{}
	for _, vpc := range a.Resources("AWS::EC2::VPC") {
		if isHub(vpc.Stack) {
			continue
		}
		out[vpc] = nil
		for _, as := range vpc.Stack.OfType(typ) {
			if as.Resolve(prop) == vpc {
				out[vpc] = append(out[vpc], as)
			}
		}
	}
	return out
}

func checkDNSFirewall(a *cfn.Assembly, report Reporter) {
	for vpc, assocs := range associations(a, "AWS::Route53Resolver::FirewallRuleGroupAssociation", "VpcId") {
		for _, as := range assocs {
			group := as.Resolve("FirewallRuleGroupId")
			if group == nil || group.Type != "AWS::Route53Resolver::FirewallRuleGroup" {
				report(as, "FirewallRuleGroupId", "names no DNS Firewall rule group of the stack")
				continue
			}
			last, at := map[string]any(nil), -1
			for i, x := range cfn.AsList(group.Properties["FirewallRules"]) {
				rule := cfn.AsMap(x)
				p, _ := cfn.Number(rule["Priority"])
				if lp, _ := cfn.Number(last["Priority"]); last == nil || p > lp {
					last, at = rule, i
				}
			}
			if last == nil {
				report(group, "FirewallRules", "has no rules: every name resolves")
				continue
			}
			path := "FirewallRules[" + strconv.Itoa(at) + "]"
			list := group.Stack.Resolve(last["FirewallDomainListId"])
			switch {
			case cfn.Str(last["Action"]) != "BLOCK":
				report(group, path+".Action", "the last rule is %s: names no rule lists resolve on the internet", cfn.Str(last["Action"]))
			case list == nil || !slices.Equal(group.Stack.Strings(list.Properties["Domains"]), []string{"*"}):
				report(group, path+".FirewallDomainListId", "the last rule does not block every name (*): names no rule lists resolve on the internet")
			case !slices.Contains([]string{"NXDOMAIN", "NODATA"}, group.Stack.String(last["BlockResponse"])):
				report(group, path+".BlockResponse", "the last rule answers %s: a blocked name must get NXDOMAIN or NODATA, not an answer of the firewall's choosing", orUnset(last["BlockResponse"]))
			}
		}
		if len(assocs) == 0 {
			report(vpc, "", "has no DNS Firewall rule group: its instances resolve any name on the internet, an exit for data")
		}
	}
}

func checkDNSQueryLogs(a *cfn.Assembly, report Reporter) {
	for vpc, assocs := range associations(a, "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation", "ResourceId") {
		logged := false
		for _, as := range assocs {
			config := as.Resolve("ResolverQueryLogConfigId")
			if config == nil {
				report(as, "ResolverQueryLogConfigId", "names no query logging config of the stack")
				continue
			}
			dest := config.Stack.String(config.Properties["DestinationArn"])
			_, name, _ := strings.Cut(dest, ":log-group:")
			name = strings.TrimSuffix(name, ":*")
			var group *cfn.Resource
			for _, g := range config.Stack.OfType("AWS::Logs::LogGroup") {
				if name != "" && config.Stack.String(g.Properties["LogGroupName"]) == name {
					group = g
				}
			}
			switch {
			case group == nil:
				report(config, "DestinationArn", "logs to %s, not a log group of the stack", dest)
			case !cfn.Present(group.Properties["KmsKeyId"]):
				report(group, "KmsKeyId", "receives DNS query logs without a KMS key")
			default:
				logged = true
			}
		}
		if !logged {
			report(vpc, "", "does not log its DNS queries to an encrypted log group")
		}
	}
}
