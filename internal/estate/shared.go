package estate

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/render"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// SharedStackProps describe a studio-wide stack. Productions is the whole
// estate, whatever a selective synthesis builds: the shared stacks name the
// accounts that share the Transit Gateway and deliver trails, so a
// selective deploy of them must not drop the others.
type SharedStackProps struct {
	Studio      *manifest.Studio
	Names       Names
	Productions []manifest.Resolved
}

// LoggingStack is the log-archive account's stack: the central trail.
type LoggingStack struct {
	awscdk.Stack
	Central *audit.Central
}

// NewLoggingStack creates the central trail, its bucket, log group, alarms
// and the audit reader role.
func NewLoggingStack(scope constructs.Construct, props SharedStackProps) *LoggingStack {
	s, n := props.Studio, props.Names
	st := NewEstateStack(scope, StackProps{
		Studio: s, Name: n.LoggingStack(), Account: s.LogArchive(), Region: s.Region,
		Description: s.Studio + " central audit trail, its encrypted bucket and the security alarms (ISE 5.3, 8.1, 9.4)",
		Tags:        sharedTags(tagging.Logging),
	})
	central := audit.NewCentral(st, "Audit", centralProps(props))
	newAuditReader(st, s, n, central)
	return &LoggingStack{Stack: st, Central: central}
}

// centralProps configures the central trail: an organization trail whose one
// selector covers every asset bucket of the studio, or a trail of the
// log-archive account that the other accounts' trails deliver beside.
func centralProps(props SharedStackProps) audit.CentralProps {
	s, n := props.Studio, props.Names
	c := audit.CentralProps{
		Studio:              s.Studio,
		Account:             s.LogArchive(),
		Region:              s.Region,
		OrganizationID:      s.OrganizationID,
		OrganizationOwner:   s.OrganizationOwner(),
		AlertEmails:         s.Alerts.Emails,
		KeyAlias:            n.LoggingKeyAlias(),
		BucketName:          n.TrailBucket(),
		AccessLogBucketName: n.TrailAccessLogBucket(),
		TrailName:           n.TrailName(),
		KeyAdmins:           keyAdmins(s, s.LogArchive(), s.Region),
		RetentionDays:       s.TrailRetention(),
		Archive:             archiveProps(props),
	}
	if s.OrganizationID == "" {
		// Outside an organization each production account, and the
		// management account, runs its own trail into this bucket.
		c.TrailAccounts = append(productionAccounts(s, props.Productions), exchangeAccounts(s, props.Productions)...)
		if s.ManagementAccount != s.LogArchive() {
			c.TrailAccounts = append([]string{s.ManagementAccount}, c.TrailAccounts...)
		}
		return c
	}
	// Only Tier 3 productions that turned data events off are carved out.
	c.DataEvents.StartsWith = []string{fmt.Sprintf("arn:aws:s3:::%s-", s.Studio)}
	c.DataEvents.NotStartsWith = []string{
		fmt.Sprintf("arn:aws:s3:::%s-audit-", s.Studio),
		fmt.Sprintf("arn:aws:s3:::%s-s3logs-", s.Studio),
	}
	for _, r := range props.Productions {
		if !r.S3DataEvents {
			c.DataEvents.NotStartsWith = append(c.DataEvents.NotStartsWith, "arn:aws:s3:::"+n.AssetBucket(r.Name, r.Account, r.Region)+"/")
		}
	}
	return c
}

// hasLogArchive says whether the studio has a log-archive account of its
// own. Without one the logging stack lives in the management account, and
// a copy there would be as deletable as the logs it copies: production
// accounts keep their flow logs and sessions locally only, and the
// evidence pack says so.
func hasLogArchive(s *manifest.Studio) bool {
	return s.LogArchive() != s.ManagementAccount
}

// archiveProps is the log-archive bucket for the copies of every VPC's
// flow logs (management, pools, productions) and every production's
// sessions, or nil without a log-archive account.
func archiveProps(props SharedStackProps) *audit.ArchiveProps {
	s, n := props.Studio, props.Names
	if !hasLogArchive(s) {
		return nil
	}
	a := &audit.ArchiveProps{
		BucketName:     n.LogArchiveBucket(),
		FlowLogPrefix:  names.FlowLogPrefix,
		OrganizationID: s.OrganizationID,
		SessionPrefix:  names.SessionsPrefix,
		RenderRole:     names.Role(n.ProductionStack(audit.RenderRoleProduction), names.Render),
	}
	if s.OrganizationID == "" {
		a.Accounts = append([]string{s.ManagementAccount}, productionAccounts(s, props.Productions)...)
	}
	return a
}

