package audit_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/internal/cdktest"
)

// ids are the logical ids of the central trail's parts.
type ids struct {
	Key, Bucket, AccessLogs, LogGroup, Topic, Role string
}

func find(t *testing.T, tpl assertions.Template) ids {
	t.Helper()
	bucket := func(name string) string {
		return cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": name}}).ID
	}
	p := props(true)
	return ids{
		Key:        cdktest.One(t, tpl, "AWS::KMS::Key", nil).ID,
		Bucket:     bucket(p.BucketName),
		AccessLogs: bucket(p.AccessLogBucketName),
		LogGroup:   cdktest.One(t, tpl, "AWS::Logs::LogGroup", nil).ID,
		Topic:      cdktest.One(t, tpl, "AWS::SNS::Topic", nil).ID,
		Role:       cdktest.One(t, tpl, "AWS::IAM::Role", nil).ID,
	}
}

func TestCentralTrailIsMultiRegionValidatedEncryptedAndSentToLogs(t *testing.T) {
	for name, tc := range map[string]struct {
		tpl assertions.Template
		org bool
	}{"organization": {templates(t).Org, true}, "no organization": {templates(t).Plain, false}} {
		t.Run(name, func(t *testing.T) {
			id := find(t, tc.tpl)
			cdktest.Count(t, tc.tpl, "AWS::CloudTrail::Trail", 1)
			cdktest.HasProperties(t, tc.tpl, "AWS::CloudTrail::Trail", map[string]any{
				"TrailName":                  trailName,
				"IsLogging":                  true,
				"IsMultiRegionTrail":         true,
				"IncludeGlobalServiceEvents": true,
				"EnableLogFileValidation":    true,
				"IsOrganizationTrail":        tc.org,
				"KMSKeyId":                   cdktest.GetAtt(id.Key, "Arn"),
				"S3BucketName":               cdktest.Ref(id.Bucket),
				"CloudWatchLogsLogGroupArn":  cdktest.GetAtt(id.LogGroup, "Arn"),
				"CloudWatchLogsRoleArn":      cdktest.GetAtt(id.Role, "Arn"),
			})
		})
	}
}

