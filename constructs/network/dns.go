package network

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53resolver"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// A VPC without an internet path still resolves any name on the internet:
// the Route 53 Resolver recurses on the instance's behalf, so a render node
// could carry data out inside the names it asks for (DNS tunnelling) to a
// name server its accomplice runs. The DNS Firewall closes that exit with a
// walled garden: the names the VPC legitimately resolves are allowed, and
// every other query is answered NXDOMAIN without leaving AWS. Every query
// is logged, allowed or not (ISE 2.1, 8.1).

// The DNS Firewall's rule priorities, lowest first: the block rule is last.
const (
	AllowAwsPriority    = 100
	AllowStudioPriority = 200
	BlockAllPriority    = 1000
	// FirewallAssociationPriority places the rule group first among the
	// groups a studio may add (the allowed values are 101 to 9899).
	FirewallAssociationPriority = 101
)

// DNSFirewallProps is a resolved DNS Firewall and query log for one VPC.
type DNSFirewallProps struct {
	Name  string // e.g. acme-nightfall
	VpcID *string
	// AwsDomains are the AWS names the VPC's endpoints and agents use
	// (AwsDomains). AWS answers them, so the redirections (CNAMEs) they
	// lead to are trusted.
	AwsDomains []string
	// StudioZones are the studio's own zones; each allows itself and every
	// name below it. A redirection out of them is inspected: a CNAME or
	// DNAME to a name outside the lists is blocked, so a record in a
	// studio zone cannot forward queries to the internet.
	StudioZones []string
	// LogKey encrypts the query log group (the logging key).
	LogKey   awskms.IKey
	LogGroup string
}

// DNSFirewall is the DNS Firewall and Resolver query logging of one VPC.
type DNSFirewall struct {
	constructs.Construct
	RuleGroup      awsroute53resolver.CfnFirewallRuleGroup
	Association    awsroute53resolver.CfnFirewallRuleGroupAssociation
	QueryLogGroup  awslogs.LogGroup
	QueryLogConfig awsroute53resolver.CfnResolverQueryLoggingConfig
}

// NewDNSFirewall associates a walled-garden DNS Firewall rule group with
// the VPC and logs its queries to an encrypted, retained log group.
//
// Fail mode: a VPC's DNS Firewall configuration (FirewallFailOpen) has no
// CloudFormation resource. Every VPC starts fail-closed, the service
// default, and nothing here changes it: when the firewall cannot answer,
// the Resolver answers SERVFAIL rather than letting the query through.
// That holds for every tier, Tier 3 and pools included: a fail-open
// firewall reopens the exit exactly when nobody is looking, and pools hold
// many productions' render nodes; a render job that cannot resolve a name
// for a while retries.
func NewDNSFirewall(scope constructs.Construct, id string, props DNSFirewallProps) *DNSFirewall {
	c := constructs.NewConstruct(scope, jsii.String(id))
	f := &DNSFirewall{Construct: c}
	list := func(id, suffix string, domains []string) *string {
		return awsroute53resolver.NewCfnFirewallDomainList(c, jsii.String(id), &awsroute53resolver.CfnFirewallDomainListProps{
			Name:    jsii.String(props.Name + "-" + suffix),
			Domains: jsii.Strings(domains...),
		}).AttrId()
	}
	rules := []any{&awsroute53resolver.CfnFirewallRuleGroup_FirewallRuleProperty{
		Action:                          jsii.String("ALLOW"),
		Priority:                        jsii.Number(AllowAwsPriority),
		FirewallDomainListId:            list("AwsDomains", "aws", props.AwsDomains),
		FirewallDomainRedirectionAction: jsii.String("TRUST_REDIRECTION_DOMAIN"),
	}}
	if len(props.StudioZones) > 0 {
		var studio []string
		for _, z := range props.StudioZones {
			studio = append(studio, z, "*."+z)
		}
		rules = append(rules, &awsroute53resolver.CfnFirewallRuleGroup_FirewallRuleProperty{
			Action:                          jsii.String("ALLOW"),
			Priority:                        jsii.Number(AllowStudioPriority),
			FirewallDomainListId:            list("StudioDomains", "studio", studio),
			FirewallDomainRedirectionAction: jsii.String("INSPECT_REDIRECTION_DOMAIN"),
		})
	}
	rules = append(rules, &awsroute53resolver.CfnFirewallRuleGroup_FirewallRuleProperty{
		Action:               jsii.String("BLOCK"),
		Priority:             jsii.Number(BlockAllPriority),
		FirewallDomainListId: list("AllDomains", "everything-else", []string{"*"}),
		BlockResponse:        jsii.String("NXDOMAIN"),
	})
	f.RuleGroup = awsroute53resolver.NewCfnFirewallRuleGroup(c, jsii.String("RuleGroup"), &awsroute53resolver.CfnFirewallRuleGroupProps{
		Name:          jsii.String(props.Name + "-dns-firewall"),
		FirewallRules: rules,
	})
	f.Association = awsroute53resolver.NewCfnFirewallRuleGroupAssociation(c, jsii.String("Association"), &awsroute53resolver.CfnFirewallRuleGroupAssociationProps{
		Name:                jsii.String(props.Name + "-dns-firewall"),
		FirewallRuleGroupId: f.RuleGroup.AttrId(),
		VpcId:               props.VpcID,
		Priority:            jsii.Number(FirewallAssociationPriority),
	})

	// Resolver query logs are vended logs, written by
	// delivery.logs.amazonaws.com. When the association is created, the
	// service gives the log group the resource policy it needs
	// (logs:CreateLogStream and logs:PutLogEvents on this group's streams,
	// for aws:SourceAccount this account and aws:SourceArn its log
	// deliveries) at the log group's level. A policy declared here would be
	// an account-level AWS::Logs::ResourcePolicy, of which an account holds
	// at most 10 per region: a shared account with many production VPCs
	// would run out. The deployer therefore needs logs:PutResourcePolicy,
	// logs:DescribeResourcePolicies and logs:DescribeLogGroups.
	f.QueryLogGroup = evidenceLogGroup(c, "QueryLogGroup", props.LogGroup, props.LogKey)
	// The group's ARN without the ":*" that its Arn attribute carries.
	arn := awscdk.Stack_Of(c).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("logs"),
		Resource:     jsii.String("log-group"),
		ResourceName: jsii.String(props.LogGroup),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	f.QueryLogConfig = awsroute53resolver.NewCfnResolverQueryLoggingConfig(c, jsii.String("QueryLogConfig"), &awsroute53resolver.CfnResolverQueryLoggingConfigProps{
		Name:           jsii.String(props.Name + "-dns-queries"),
		DestinationArn: arn,
	})
	f.QueryLogConfig.Node().AddDependency(f.QueryLogGroup)
	awsroute53resolver.NewCfnResolverQueryLoggingConfigAssociation(c, jsii.String("QueryLogAssociation"), &awsroute53resolver.CfnResolverQueryLoggingConfigAssociationProps{
		ResolverQueryLogConfigId: f.QueryLogConfig.AttrId(),
		ResourceId:               props.VpcID,
	})
	return f
}

