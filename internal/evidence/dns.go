package evidence

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// DNS checks: a VPC with no internet path still resolves names through the
// Route 53 Resolver, which recurses to any name server on the internet, so
// "no internet path" (ISE 2.2) holds only when the DNS Firewall blocks every
// name the production does not need, and the queries are logged (ISE 8.1).
// Rules RE-NET-014 and RE-NET-015 judge every VPC; these checks cite the
// production's VPC's firewall and query logs.

// checkDNSFirewall: a DNS Firewall rule group associated with the
// production's VPC ends with a rule that blocks every name.
func checkDNSFirewall(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	var problems []string
	for _, a := range vpc.Stack.OfType("AWS::Route53Resolver::FirewallRuleGroupAssociation") {
		if a.Resolve("VpcId") != vpc {
			continue
		}
		g := a.Resolve("FirewallRuleGroupId")
		if g == nil || g.Type != "AWS::Route53Resolver::FirewallRuleGroup" {
			problems = append(problems, cite(a)+" associates no rule group of the stack")
			continue
		}
		var last map[string]any
		lastPriority := -1.0
		var allowed []string
		for _, x := range cfn.AsList(g.Properties["FirewallRules"]) {
			rule := cfn.AsMap(x)
			if p, ok := cfn.Number(rule["Priority"]); ok && p > lastPriority {
				last, lastPriority = rule, p
			}
			if cfn.Str(rule["Action"]) == "ALLOW" {
				if l := g.Stack.Resolve(rule["FirewallDomainListId"]); l != nil {
					allowed = append(allowed, strs(l.Properties["Domains"])...)
				}
			}
		}
		if last == nil {
			problems = append(problems, cite(g)+" has no rules")
			continue
		}
		list := g.Stack.Resolve(last["FirewallDomainListId"])
		if cfn.Str(last["Action"]) != "BLOCK" || list == nil || !slices.Equal(strs(list.Properties["Domains"]), []string{"*"}) {
			problems = append(problems, fmt.Sprintf("the last rule of %s does not block every name (*): it lets the names it does not list through the resolver", cite(g)))
			continue
		}
		return passed(fmt.Sprintf("%s resolves only the %d names and zones its DNS Firewall %s allows (its endpoints', buckets' and the studio's); every other name is answered %s",
			vpc.ID, len(allowed), g.ID, cfn.Str(last["BlockResponse"])),
			ev(a, "VpcId", vpc.ID), ev(list, "Domains", list.Properties["Domains"]), ev(g, "FirewallRules", fmt.Sprintf("last rule: %s, priority %v", cfn.Str(last["Action"]), lastPriority)))
	}
	if len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("no DNS Firewall rule group is associated with %s: its instances resolve any name on the internet, an exit for data", cite(vpc)))
	}
	return failed(strings.Join(problems, "; "))
}

// checkDNSQueryLogs: the production's VPC logs its DNS queries to a log
// group encrypted with a customer-managed key.
func checkDNSQueryLogs(v *view) result {
	vpc := v.vpc()
	if vpc == nil {
		return failed("no VPC found for " + v.prod)
	}
	for _, a := range vpc.Stack.OfType("AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation") {
		if a.Resolve("ResourceId") != vpc {
			continue
		}
		config := a.Resolve("ResolverQueryLogConfigId")
		if config == nil {
			continue
		}
		dest := config.Stack.String(config.Properties["DestinationArn"])
		_, name, _ := strings.Cut(dest, ":log-group:")
		for _, lg := range vpc.Stack.OfType("AWS::Logs::LogGroup") {
			if name == "" || cfn.Str(lg.Properties["LogGroupName"]) != strings.TrimSuffix(name, ":*") {
				continue
			}
			key := v.kmsKeyOf(lg.Stack, lg.Properties["KmsKeyId"])
			if key == nil {
				return failed(fmt.Sprintf("%s receives DNS query logs without a customer-managed key", cite(lg)))
			}
			return passed(fmt.Sprintf("the DNS queries of %s are logged to %s, encrypted with %s", vpc.ID, name, key.ID),
				ev(a, "ResourceId", vpc.ID), ev(config, "DestinationArn", dest), ev(lg, "KmsKeyId", key.Stack.Name+" / "+key.ID))
		}
		return failed(fmt.Sprintf("%s logs DNS queries to %s, not a log group of %s", cite(config), dest, vpc.Stack.Name))
	}
	return failed(fmt.Sprintf("no Resolver query logging config is associated with %s", cite(vpc)))
}