func TestTrailRecordsManagementEventsAndTheGivenS3DataEvents(t *testing.T) {
	management := map[string]any{"FieldSelectors": []any{map[string]any{"Field": "eventCategory", "Equals": []any{"Management"}}}}
	strs := func(v []string) []any {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	cdktest.HasProperties(t, templates(t).Org, "AWS::CloudTrail::Trail", map[string]any{
		"AdvancedEventSelectors": []any{
			cdktest.Obj(management),
			cdktest.Obj(map[string]any{"FieldSelectors": []any{
				map[string]any{"Field": "eventCategory", "Equals": []any{"Data"}},
				map[string]any{"Field": "resources.type", "Equals": []any{"AWS::S3::Object"}},
				map[string]any{"Field": "resources.ARN", "StartsWith": strs(dataEvents.StartsWith), "NotStartsWith": strs(dataEvents.NotStartsWith)},
			}}),
		},
		"EventSelectors": assertions.Match_Absent(),
	})
	// Without data events: management events only.
	cdktest.HasProperties(t, templates(t).Plain, "AWS::CloudTrail::Trail", map[string]any{
		"AdvancedEventSelectors": []any{cdktest.Obj(management)},
	})
}

func TestTrailBucketAcceptsOnlyTheStudiosTrails(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"organization": templates(t).Org, "no organization": templates(t).Plain} {
		t.Run(name, func(t *testing.T) {
			id := find(t, tpl)
			p := cdktest.One(t, tpl, "AWS::S3::BucketPolicy", map[string]any{"Properties": map[string]any{"Bucket": cdktest.Ref(id.Bucket)}})
			var puts int
			for _, s := range cdktest.Statements(p.Properties["PolicyDocument"]) {
				if s.Effect() != "Allow" {
					continue
				}
				if !cdktest.SameSet(s.Principals("Service"), []string{"cloudtrail.amazonaws.com"}) || s.Principals("AWS") != nil {
					t.Errorf("trail bucket allows %v: only CloudTrail may write", s["Principal"])
				}
				arns, ok := s.Condition("ArnLike", "aws:SourceArn")
				if !ok || len(arns) == 0 {
					t.Errorf("trail bucket statement %q lets CloudTrail in without aws:SourceArn", s.Sid())
				}
				for _, a := range arns {
					if !strings.HasPrefix(a, "arn:aws:cloudtrail:") || a == "*" || strings.Contains(a, ":*:") {
						t.Errorf("trail bucket statement %q admits trails %s", s.Sid(), a)
					}
				}
				if !cdktest.SameSet(arns[:1], []string{trailArn}) {
					t.Errorf("trail bucket statement %q admits %v, want the central trail %s first", s.Sid(), arns, trailArn)
				}
				for _, a := range s.Actions() {
					switch a {
					case "s3:GetBucketAcl":
					case "s3:PutObject":
						puts++
						if acl, _ := s.Condition("StringEquals", "s3:x-amz-acl"); !cdktest.SameSet(acl, []string{"bucket-owner-full-control"}) {
							t.Errorf("CloudTrail writes with ACL %v, want bucket-owner-full-control", acl)
						}
						for _, r := range s.Resources() {
							if !strings.Contains(r, "/AWSLogs/") {
								t.Errorf("CloudTrail may write %s, want only under AWSLogs/", r)
							}
						}
					default:
						t.Errorf("trail bucket lets CloudTrail %s", a)
					}
				}
			}
			if puts != 1 {
				t.Errorf("%d statements let CloudTrail write, want 1", puts)
			}
			cdktest.HasProperties(t, tpl, "AWS::S3::BucketPolicy", map[string]any{
				"Bucket": cdktest.Ref(id.Bucket),
				"PolicyDocument": cdktest.Obj(map[string]any{"Statement": cdktest.ArrayWith(cdktest.Obj(map[string]any{
					"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}))}),
			})
		})
	}
}

func TestTrailBucketIsPrivateEncryptedVersionedArchivedAndRetained(t *testing.T) {
	tpl := templates(t).Org
	id := find(t, tpl)
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{
		"Properties": cdktest.Obj(map[string]any{
			"BucketName": props(true).BucketName,
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"BucketKeyEnabled":              true,
				"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cdktest.GetAtt(id.Key, "Arn")},
			}}},
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"LoggingConfiguration":           map[string]any{"DestinationBucketName": cdktest.Ref(id.AccessLogs), "LogFilePrefix": "trail/"},
			"LifecycleConfiguration": map[string]any{"Rules": []any{cdktest.Obj(map[string]any{
				"Status": "Enabled", "Transitions": []any{map[string]any{"StorageClass": "GLACIER", "TransitionInDays": 90}},
			})}},
		}),
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
	})
}

// TestTrailBucketLocksLogsForAYear: Object Lock keeps every log object for
// a year even from someone who gets past the bucket policy (ISE 8.1, 9.4).
func TestTrailBucketLocksLogsForAYear(t *testing.T) {
	cdktest.HasProperties(t, templates(t).Org, "AWS::S3::Bucket", map[string]any{
		"BucketName":        props(true).BucketName,
		"ObjectLockEnabled": true,
		"ObjectLockConfiguration": map[string]any{
			"ObjectLockEnabled": "Enabled",
			"Rule":              map[string]any{"DefaultRetention": map[string]any{"Mode": "GOVERNANCE", "Days": 365}},
		},
	})
	// The access-log bucket holds request metadata only and is not locked.
	cdktest.HasProperties(t, templates(t).Org, "AWS::S3::Bucket", map[string]any{
		"BucketName":        props(true).AccessLogBucketName,
		"ObjectLockEnabled": assertions.Match_Absent(),
	})
}

func TestTrailLogGroupIsEncryptedAndKeptForAYear(t *testing.T) {
	tpl := templates(t).Org
	id := find(t, tpl)
	cdktest.HasResource(t, tpl, "AWS::Logs::LogGroup", map[string]any{
		"Properties":          map[string]any{"LogGroupName": "/acme/cloudtrail", "KmsKeyId": cdktest.GetAtt(id.Key, "Arn"), "RetentionInDays": 365},
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
	})
	// CloudTrail's delivery role writes to that group and nothing else.
	policy := cdktest.One(t, tpl, "AWS::IAM::Policy", nil)
	for _, s := range cdktest.Statements(policy.Properties["PolicyDocument"]) {
		if !cdktest.SameSet(s.Actions(), []string{"logs:CreateLogStream", "logs:PutLogEvents"}) ||
			!cdktest.SameSet(s.Resources(), []string{"${" + id.LogGroup + ".Arn}"}) {
			t.Errorf("the delivery role may %v on %v", s.Actions(), s.Resources())
		}
	}
}

func TestEveryAlarmHasAFilterAndPagesTheEncryptedTopic(t *testing.T) {
	tpl := templates(t).Org
	id := find(t, tpl)
	cdktest.Count(t, tpl, "AWS::Logs::MetricFilter", len(audit.Alarms))
	cdktest.Count(t, tpl, "AWS::CloudWatch::Alarm", len(audit.Alarms))
	cdktest.HasProperties(t, tpl, "AWS::SNS::Topic", map[string]any{"KmsMasterKeyId": cdktest.GetAtt(id.Key, "Arn")})
	for _, a := range audit.Alarms {
		cdktest.HasProperties(t, tpl, "AWS::Logs::MetricFilter", map[string]any{
			"LogGroupName":  cdktest.Ref(id.LogGroup),
			"FilterPattern": a.Pattern,
			"MetricTransformations": []any{map[string]any{
				"MetricName": a.Name, "MetricNamespace": "acme/Security", "MetricValue": "1",
			}},
		})
		cdktest.HasProperties(t, tpl, "AWS::CloudWatch::Alarm", map[string]any{
			"AlarmName":          "acme-" + a.Name,
			"MetricName":         a.Name,
			"Namespace":          "acme/Security",
			"Threshold":          1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"AlarmActions":       []any{cdktest.Ref(id.Topic)},
		})
	}
	seen := map[string]bool{}
	for _, a := range audit.Alarms {
		if seen[a.Name] {
			t.Errorf("alarm %s appears twice", a.Name)
		}
		seen[a.Name] = true
	}
}

func TestAlertEmailsSubscribeToTheTopic(t *testing.T) {
	tpl := templates(t).Org
	id := find(t, tpl)
	cdktest.Count(t, tpl, "AWS::SNS::Subscription", len(emails))
	for _, e := range emails {
		cdktest.HasProperties(t, tpl, "AWS::SNS::Subscription", map[string]any{
			"Protocol": "email", "Endpoint": e, "TopicArn": cdktest.Ref(id.Topic),
		})
	}
	// No addresses, no subscriptions.
	cdktest.Count(t, templates(t).Plain, "AWS::SNS::Subscription", 0)
}

// TestCloudWatchMayPublishToTheAlarmTopic: the topic has a resource policy
// (the TLS-only deny), which replaces SNS's default policy; CloudWatch
// alarms then publish only if that policy allows cloudwatch.amazonaws.com.
func TestCloudWatchMayPublishToTheAlarmTopic(t *testing.T) {
	tpl := templates(t).Org
	id := find(t, tpl)
	cdktest.HasProperties(t, tpl, "AWS::SNS::TopicPolicy", map[string]any{
		"Topics": []any{cdktest.Ref(id.Topic)},
		"PolicyDocument": cdktest.Obj(map[string]any{"Statement": cdktest.ArrayWith(cdktest.Obj(map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
			"Action":    "sns:Publish",
			"Resource":  cdktest.Ref(id.Topic),
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": logArchive},
				"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:cloudwatch:" + region + ":" + logArchive + ":alarm:acme-*"},
			},
		}))}),
	})
}

