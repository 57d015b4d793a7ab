// Package audit creates the central, encrypted, validated trail and the
// alarms on it (ISE 5.3, 8.1, 9.4, 10.11): every API call and the asset
// buckets' data events land in the log-archive account, where nobody in a
// production can erase them.
package audit

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/storage"
)

// DataEvents selects the S3 objects whose reads and writes the trail records
// by ARN prefix, so that one selector covers every asset bucket of the studio
// however many there are.
type DataEvents struct {
	StartsWith    []string
	NotStartsWith []string
}

// CentralProps configures the log-archive side.
type CentralProps struct {
	Studio  string
	Account string
	Region  string
	// OrganizationID makes the trail an organization trail.
	OrganizationID string
	// OrganizationOwner is the organization's management account. It owns
	// an organization trail even when a delegated administrator (the log
	// archive account) creates it, so the trail's ARN names it.
	OrganizationOwner string
	// TrailAccounts deliver their own trails here (productions outside an
	// organization trail).
	TrailAccounts []string
	DataEvents    DataEvents
	AlertEmails   []string
	// RetentionDays locks every log object of the trail bucket (Object Lock,
	// COMPLIANCE mode).
	RetentionDays int
	// KeyAdmins administer the logging key (keys.KeyProps.Admins).
	KeyAdmins []string
	// KeyAlias, BucketName and TrailName are fixed so production accounts
	// can name them.
	KeyAlias, BucketName, AccessLogBucketName, TrailName string
	// Archive, when set, adds the bucket that keeps the copies of the logs
	// other accounts also keep themselves (flow logs, sessions).
	Archive *ArchiveProps
}

// ArchiveProps is the log-archive bucket: the copies of VPC flow logs and
// Session Manager sessions that the production accounts' administrators,
// who can delete their own log groups, cannot touch (ISE 8.1).
//
// Its policies hold no statement per production: a writer is admitted by
// its organization or account, and keyed to its own prefix by policy
// variables, so the logging stack stays the same size as productions come
// and go, well under S3's 20 KB bucket-policy limit.
type ArchiveProps struct {
	// BucketName is fixed, so that stacks of other accounts name it without
	// a cross-stack reference.
	BucketName string
	// FlowLogPrefix is where VPC Flow Logs delivers (it adds
	// AWSLogs/<account>/vpcflowlogs/...); each account's deliveries land
	// under their own AWSLogs/<account>/ only.
	FlowLogPrefix string
	// OrganizationID, when the studio has one, admits the organization's
	// accounts (a new account changes nothing here); else Accounts does.
	OrganizationID string
	// Accounts are the accounts whose VPCs and render nodes write here,
	// outside an organization.
	Accounts []string
	// SessionPrefix is where sessions go: a render role writes only under
	// SessionPrefix<its account>/<its Production tag>/.
	SessionPrefix string
	// RenderRole is the name of every production's render role, with
	// RenderRoleProduction where the production goes: the role writing
	// sessions must bear the name of the production its tag names.
	RenderRole string
}

// RenderRoleProduction stands for the production in ArchiveProps.RenderRole.
const RenderRoleProduction = "{production}"

// Central is the logging key, trail bucket, trail, log group and alarms.
type Central struct {
	constructs.Construct
	Key    *keys.Key
	Bucket awss3.Bucket
	// Archive is the log-archive bucket, nil without CentralProps.Archive.
	Archive  awss3.Bucket
	Trail    awscloudtrail.CfnTrail
	LogGroup awslogs.LogGroup
	Topic    awssns.Topic
}