// AwsDomains are the AWS names a production VPC in region resolves, and no
// others: each interface endpoint's service name and the private-DNS names
// it answers, S3 for the buckets the gateway endpoint admits (bucketArns,
// then the AWS-owned buckets of SSM Agent, patching and the Amazon Linux
// repositories), and the instances' own host names. Every one of them is
// answered by AWS (an endpoint's private hosted zone, S3's or the VPC's own
// DNS), never by a name server someone else runs.
func AwsDomains(region string, endpoints, bucketArns []string) []string {
	aws := func(name string) string { return fmt.Sprintf("%s.%s.amazonaws.com", name, region) }
	var out []string
	for _, svc := range endpoints {
		// com.amazonaws.<region>.<svc> answers <svc>.<region>.amazonaws.com.
		// A service of several parts answers names of its family, each in
		// its own shape: ecr.api api.ecr.<region>..., ecr.dkr
		// <account>.dkr.ecr.<region>..., deadline.scheduling
		// scheduling.deadline.<region>..., codeartifact.repositories
		// <domain>.d.codeartifact.<region>... So the family's name and every
		// name below it are allowed: all of them are AWS's, answered by the
		// endpoint's private hosted zone or by AWS's name servers.
		family, _, _ := strings.Cut(svc, ".")
		out = append(out, aws(family), "*."+aws(family))
	}
	// S3 through the gateway endpoint: path-style requests name the
	// regional endpoint, virtual-hosted ones the bucket below it, on the
	// IPv4 and the dual-stack endpoints (the Amazon Linux repositories use
	// the latter).
	s3 := []string{aws("s3"), aws("s3.dualstack")}
	out = append(out, s3...)
	for _, arn := range append(slices.Clone(bucketArns), AwsOwnedBuckets(region)...) {
		bucket := strings.TrimSuffix(strings.TrimPrefix(arn, "arn:aws:s3:::"), "/*")
		for _, host := range s3 {
			switch {
			case strings.Contains(bucket, "*"):
				// A bucket named by pattern (a pool's productions) has no
				// single host name; the gateway endpoint's policy still
				// admits only the pattern's buckets.
				out = append(out, "*."+host)
			case strings.Contains(bucket, "."):
				// A bucket named after a host (amazonlinux.<region>.amazonaws.com)
				// is reached by that name, or path-style: a dotted bucket
				// below S3's host would fail TLS.
				out = append(out, bucket)
			default:
				out = append(out, bucket+"."+host)
			}
		}
	}
	// The instances' own names, which the VPC's DNS answers.
	if region == "us-east-1" {
		out = append(out, "*.ec2.internal")
	} else {
		out = append(out, "*."+region+".compute.internal")
	}
	slices.Sort(out)
	return slices.Compact(out)
}