func TestLoggingKeyLetsCloudTrailEncryptOnlyForTheStudiosTrails(t *testing.T) {
	for name, tpl := range map[string]assertions.Template{"organization": templates(t).Org, "no organization": templates(t).Plain} {
		t.Run(name, func(t *testing.T) {
			key := cdktest.One(t, tpl, "AWS::KMS::Key", nil)
			var generate int
			for _, s := range cdktest.Statements(key.Properties["KeyPolicy"]) {
				if !cdktest.SameSet(s.Principals("Service"), []string{"cloudtrail.amazonaws.com"}) {
					continue
				}
				for _, a := range s.Actions() {
					if a != "kms:GenerateDataKey*" && a != "kms:DescribeKey" {
						t.Errorf("CloudTrail may %s with the logging key", a)
					}
				}
				if arns, _ := s.Condition("ArnLike", "aws:SourceArn"); len(arns) == 0 || arns[0] != trailArn {
					t.Errorf("statement %q: aws:SourceArn %v, want the central trail first", s.Sid(), arns)
				}
				if !s.Has("kms:GenerateDataKey*") {
					continue
				}
				generate++
				ctx, ok := s.Condition("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn")
				if !ok || len(ctx) == 0 {
					t.Errorf("statement %q lets CloudTrail generate keys without the encryption context condition", s.Sid())
				}
				for _, c := range ctx {
					if !strings.HasPrefix(c, "arn:aws:cloudtrail:*:") || !strings.HasSuffix(c, ":trail/*") || strings.Contains(c, ":*:trail") {
						t.Errorf("encryption context %s: want the trails of one named account", c)
					}
				}
			}
			if generate != 1 {
				t.Errorf("%d statements let CloudTrail generate data keys, want 1", generate)
			}
		})
	}
}

