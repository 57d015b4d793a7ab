package estate

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/keys"

	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/constructs/network"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
)

// logging builds the log-archive account's stack: the central trail.
func (b *builder) logging(resolved []manifest.Resolved) awscdk.Stack {
	s := b.studio
	st := b.stack("shared", b.names.LoggingStack(), s.LogArchive(), s.Region,
		s.Studio+" central audit trail, its encrypted bucket and the security alarms (ISE 5.3, 8.1, 9.4)",
		b.sharedTags(tagging.Logging))
	props := audit.CentralProps{
		Studio:              s.Studio,
		Account:             s.LogArchive(),
		Region:              s.Region,
		OrganizationID:      s.OrganizationID,
		OrganizationOwner:   s.OrganizationOwner(),
		AlertEmails:         s.Alerts.Emails,
		KeyAlias:            b.names.LoggingKeyAlias(),
		BucketName:          b.names.TrailBucket(),
		AccessLogBucketName: b.names.TrailAccessLogBucket(),
		TrailName:           b.names.TrailName(),
	}
	if s.OrganizationID != "" {
		// One selector covers every asset bucket of the studio in every
		// account; only Tier 3 productions that turned data events off
		// are carved out.
		props.DataEvents.StartsWith = []string{fmt.Sprintf("arn:aws:s3:::%s-", s.Studio)}
		props.DataEvents.NotStartsWith = []string{
			fmt.Sprintf("arn:aws:s3:::%s-audit-", s.Studio),
			fmt.Sprintf("arn:aws:s3:::%s-s3logs-", s.Studio),
		}
		for _, r := range resolved {
			if !r.S3DataEvents {
				props.DataEvents.NotStartsWith = append(props.DataEvents.NotStartsWith, "arn:aws:s3:::"+b.names.AssetBucket(r)+"/")
			}
		}
	} else {
		// Outside an organization each production account, and the
		// management account, runs its own trail into this bucket.
		props.TrailAccounts = b.productionAccounts(resolved)
		if s.ManagementAccount != s.LogArchive() {
			props.TrailAccounts = append([]string{s.ManagementAccount}, props.TrailAccounts...)
		}
	}
	central := audit.NewCentral(st, "Audit", props)
	b.auditReader(st, central)
	return st
}

// auditReader is the role auditors and the security team assume to read the
// central trail: its log files (decrypted through S3 only) and its log
// group. It can change and delete nothing (ISE 8.1, 9.4).
func (b *builder) auditReader(st awscdk.Stack, central *audit.Central) {
	s := b.studio
	name := s.Studio + "-audit-reader"
	reader := access.NewHumanRole(st, "AuditReader", access.HumanRoleProps{
		Name:           name,
		Purpose:        s.Studio + ": reads the central audit trail; can change nothing",
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
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
	central.Key.AllowDecryptVia("AuditReaderDecryptsThroughS3", []string{keys.RoleArn(s.LogArchive(), name)}, fmt.Sprintf("s3.%s.amazonaws.com", s.Region))
	tagging.Group(reader, tagging.Security)
}

// network builds the management account's stack: the hub.
func (b *builder) network(resolved []manifest.Resolved) awscdk.Stack {
	s := b.studio
	st := b.stack("shared", b.names.NetworkStack(), s.ManagementAccount, s.Region,
		s.Studio+" management VPC (the only internet egress, for license servers) and the Transit Gateway that joins productions to management and on-premises, never to each other (ISE 2.1 to 2.8)",
		b.sharedTags(tagging.Network))
	keys := b.networkLoggingKey(st)
	props := network.HubProps{
		Studio:             s.Studio,
		Account:            s.ManagementAccount,
		Region:             s.Region,
		Cidr:               s.ManagementVpcCidr,
		Zones:              manifest.Zones(s.AvailabilityZones, s.Region),
		Asn:                s.TransitGatewayAsn,
		OnPrem:             s.OnPremises.Cidrs,
		PrivateRanges:      manifest.PrivateRanges,
		ShareWith:          b.shareWith(resolved),
		InsideOrganization: s.OrganizationID != "",
		FlowLogKey:         keys,
		FlowLogGroup:       "/" + s.Studio + "/management/flow-logs",
		Parameters:         b.names.Parameters(),
	}
	if v := s.OnPremises.Vpn; v != nil {
		props.Vpn = &network.Vpn{CustomerGatewayIP: v.CustomerGatewayIP.String(), BgpAsn: v.BgpAsn}
	}
	for _, l := range s.LicenseServers {
		props.LicenseServers = append(props.LicenseServers, network.LicenseServer{Name: l.Name, Cidr: l.Cidr, Port: int(l.Port)})
	}
	for _, p := range s.Scheduler.Ports {
		props.SchedulerPorts = append(props.SchedulerPorts, int(p))
	}
	props.WorkerPorts = ints(s.Scheduler.WorkerPorts)
	if s.OrganizationID != "" {
		props.EndpointCondition = map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": s.OrganizationID}}
	} else {
		accounts := append([]string{s.ManagementAccount}, b.productionAccounts(resolved)...)
		props.EndpointCondition = map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": accounts}}
	}
	hub := network.NewHub(st, "Hub", props)
	tagging.Group(hub.Construct, tagging.Network)
	if b.ownTrail(s.ManagementAccount) {
		// Without an organization trail the management account records
		// its own activity (the hub, the Transit Gateway, the link stacks)
		// into the central bucket, as each production account does.
		name := s.Studio + "-management"
		b.accountTrail(st, name, s.ManagementAccount, s.Region, "/"+s.Studio+"/management/cloudtrail", keys, audit.DataEvents{})
	}
	return st
}

// networkLoggingKey is the management account's logging key, for the
// management VPC's flow logs, with a log reader who cannot read anything else.
func (b *builder) networkLoggingKey(st awscdk.Stack) awskms.IKey {
	s := b.studio
	reader := s.Studio + "-management-log-reader"
	set := keys.NewKeySet(st, "Keys", keys.KeySetProps{
		AliasPrefix: b.names.Studio + "/management",
		Owner:       b.names.NetworkStack(),
		Account:     s.ManagementAccount,
		Region:      s.Region,
		Purposes:    []keys.Purpose{keys.Logging},
		LogReaders:  []string{keys.RoleArn(s.ManagementAccount, reader)},
		AlarmTopics: b.ownTrail(s.ManagementAccount),
	})
	tagging.Group(access.NewHumanRole(st, "LogReader", access.HumanRoleProps{
		Name:           reader,
		Purpose:        s.Studio + " management: reads the management VPC's flow logs",
		TrustedAccount: s.ManagementAccount,
		SourceCidrs:    strs(s.AdminSourceCidrs),
	}), tagging.Security)
	return set[keys.Logging].Key
}

// ownTrail says whether an account records its activity with a trail of its
// own: outside an organization, every account but the log archive, whose
// central trail already records it.
func (b *builder) ownTrail(account string) bool {
	return b.studio.OrganizationID == "" && account != b.studio.LogArchive()
}

// shareWith is who the Transit Gateway is shared with: the organization when
// there is one (so a new account changes nothing here), else each account
// that holds productions.
func (b *builder) shareWith(resolved []manifest.Resolved) []string {
	if arn := b.studio.OrganizationArn(); arn != "" {
		return []string{arn}
	}
	return b.productionAccounts(resolved)
}
