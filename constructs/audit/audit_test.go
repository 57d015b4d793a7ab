package audit_test

import (
	"fmt"
	"regexp"
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

// TestTrailBucketLocksLogsForTheRetentionPeriod: Object Lock in COMPLIANCE
// mode keeps every log object for the retention period from everyone, the
// account root and s3:BypassGovernanceRetention included (ISE 8.1, 9.4).
func TestTrailBucketLocksLogsForTheRetentionPeriod(t *testing.T) {
	cdktest.HasProperties(t, templates(t).Org, "AWS::S3::Bucket", map[string]any{
		"BucketName":        props(true).BucketName,
		"ObjectLockEnabled": true,
		"ObjectLockConfiguration": map[string]any{
			"ObjectLockEnabled": "Enabled",
			"Rule":              map[string]any{"DefaultRetention": map[string]any{"Mode": "COMPLIANCE", "Days": 400}},
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
		"TransitGatewayChanges", "VpcChanges", "LogDeliveryChanges",
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

// event is a CloudTrail record built from dotted paths and values, e.g.
// event("eventName", "DisableKey", "userIdentity.type", "Root").
func event(kv ...string) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m := out
		parts := strings.Split(kv[i], ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = kv[i+1]
	}
	return out
}

// filter is a parsed CloudWatch Logs JSON filter pattern, for the part of the
// syntax audit.Alarms uses: $.selectors compared with = or != to quoted or
// bare values with * wildcards, NOT EXISTS, &&, || and parentheses. A
// comparison on a field the event lacks does not match.
type filter struct {
	toks []string
	pos  int
	err  error
}

func parseFilter(pattern string) (func(map[string]any) bool, error) {
	f := &filter{}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.ContainsRune("{}()", rune(c)):
			f.toks = append(f.toks, string(c))
			i++
		case strings.HasPrefix(pattern[i:], "&&"), strings.HasPrefix(pattern[i:], "||"), strings.HasPrefix(pattern[i:], "!="):
			f.toks = append(f.toks, pattern[i:i+2])
			i += 2
		case c == '=':
			f.toks = append(f.toks, "=")
			i++
		case c == '"':
			end := strings.IndexByte(pattern[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			f.toks = append(f.toks, pattern[i:i+end+2])
			i += end + 2
		default:
			j := i
			for j < len(pattern) && !strings.ContainsRune(" \t\n{}()=!&|\"", rune(pattern[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			f.toks = append(f.toks, pattern[i:j])
			i = j
		}
	}
	f.expect("{")
	m := f.or()
	f.expect("}")
	if f.err == nil && f.pos != len(f.toks) {
		f.err = fmt.Errorf("trailing %v", f.toks[f.pos:])
	}
	return m, f.err
}

func (f *filter) peek() string {
	if f.pos < len(f.toks) {
		return f.toks[f.pos]
	}
	return ""
}

func (f *filter) next() string { s := f.peek(); f.pos++; return s }

func (f *filter) expect(tok string) {
	if got := f.next(); got != tok && f.err == nil {
		f.err = fmt.Errorf("want %q at token %d, got %q", tok, f.pos-1, got)
	}
}

func (f *filter) or() func(map[string]any) bool {
	terms := []func(map[string]any) bool{f.and()}
	for f.peek() == "||" {
		f.next()
		terms = append(terms, f.and())
	}
	return func(e map[string]any) bool {
		for _, m := range terms {
			if m(e) {
				return true
			}
		}
		return false
	}
}

func (f *filter) and() func(map[string]any) bool {
	terms := []func(map[string]any) bool{f.term()}
	for f.peek() == "&&" {
		f.next()
		terms = append(terms, f.term())
	}
	return func(e map[string]any) bool {
		for _, m := range terms {
			if !m(e) {
				return false
			}
		}
		return true
	}
}

func (f *filter) term() func(map[string]any) bool {
	if f.peek() == "(" {
		f.next()
		m := f.or()
		f.expect(")")
		return m
	}
	sel := f.next()
	if !strings.HasPrefix(sel, "$.") && f.err == nil {
		f.err = fmt.Errorf("want a $. selector, got %q", sel)
	}
	path := strings.Split(strings.TrimPrefix(sel, "$."), ".")
	lookup := func(e map[string]any) (string, bool) {
		var v any = e
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return "", false
			}
			if v, ok = m[p]; !ok {
				return "", false
			}
		}
		s, ok := v.(string)
		return s, ok
	}
	switch op := f.next(); op {
	case "NOT":
		f.expect("EXISTS")
		return func(e map[string]any) bool { _, ok := lookup(e); return !ok }
	case "=", "!=":
		value := strings.Trim(f.next(), `"`)
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(value), `\*`, ".*") + "$")
		return func(e map[string]any) bool {
			s, ok := lookup(e)
			return ok && re.MatchString(s) == (op == "=")
		}
	default:
		if f.err == nil {
			f.err = fmt.Errorf("unsupported operator %q after %s", op, sel)
		}
		return func(map[string]any) bool { return false }
	}
}

func TestFilterPatternReaderFollowsCloudWatchSyntax(t *testing.T) {
	m, err := parseFilter(`{ ($.a = "x*") && (($.b.c != Yes) || $.d NOT EXISTS) }`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e    map[string]any
		want bool
	}{
		{event("a", "xyz", "b.c", "No", "d", "1"), true},
		{event("a", "xyz", "b.c", "Yes"), true},
		{event("a", "xyz", "b.c", "Yes", "d", "1"), false},
		{event("a", "yx", "b.c", "No"), false},
		{event("b.c", "No"), false},
	} {
		if got := m(tc.e); got != tc.want {
			t.Errorf("%v: matched %v, want %v", tc.e, got, tc.want)
		}
	}
	for _, bad := range []string{`$.a = 1`, `{ $.a ~ 1 }`, `{ ($.a = 1 }`, `{ a = 1 }`} {
		if _, err := parseFilter(bad); err == nil {
			t.Errorf("%s: parsed, want an error", bad)
		}
	}
	// Every alarm's pattern is well formed (balanced, one operator per
	// comparison): CloudWatch refuses a malformed one only at deployment.
	for _, a := range audit.Alarms {
		if _, err := parseFilter(a.Pattern); err != nil {
			t.Errorf("%s: %v\n%s", a.Name, err, a.Pattern)
		}
	}
}

// TestAlarmFiltersMatchTheEventsTheyAreFor reads each key alarm's metric
// filter from the template and runs it over CloudTrail records: it must
// count the events the alarm is named for and not the ordinary ones beside
// them (CIS AWS Foundations Benchmark, monitoring; ISE 8.1, 9.4).
func TestAlarmFiltersMatchTheEventsTheyAreFor(t *testing.T) {
	kms, ec2, ct, iam := "kms.amazonaws.com", "ec2.amazonaws.com", "cloudtrail.amazonaws.com", "iam.amazonaws.com"
	api := func(source, name string) map[string]any {
		return event("eventSource", source, "eventName", name, "eventType", "AwsApiCall", "userIdentity.type", "AssumedRole")
	}
	signIn := func(mfa, result string) map[string]any {
		return event("eventSource", "signin.amazonaws.com", "eventName", "ConsoleLogin", "eventType", "AwsConsoleSignIn",
			"userIdentity.type", "IAMUser", "additionalEventData.MFAUsed", mfa, "responseElements.ConsoleLogin", result)
	}
	root := func(kv ...string) map[string]any {
		return event(append([]string{"eventSource", "s3.amazonaws.com", "eventName", "ListBuckets", "eventType", "AwsApiCall", "userIdentity.type", "Root"}, kv...)...)
	}
	cases := map[string]struct{ match, ignore map[string]map[string]any }{
		"KmsKeyDisabledOrScheduledForDeletion": {
			match: map[string]map[string]any{
				"DisableKey": api(kms, "DisableKey"), "ScheduleKeyDeletion": api(kms, "ScheduleKeyDeletion"),
				"DisableKeyRotation": api(kms, "DisableKeyRotation"), "PutKeyPolicy": api(kms, "PutKeyPolicy"),
			},
			ignore: map[string]map[string]any{"Decrypt": api(kms, "Decrypt"), "DescribeKey": api(kms, "DescribeKey"), "another service's DisableKey": api(ec2, "DisableKey")},
		},
		"RootAccountUsage": {
			match: map[string]map[string]any{"a root API call": root(), "a root console sign-in": root("eventName", "ConsoleLogin", "eventType", "AwsConsoleSignIn")},
			ignore: map[string]map[string]any{
				"an assumed role":                api("s3.amazonaws.com", "ListBuckets"),
				"an AWS service acting for root": root("userIdentity.invokedBy", "support.amazonaws.com"),
				"a service event":                root("eventType", "AwsServiceEvent"),
			},
		},
		"ConsoleSignInWithoutMfa": {
			match:  map[string]map[string]any{"sign-in without MFA": signIn("No", "Success")},
			ignore: map[string]map[string]any{"sign-in with MFA": signIn("Yes", "Success"), "an API call": api(iam, "ListUsers")},
		},
		"CloudTrailChanges": {
			match: map[string]map[string]any{
				"StopLogging": api(ct, "StopLogging"), "DeleteTrail": api(ct, "DeleteTrail"), "UpdateTrail": api(ct, "UpdateTrail"),
				"PutEventSelectors": api(ct, "PutEventSelectors"), "CreateTrail": api(ct, "CreateTrail"),
			},
			ignore: map[string]map[string]any{"DescribeTrails": api(ct, "DescribeTrails"), "LookupEvents": api(ct, "LookupEvents")},
		},
		"TransitGatewayChanges": {
			match: map[string]map[string]any{
				"CreateTransitGatewayRoute":                  api(ec2, "CreateTransitGatewayRoute"),
				"AssociateTransitGatewayRouteTable":          api(ec2, "AssociateTransitGatewayRouteTable"),
				"EnableTransitGatewayRouteTablePropagation":  api(ec2, "EnableTransitGatewayRouteTablePropagation"),
				"DeleteTransitGatewayRoute":                  api(ec2, "DeleteTransitGatewayRoute"),
				"ReplaceTransitGatewayRoute":                 api(ec2, "ReplaceTransitGatewayRoute"),
				"CreateTransitGatewayVpcAttachment":          api(ec2, "CreateTransitGatewayVpcAttachment"),
				"AcceptTransitGatewayVpcAttachment":          api(ec2, "AcceptTransitGatewayVpcAttachment"),
				"DisableTransitGatewayRouteTablePropagation": api(ec2, "DisableTransitGatewayRouteTablePropagation"),
			},
			ignore: map[string]map[string]any{"DescribeTransitGateways": api(ec2, "DescribeTransitGateways"), "SearchTransitGatewayRoutes": api(ec2, "SearchTransitGatewayRoutes")},
		},
		// A production admin who adds a range to their VPC is trying to
		// draw another network's traffic (a secondary CIDR).
		"VpcChanges": {
			match: map[string]map[string]any{
				"AssociateVpcCidrBlock":    api(ec2, "AssociateVpcCidrBlock"),
				"DisassociateVpcCidrBlock": api(ec2, "DisassociateVpcCidrBlock"),
				"CreateVpcEndpoint":        api(ec2, "CreateVpcEndpoint"),
			},
			ignore: map[string]map[string]any{"DescribeVpcs": api(ec2, "DescribeVpcs")},
		},
		// An account's admin who stops the copies to the log archive, or
		// shortens the account's own logs.
		"LogDeliveryChanges": {
			match: map[string]map[string]any{
				"DeleteFlowLogs":               api(ec2, "DeleteFlowLogs"),
				"DeleteLogGroup":               api("logs.amazonaws.com", "DeleteLogGroup"),
				"PutRetentionPolicy":           api("logs.amazonaws.com", "PutRetentionPolicy"),
				"UpdateDocument":               api("ssm.amazonaws.com", "UpdateDocument"),
				"UpdateDocumentDefaultVersion": api("ssm.amazonaws.com", "UpdateDocumentDefaultVersion"),
			},
			ignore: map[string]map[string]any{
				"CreateFlowLogs":         api(ec2, "CreateFlowLogs"),
				"PutLogEvents":           api("logs.amazonaws.com", "PutLogEvents"),
				"StartSession":           api("ssm.amazonaws.com", "StartSession"),
				"another DeleteLogGroup": api(ec2, "DeleteLogGroup"),
			},
		},
		"UnauthorizedApiCalls": {
			match: map[string]map[string]any{
				"AccessDenied":                 event("eventName", "GetObject", "errorCode", "AccessDenied"),
				"Client.UnauthorizedOperation": event("eventName", "RunInstances", "errorCode", "Client.UnauthorizedOperation"),
			},
			ignore: map[string]map[string]any{"a successful call": api(ec2, "RunInstances"), "another error": event("eventName", "GetObject", "errorCode", "NoSuchKey")},
		},
		"IamPolicyChanges": {
			match:  map[string]map[string]any{"PutRolePolicy": api(iam, "PutRolePolicy"), "AttachRolePolicy": api(iam, "AttachRolePolicy"), "UpdateAssumeRolePolicy": api(iam, "UpdateAssumeRolePolicy")},
			ignore: map[string]map[string]any{"GetRolePolicy": api(iam, "GetRolePolicy")},
		},
	}
	tpl := templates(t).Org
	id := find(t, tpl)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// The filter that feeds the alarm of that name.
			alarm := cdktest.One(t, tpl, "AWS::CloudWatch::Alarm", map[string]any{"Properties": map[string]any{"AlarmName": "acme-" + name}})
			metric, _ := alarm.Properties["MetricName"].(string)
			f := cdktest.One(t, tpl, "AWS::Logs::MetricFilter", map[string]any{"Properties": map[string]any{
				"LogGroupName":          cdktest.Ref(id.LogGroup),
				"MetricTransformations": []any{cdktest.Obj(map[string]any{"MetricName": metric, "MetricNamespace": alarm.Properties["Namespace"]})},
			}})
			pattern, _ := f.Properties["FilterPattern"].(string)
			matches, err := parseFilter(pattern)
			if err != nil {
				t.Fatalf("filter %s: %v\n%s", f.ID, err, pattern)
			}
			for what, e := range tc.match {
				if !matches(e) {
					t.Errorf("%s does not count %s:\n%s", name, what, pattern)
				}
			}
			for what, e := range tc.ignore {
				if matches(e) {
					t.Errorf("%s counts %s, which it is not for:\n%s", name, what, pattern)
				}
			}
		})
	}
}