func TestTrailsOfProductionAccountsMayDeliverOutsideAnOrganization(t *testing.T) {
	tpl := templates(t).Plain
	id := find(t, tpl)
	p := cdktest.One(t, tpl, "AWS::S3::BucketPolicy", map[string]any{"Properties": map[string]any{"Bucket": cdktest.Ref(id.Bucket)}})
	want := "arn:aws:cloudtrail:" + region + ":" + production + ":trail/acme-*"
	for _, s := range cdktest.Statements(p.Properties["PolicyDocument"]) {
		if s.Effect() != "Allow" {
			continue
		}
		arns, _ := s.Condition("ArnLike", "aws:SourceArn")
		if !cdktest.SameSet(arns, []string{trailArn, want}) {
			t.Errorf("statement %q admits %v, want the central trail and %s", s.Sid(), arns, want)
		}
		if s.Has("s3:PutObject") {
			var prefixes []string
			for _, r := range s.Resources() {
				prefixes = append(prefixes, r[strings.Index(r, "/AWSLogs/"):])
			}
			if !cdktest.SameSet(prefixes, []string{"/AWSLogs/" + logArchive + "/*", "/AWSLogs/" + production + "/*"}) {
				t.Errorf("CloudTrail writes under %v, want the log-archive and production accounts' prefixes", prefixes)
			}
		}
	}
}

// TestOrganizationTrailMayDeliverAsTheOrganizationsTrail: an organization
// trail belongs to the organization's management account even when the log
// archive account creates it as delegated administrator, so the bucket and
// key admit that account's trail ARN and its log prefix.
func TestOrganizationTrailMayDeliverAsTheOrganizationsTrail(t *testing.T) {
	tpl := templates(t).Org
	id := find(t, tpl)
	owned := "arn:aws:cloudtrail:" + region + ":" + orgOwner + ":trail/" + trailName
	p := cdktest.One(t, tpl, "AWS::S3::BucketPolicy", map[string]any{"Properties": map[string]any{"Bucket": cdktest.Ref(id.Bucket)}})
	for _, s := range cdktest.Statements(p.Properties["PolicyDocument"]) {
		if s.Effect() != "Allow" {
			continue
		}
		if arns, _ := s.Condition("ArnLike", "aws:SourceArn"); !cdktest.SameSet(arns, []string{trailArn, owned}) {
			t.Errorf("statement %q admits %v, want %s and %s", s.Sid(), arns, trailArn, owned)
		}
		if s.Has("s3:PutObject") {
			var prefixes []string
			for _, r := range s.Resources() {
				prefixes = append(prefixes, r[strings.Index(r, "/AWSLogs/"):])
			}
			want := []string{"/AWSLogs/" + logArchive + "/*", "/AWSLogs/" + orgID + "/*", "/AWSLogs/" + orgOwner + "/*"}
			if !cdktest.SameSet(prefixes, want) {
				t.Errorf("CloudTrail writes under %v, want %v", prefixes, want)
			}
		}
	}
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil)
	var encrypts bool
	for _, s := range cdktest.Statements(key.Properties["KeyPolicy"]) {
		if !s.Has("kms:GenerateDataKey*") || !cdktest.SameSet(s.Principals("Service"), []string{"cloudtrail.amazonaws.com"}) {
			continue
		}
		encrypts = true
		if arns, _ := s.Condition("ArnLike", "aws:SourceArn"); !cdktest.SameSet(arns, []string{trailArn, owned}) {
			t.Errorf("the logging key lets CloudTrail encrypt for %v, want %s and %s", arns, trailArn, owned)
		}
		ctx, _ := s.Condition("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn")
		if !cdktest.SameSet(ctx, []string{"arn:aws:cloudtrail:*:" + logArchive + ":trail/*", "arn:aws:cloudtrail:*:" + orgOwner + ":trail/*"}) {
			t.Errorf("the logging key's CloudTrail encryption context %v, want the log archive's and the organization owner's trails", ctx)
		}
	}
	if !encrypts {
		t.Error("the logging key does not let CloudTrail encrypt")
	}
}

// TestAlarmsCoverTheCisMonitoringChecks pins the alarms the security team
// relies on (CIS AWS Foundations Benchmark, monitoring; ISE 8.1, 9.4): one
// dropped from audit.Alarms fails here, not silently in the account.
func TestAlarmsCoverTheCisMonitoringChecks(t *testing.T) {
	want := []string{
		"UnauthorizedApiCalls", "ConsoleSignInWithoutMfa", "RootAccountUsage", "IamPolicyChanges",
		"CloudTrailChanges", "KmsKeyDisabledOrScheduledForDeletion", "S3BucketPolicyChanges",
		"NetworkGatewayChanges", "RouteTableChanges", "NetworkAclChanges", "SecurityGroupChanges",
		"TransitGatewayChanges", "VpcChanges",
	}
	have := map[string]string{}
	for _, a := range audit.Alarms {
		have[a.Name] = a.Pattern
	}
	for _, name := range want {
		p, ok := have[name]
		if !ok {
			t.Errorf("no %s alarm", name)
			continue
		}
		if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") {
			t.Errorf("%s: pattern %q is not a JSON filter pattern", name, p)
		}
	}
	tpl := templates(t).Org
	for _, name := range want {
		cdktest.CountProperties(t, tpl, "AWS::CloudWatch::Alarm", map[string]any{"AlarmName": "acme-" + name}, 1)
	}
}