// flowLogArchive is where every VPC copies its flow logs: the log-archive
// bucket, or nowhere without a log-archive account.
func flowLogArchive(s *manifest.Studio, n Names) network.ArchiveFlowLogs {
	if !hasLogArchive(s) {
		return network.ArchiveFlowLogs{}
	}
	return network.ArchiveFlowLogs{Bucket: n.LogArchiveBucket(), Prefix: names.FlowLogPrefix}
}

// newAuditReader is the role auditors and the security team assume to read
// the central trail: its log files (decrypted through S3 only) and its log
// group. It can change and delete nothing (ISE 8.1, 9.4).
func newAuditReader(st awscdk.Stack, s *manifest.Studio, n Names, central *audit.Central) {
	name := n.AuditReader()
	reader := access.NewHumanRole(st, "AuditReader", access.HumanRoleProps{
		Name:           name,
		Purpose:        s.Studio + ": reads the central audit trail; can change nothing",
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
		People:         principals(s, s.Auditors()),
	})
	reader.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadTrailLogFiles"),
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"),
		Resources: &[]*string{central.Bucket.BucketArn(), central.Bucket.ArnForObjects(jsii.String("*"))},
	}))
	reader.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadTrailLogGroup"),
		Actions:   jsii.Strings("logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:StartQuery", "logs:GetQueryResults"),
		Resources: &[]*string{central.LogGroup.LogGroupArn()},
	}))
	reader.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecryptTrailLogFiles"),
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: &[]*string{central.Key.Key.KeyArn()},
	}))
	central.Key.AllowDecryptVia("AuditReaderDecryptsThroughS3", []string{names.RoleArn(s.LogArchive(), name)}, fmt.Sprintf("s3.%s.amazonaws.com", s.Region))
	tagging.Group(reader, tagging.Security)
}

// NetworkStack is the management account's stack: the hub.
type NetworkStack struct {
	awscdk.Stack
	Hub *network.Hub
}

// NewNetworkStack creates the management VPC, the Transit Gateway and its
// sharing, and, outside an organization, the management account's trail.
func NewNetworkStack(scope constructs.Construct, props SharedStackProps, logging awscdk.Stack) *NetworkStack {
	s, n := props.Studio, props.Names
	st := NewEstateStack(scope, StackProps{
		Studio: s, Name: n.NetworkStack(), Account: s.ManagementAccount, Region: s.Region,
		Description: s.Studio + " management VPC (the only internet egress, for license servers) and the Transit Gateway that joins productions to management and on-premises, never to each other (ISE 2.1 to 2.8)",
		Tags:        sharedTags(tagging.Network),
	})
	logKey := newManagementLoggingKey(st, s, n)
	hub := network.NewHub(st, "Hub", hubProps(props, logKey))
	tagging.Group(hub.Construct, tagging.Network)
	newSchedulerRole(st, s, n)
	if hasLogArchive(s) {
		dependsOn(st, logging, "copies the management VPC's flow logs to the log-archive bucket")
	}
	if ownTrail(s, s.ManagementAccount) {
		// Without an organization trail the management account records
		// its own activity (the hub, the Transit Gateway, the link stacks)
		// into the central bucket, as each production account does.
		newAccountTrail(st, accountTrailProps{
			Studio: s, Names: n, Name: s.Studio + "-management", Account: s.ManagementAccount, Region: s.Region,
			LogGroup: "/" + s.Studio + "/management/cloudtrail", Key: logKey, Logging: logging,
		})
	}
	return &NetworkStack{Stack: st, Hub: hub}
}

// newSchedulerRole is the role the render scheduler runs as on its
// instances in the management application tier (instance profile
// <studio>-scheduler): the one principal every production's launcher
// trusts besides scheduler.launchers. It may assume the launchers and
// nothing else; a scheduler that runs elsewhere (on premises) is named in
// scheduler.launchers instead.
func newSchedulerRole(st awscdk.Stack, s *manifest.Studio, n Names) {
	launchers := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeLaunchersOnly"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings("arn:aws:iam::*:role/" + names.Role(s.Studio+"-*", names.Launcher)),
	})
	// The most the scheduler's instances may ever do, whatever policy the
	// studio attaches to the role later: assume launchers, and be managed
	// through Session Manager.
	boundary := awsiam.NewManagedPolicy(st, jsii.String("SchedulerBoundary"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String(n.Scheduler() + "-boundary"),
		Description:       jsii.String(s.Studio + ": the most the render scheduler may ever do"),
		Statements: &[]awsiam.PolicyStatement{launchers, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SessionManager"),
			Actions:   jsii.Strings(render.SessionManagerActions...),
			Resources: jsii.Strings("*"),
		})},
	})
	role := awsiam.NewRole(st, jsii.String("Scheduler"), &awsiam.RoleProps{
		RoleName:            jsii.String(n.Scheduler()),
		Description:         jsii.String(s.Studio + ": the render scheduler; assumes the productions' launcher roles only"),
		AssumedBy:           awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		MaxSessionDuration:  awscdk.Duration_Hours(jsii.Number(1)),
		PermissionsBoundary: boundary,
	})
	render.KeepBoundary(role, boundary)
	role.AddToPolicy(launchers)
	awsiam.NewCfnInstanceProfile(st, jsii.String("SchedulerProfile"), &awsiam.CfnInstanceProfileProps{
		InstanceProfileName: jsii.String(n.Scheduler()),
		Roles:               &[]any{role.RoleName()},
	})
	tagging.Group(role, tagging.ApplicationInstance)
}

