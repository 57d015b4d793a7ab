package network_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/internal/cdktest"
)

// firewallRule is one rule of a DNS Firewall rule group, with the domains
// of its list.
type firewallRule struct {
	Priority                 float64
	Action, Response, Chain  string
	Domains                  []string
	DomainListID, DomainList string
}

// firewallRules are the rules of the template's one rule group, in
// priority order.
func firewallRules(t *testing.T, tpl assertions.Template) []firewallRule {
	t.Helper()
	lists := map[string][]string{}
	for _, l := range cdktest.Find(t, tpl, "AWS::Route53Resolver::FirewallDomainList", nil) {
		lists[l.ID] = cdktest.Strings(l.Properties["Domains"])
	}
	group := cdktest.One(t, tpl, "AWS::Route53Resolver::FirewallRuleGroup", nil)
	raw, _ := group.Properties["FirewallRules"].([]any)
	var out []firewallRule
	for _, x := range raw {
		m, _ := x.(map[string]any)
		r := firewallRule{DomainListID: refOf(m["FirewallDomainListId"])}
		r.Priority, _ = m["Priority"].(float64)
		r.Action, _ = m["Action"].(string)
		r.Response, _ = m["BlockResponse"].(string)
		r.Chain, _ = m["FirewallDomainRedirectionAction"].(string)
		r.Domains = lists[r.DomainListID]
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b firewallRule) int { return int(a.Priority - b.Priority) })
	return out
}

func TestProductionDnsFirewallAllowsItsEndpointsAndStudioZonesThenBlocksEverything(t *testing.T) {
	tpl := templates(t).Production
	rules := firewallRules(t, tpl)
	if len(rules) != 3 {
		t.Fatalf("want 3 rules (AWS names, studio zones, block the rest), got %+v", rules)
	}
	aws, studio, block := rules[0], rules[1], rules[2]

	// Every interface endpoint's name, and the S3 names of the production's
	// bucket and the AWS-owned buckets SSM Agent and the repositories use.
	want := []string{"s3.us-west-2.amazonaws.com", "acme-nightfall-assets-333333333333.s3.us-west-2.amazonaws.com",
		"aws-ssm-us-west-2.s3.us-west-2.amazonaws.com", "al2023-repos-us-west-2-de612dc2.s3.dualstack.us-west-2.amazonaws.com",
		"amazonlinux.us-west-2.amazonaws.com", "*.us-west-2.compute.internal"}
	for _, ep := range endpoints {
		want = append(want, ep+".us-west-2.amazonaws.com")
	}
	for _, d := range want {
		if !slices.Contains(aws.Domains, d) {
			t.Errorf("the AWS allow list lacks %s: %v", d, aws.Domains)
		}
	}
	for _, d := range aws.Domains {
		if !strings.HasSuffix(d, ".amazonaws.com") && !strings.HasSuffix(d, ".compute.internal") {
			t.Errorf("the AWS allow list holds %s, which AWS does not answer", d)
		}
		if d == "*" || strings.HasPrefix(d, "*.amazonaws.com") || strings.HasPrefix(d, "*.us-west-2.amazonaws.com") {
			t.Errorf("the AWS allow list holds %s: wider than the VPC's endpoints and buckets", d)
		}
	}
	if aws.Action != "ALLOW" || aws.Chain != "TRUST_REDIRECTION_DOMAIN" {
		t.Errorf("AWS names: action %s, redirection %s; want ALLOW, trusting the redirections AWS answers with", aws.Action, aws.Chain)
	}
	if studio.Action != "ALLOW" || !cdktest.SameSet(studio.Domains, []string{"acme.internal", "*.acme.internal"}) {
		t.Errorf("studio zones: %s %v, want ALLOW acme.internal and every name below it", studio.Action, studio.Domains)
	}
	// A CNAME or DNAME in a studio zone must not lead out of the lists.
	if studio.Chain != "INSPECT_REDIRECTION_DOMAIN" {
		t.Errorf("studio zones trust redirections (%q): a DNAME there would forward any name to the internet", studio.Chain)
	}
	if block.Action != "BLOCK" || !slices.Equal(block.Domains, []string{"*"}) || block.Response != "NXDOMAIN" {
		t.Errorf("last rule: %s %v answering %q, want BLOCK * with NXDOMAIN", block.Action, block.Domains, block.Response)
	}
	if aws.Priority != network.AllowAwsPriority || studio.Priority != network.AllowStudioPriority || block.Priority != network.BlockAllPriority {
		t.Errorf("priorities %v, %v, %v: the allows must come before the block", aws.Priority, studio.Priority, block.Priority)
	}
}

func TestDnsFirewallWithoutStudioZonesAllowsOnlyAwsNames(t *testing.T) {
	rules := firewallRules(t, templates(t).Small)
	if len(rules) != 2 || rules[0].Action != "ALLOW" || rules[1].Action != "BLOCK" || !slices.Equal(rules[1].Domains, []string{"*"}) {
		t.Fatalf("want ALLOW (AWS names) then BLOCK *, got %+v", rules)
	}
	if !slices.Contains(rules[0].Domains, "acme-small-assets.s3.us-west-2.amazonaws.com") {
		t.Errorf("the allow list lacks the VPC's own bucket: %v", rules[0].Domains)
	}
}