// NewCentral creates the central audit trail.
func NewCentral(scope constructs.Construct, id string, props CentralProps) *Central {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Central{Construct: c}
	trailArn := TrailArn(props.Region, props.Account, props.TrailName)
	writers := []string{trailArn}
	contexts := []string{fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", props.Account)}
	prefixes := []string{fmt.Sprintf("AWSLogs/%s/*", props.Account)}
	if props.OrganizationID != "" {
		prefixes = append(prefixes, fmt.Sprintf("AWSLogs/%s/*", props.OrganizationID))
		if o := props.OrganizationOwner; o != "" && o != props.Account {
			writers = append(writers, TrailArn(props.Region, o, props.TrailName))
			contexts = append(contexts, fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", o))
			prefixes = append(prefixes, fmt.Sprintf("AWSLogs/%s/*", o))
		}
	}
	// Only the central trail delivers to the central log group.
	central := append([]string(nil), writers...)
	for _, acct := range props.TrailAccounts {
		writers = append(writers, fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s-*", props.Region, acct, props.Studio))
		contexts = append(contexts, fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", acct))
		prefixes = append(prefixes, fmt.Sprintf("AWSLogs/%s/*", acct))
	}

	a.Key = keys.NewKey(c, "LoggingKey", keys.KeyProps{
		Alias:       props.KeyAlias,
		Description: props.Studio + " central audit logging key: CloudTrail, its log group and alarm topic",
		Account:     props.Account,
		Admins:      props.KeyAdmins,
	})
	a.Key.AllowService("CloudTrailEncryptsLogs", "cloudtrail.amazonaws.com", []string{"kms:GenerateDataKey*"}, map[string]any{
		"StringLike": map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": contexts},
		"ArnLike":    map[string]any{"aws:SourceArn": writers},
	})
	a.Key.AllowService("CloudTrailDescribesKey", "cloudtrail.amazonaws.com", []string{"kms:DescribeKey"}, map[string]any{
		"ArnLike": map[string]any{"aws:SourceArn": writers},
	})
	a.Key.AllowLogs(props.Region)
	a.Key.AllowAlarms(props.Account)

	logs := storage.NewAccessLogBucket(c, "AccessLogs", props.AccessLogBucketName)
	// Audit logs cannot be overwritten or deleted for the retention period
	// by anyone, the log-archive account's root included: COMPLIANCE mode
	// cannot be shortened or bypassed, where GOVERNANCE yields to
	// s3:BypassGovernanceRetention (ISE 8.1, 9.4).
	a.Bucket = lockedBucket(c, "TrailBucket", props.BucketName, a.Key.Key, logs, "trail/", props.RetentionDays)
	cloudtrail := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), nil)}
	a.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudTrailAclCheck"),
		Principals: cloudtrail,
		Actions:    jsii.Strings("s3:GetBucketAcl"),
		Resources:  &[]*string{a.Bucket.BucketArn()},
		Conditions: &map[string]any{"ArnLike": map[string]any{"aws:SourceArn": writers}},
	}))
	var objects []*string
	for _, p := range prefixes {
		objects = append(objects, a.Bucket.ArnForObjects(jsii.String(p)))
	}
	a.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudTrailWritesOnlyFromTheStudiosTrails"),
		Principals: cloudtrail,
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &objects,
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": writers},
			"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"},
		},
	}))

	if props.Archive != nil {
		a.Archive = newArchive(c, a.Key, logs, props)
	}

	mon := newMonitor(c, MonitorProps{
		Prefix:       props.Studio,
		Account:      props.Account,
		Region:       props.Region,
		TrailName:    props.TrailName,
		TrailArns:    central,
		LogGroupName: "/" + props.Studio + "/cloudtrail",
		Key:          a.Key.Key,
		AlertEmails:  props.AlertEmails,
	})
	a.LogGroup, a.Topic = mon.LogGroup, mon.Topic
	role := mon.Role

	a.Trail = NewTrail(c, "Trail", TrailProps{
		Name:         props.TrailName,
		Bucket:       a.Bucket.BucketName(),
		KeyArn:       a.Key.Key.KeyArn(),
		Organization: props.OrganizationID != "",
		DataEvents:   props.DataEvents,
		LogGroupArn:  a.LogGroup.LogGroupArn(),
		LogsRoleArn:  role.RoleArn(),
	})
	a.Trail.Node().AddDependency(a.Bucket.Policy(), role)
	return a
}

// TrailProps is one trail.
type TrailProps struct {
	Name         string
	Bucket       *string
	KeyArn       *string
	Organization bool
	DataEvents   DataEvents
	// LogGroupArn and LogsRoleArn, when set, also deliver to CloudWatch Logs.
	LogGroupArn, LogsRoleArn *string
}

// NewTrail creates a multi-region trail with global service events and log
// file validation, encrypted with the logging key.
func NewTrail(scope constructs.Construct, id string, props TrailProps) awscloudtrail.CfnTrail {
	type field = awscloudtrail.CfnTrail_AdvancedFieldSelectorProperty
	selectors := []any{&awscloudtrail.CfnTrail_AdvancedEventSelectorProperty{
		Name:           jsii.String("Management events"),
		FieldSelectors: []any{&field{Field: jsii.String("eventCategory"), EqualTo: jsii.Strings("Management")}},
	}}
	if len(props.DataEvents.StartsWith) > 0 {
		arn := &field{Field: jsii.String("resources.ARN"), StartsWith: jsii.Strings(props.DataEvents.StartsWith...)}
		if len(props.DataEvents.NotStartsWith) > 0 {
			arn.NotStartsWith = jsii.Strings(props.DataEvents.NotStartsWith...)
		}
		selectors = append(selectors, &awscloudtrail.CfnTrail_AdvancedEventSelectorProperty{
			Name: jsii.String("Asset bucket data events (ISE 5.3)"),
			FieldSelectors: []any{
				&field{Field: jsii.String("eventCategory"), EqualTo: jsii.Strings("Data")},
				&field{Field: jsii.String("resources.type"), EqualTo: jsii.Strings("AWS::S3::Object")},
				arn,
			},
		})
	}
	return awscloudtrail.NewCfnTrail(scope, jsii.String(id), &awscloudtrail.CfnTrailProps{
		TrailName:                  jsii.String(props.Name),
		IsLogging:                  jsii.Bool(true),
		S3BucketName:               props.Bucket,
		KmsKeyId:                   props.KeyArn,
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableLogFileValidation:    jsii.Bool(true),
		IsOrganizationTrail:        jsii.Bool(props.Organization),
		CloudWatchLogsLogGroupArn:  props.LogGroupArn,
		CloudWatchLogsRoleArn:      props.LogsRoleArn,
		AdvancedEventSelectors:     selectors,
	})
}

// lockedBucket is a bucket of audit logs: encrypted with key, versioned,
// TLS only, public access blocked, ACLs off, its access logged to logs
// under prefix, retained, every object locked in COMPLIANCE mode for
// retentionDays, moved to Glacier after 90 days.
func lockedBucket(c constructs.Construct, id, name string, key awskms.IKey, logs awss3.IBucket, prefix string, retentionDays int) awss3.Bucket {
	props := storage.HardenedProps(name, key, logs, prefix, &[]*awss3.LifecycleRule{{
		Id: jsii.String("archive"),
		Transitions: &[]*awss3.Transition{{
			StorageClass:    awss3.StorageClass_GLACIER(),
			TransitionAfter: awscdk.Duration_Days(jsii.Number(90)),
		}},
	}})
	props.ObjectLockEnabled = jsii.Bool(true)
	props.ObjectLockDefaultRetention = awss3.ObjectLockRetention_Compliance(awscdk.Duration_Days(jsii.Number(float64(retentionDays))))
	return awss3.NewBucket(c, jsii.String(id), props)
}