// hubProps configures the management VPC and the Transit Gateway.
func hubProps(props SharedStackProps, logKey awskms.IKey) network.HubProps {
	s, n := props.Studio, props.Names
	h := network.HubProps{
		Studio:             s.Studio,
		Account:            s.ManagementAccount,
		Region:             s.Region,
		Cidr:               s.ManagementVpcCidr,
		Zones:              manifest.Zones(s.AvailabilityZones, s.Region),
		Asn:                s.TransitGatewayAsn,
		OnPrem:             s.OnPremises.Cidrs,
		PrivateRanges:      manifest.PrivateRanges,
		ShareWith:          shareWith(s, props.Productions),
		InsideOrganization: s.OrganizationID != "",
		FlowLogKey:         logKey,
		FlowLogGroup:       "/" + s.Studio + "/management/flow-logs",
		FlowLogArchive:     flowLogArchive(s, n),
		Parameters:         n.Parameters(),
		SchedulerPorts:     ints(s.Scheduler.Ports),
		WorkerPorts:        ints(s.Scheduler.WorkerPorts),
	}
	if v := s.OnPremises.Vpn; v != nil {
		h.Vpn = &network.Vpn{CustomerGatewayIP: v.CustomerGatewayIP.String(), BgpAsn: v.BgpAsn}
	}
	for _, l := range s.LicenseServers {
		h.LicenseServers = append(h.LicenseServers, network.LicenseServer{Name: l.Name, Cidr: l.Cidr, Port: int(l.Port)})
	}
	// The scheduler and the people of the management account work on the
	// studio's accounts (assuming production roles, say), never others.
	if s.OrganizationID != "" {
		h.Endpoints = network.Perimeter{
			Principals: map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": s.OrganizationID}},
			Resources:  map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": s.OrganizationID}},
		}
	} else {
		accounts := append([]string{s.ManagementAccount}, productionAccounts(s, props.Productions)...)
		resources := accounts
		if s.LogArchive() != s.ManagementAccount {
			resources = append(slices.Clone(accounts), s.LogArchive())
		}
		h.Endpoints = network.Perimeter{
			Principals: map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": accounts}},
			Resources:  map[string]any{"StringEquals": map[string]any{"aws:ResourceAccount": resources}},
		}
	}
	return h
}

// newManagementLoggingKey is the management account's logging key, for the
// management VPC's flow logs, with a log reader who cannot read anything
// else.
func newManagementLoggingKey(st awscdk.Stack, s *manifest.Studio, n Names) awskms.IKey {
	reader := n.ManagementLogReader()
	set := keys.NewKeySet(st, "Keys", keys.KeySetProps{
		AliasPrefix: n.Studio + "/management",
		Owner:       n.NetworkStack(),
		Account:     s.ManagementAccount,
		Region:      s.Region,
		Purposes:    []keys.Purpose{keys.Logging},
		LogReaders:  []string{names.RoleArn(s.ManagementAccount, reader)},
		AlarmTopics: ownTrail(s, s.ManagementAccount),
		Admins:      keyAdmins(s, s.ManagementAccount, s.Region),
	})
	tagging.Group(access.NewHumanRole(st, "LogReader", access.HumanRoleProps{
		Name:           reader,
		Purpose:        s.Studio + " management: reads the management VPC's flow logs",
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
		People:         principals(s, s.Auditors()),
	}), tagging.Security)
	return set[keys.Logging].Key
}

// shareWith is who the Transit Gateway is shared with: the organization when
// there is one (so a new account changes nothing here), else each account
// that holds productions.
func shareWith(s *manifest.Studio, resolved []manifest.Resolved) []string {
	if arn := s.OrganizationArn(); arn != "" {
		return []string{arn}
	}
	return productionAccounts(s, resolved)
}

// productionAccounts are the accounts that hold productions or pools,
// excluding the management account itself.
func productionAccounts(s *manifest.Studio, resolved []manifest.Resolved) []string {
	set := map[string]bool{}
	for _, r := range resolved {
		if r.Account != s.ManagementAccount {
			set[r.Account] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