func TestDnsFirewallAndQueryLogsAreAssociatedWithTheVpc(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"production": templates(t).Production, "small": templates(t).Small} {
		vpc := cdktest.One(t, tpl, "AWS::EC2::VPC", nil).ID
		group := cdktest.One(t, tpl, "AWS::Route53Resolver::FirewallRuleGroup", nil).ID
		a := cdktest.One(t, tpl, "AWS::Route53Resolver::FirewallRuleGroupAssociation", nil)
		if refOf(a.Properties["VpcId"]) != vpc || refOf(a.Properties["FirewallRuleGroupId"]) != group {
			t.Errorf("%s: the rule group association joins %v to %v, want %s to %s", name, a.Properties["FirewallRuleGroupId"], a.Properties["VpcId"], group, vpc)
		}
		if p, _ := a.Properties["Priority"].(float64); p <= 100 || p >= 9900 {
			t.Errorf("%s: association priority %v, CloudFormation allows 101 to 9899", name, p)
		}
		config := cdktest.One(t, tpl, "AWS::Route53Resolver::ResolverQueryLoggingConfig", nil).ID
		q := cdktest.One(t, tpl, "AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation", nil)
		if refOf(q.Properties["ResourceId"]) != vpc || refOf(q.Properties["ResolverQueryLogConfigId"]) != config {
			t.Errorf("%s: query logging association %v, want config %s on VPC %s", name, q.Properties, config, vpc)
		}
	}
}

func TestDnsQueriesAreLoggedToAnEncryptedRetainedLogGroup(t *testing.T) {
	tpl := templates(t).Production
	group := cdktest.One(t, tpl, "AWS::Logs::LogGroup", map[string]any{"Properties": map[string]any{"LogGroupName": "/acme-nightfall/dns-queries"}})
	if group.Properties["KmsKeyId"] == nil {
		t.Errorf("the query log group %s is not encrypted with the logging key", group.ID)
	}
	if group.Properties["RetentionInDays"] != 365.0 || group.Raw["DeletionPolicy"] != "Retain" || group.Raw["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("the query log group keeps %v days, deletion %v, replacement %v: want 365 days, retained", group.Properties["RetentionInDays"], group.Raw["DeletionPolicy"], group.Raw["UpdateReplacePolicy"])
	}
	// The flow log group and the query log group use the same key.
	flow := cdktest.One(t, tpl, "AWS::Logs::LogGroup", map[string]any{"Properties": map[string]any{"LogGroupName": "/acme-nightfall/flow-logs"}})
	if cdktest.Text(flow.Properties["KmsKeyId"]) != cdktest.Text(group.Properties["KmsKeyId"]) {
		t.Errorf("query logs use key %s, flow logs %s: want the logging key for both", cdktest.Text(group.Properties["KmsKeyId"]), cdktest.Text(flow.Properties["KmsKeyId"]))
	}
	config := cdktest.One(t, tpl, "AWS::Route53Resolver::ResolverQueryLoggingConfig", nil)
	if got, want := cdktest.Text(config.Properties["DestinationArn"]), "arn:aws:logs:us-west-2:333333333333:log-group:/acme-nightfall/dns-queries"; got != want {
		t.Errorf("queries are logged to %s, want %s", got, want)
	}
	if !slices.Contains(cdktest.Strings(config.Raw["DependsOn"]), group.ID) {
		t.Errorf("the query logging config does not wait for its log group %s", group.ID)
	}
}

func TestAwsDomainsNameEachEndpointAndItsPrivateDnsNames(t *testing.T) {
	got := network.AwsDomains("eu-west-1", []string{"ssm", "ecr.dkr", "deadline.scheduling"}, []string{"arn:aws:s3:::acme-*-assets-555555555555-eu-west-1"})
	for _, d := range []string{
		"ssm.eu-west-1.amazonaws.com", "*.ssm.eu-west-1.amazonaws.com",
		// ACCOUNT.dkr.ecr.<region> and scheduling.deadline.<region>: the
		// service family and every name below it.
		"ecr.eu-west-1.amazonaws.com", "*.ecr.eu-west-1.amazonaws.com",
		"deadline.eu-west-1.amazonaws.com", "*.deadline.eu-west-1.amazonaws.com",
		// A bucket named by pattern has no single host name.
		"*.s3.eu-west-1.amazonaws.com",
		// A bucket named after a host is reached by that name.
		"amazonlinux.eu-west-1.amazonaws.com",
		"*.eu-west-1.compute.internal",
	} {
		if !slices.Contains(got, d) {
			t.Errorf("AwsDomains lacks %s: %v", d, got)
		}
	}
	for _, d := range got {
		if strings.Contains(d, ".amazonaws.com.") {
			t.Errorf("AwsDomains holds %s: a dotted bucket below S3's host name", d)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("AwsDomains is not sorted and unique: %v", got)
	}
	if east := network.AwsDomains("us-east-1", nil, nil); !slices.Contains(east, "*.ec2.internal") {
		t.Errorf("in us-east-1 the instances' names are under ec2.internal: %v", east)
	}
}
