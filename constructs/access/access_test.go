package access_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/access"
	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/names"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	account    = "333333333333"
	management = "111111111111"
	region     = "us-west-2"
	prefix     = "acme-nightfall"
)

var sourceCidrs = []string{"198.51.100.0/24", "203.0.113.0/24"}

var shared cdktest.Once[assertions.Template]

// roles is one stack with a production's human roles.
func roles(t *testing.T) assertions.Template {
	t.Helper()
	return shared.Get(t, func() assertions.Template {
		s := cdktest.NewStack(t, account, region)
		access.NewHumanRoles(s, "People", access.HumanRolesProps{
			Prefix:         prefix,
			TrustedAccount: management,
			SourceCidrs:    sourceCidrs,
			KeyAliasPrefix: "alias/acme/nightfall/",
			Account:        account,
			Region:         region,
		})
		return cdktest.Template(t, s)
	})
}

func role(t *testing.T, tpl assertions.Template, suffix string) cdktest.Resource {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": names.Role(prefix, suffix)}})
}

// policyOf is the statements of the inline policies attached to role.
func policyOf(t *testing.T, tpl assertions.Template, roleID string) []cdktest.Statement {
	t.Helper()
	var out []cdktest.Statement
	for _, p := range cdktest.Find(t, tpl, "AWS::IAM::Policy", map[string]any{"Properties": map[string]any{
		"Roles": cdktest.ArrayWith(cdktest.Ref(roleID)),
	}}) {
		out = append(out, cdktest.Statements(p.Properties["PolicyDocument"])...)
	}
	return out
}

func TestPeopleAssumeRolesOnlyWithMfaFromTheStudioForAnHour(t *testing.T) {
	tpl := roles(t)
	cdktest.Count(t, tpl, "AWS::IAM::Role", 3)
	var cidrs []any
	for _, c := range sourceCidrs {
		cidrs = append(cidrs, c)
	}
	for _, suffix := range []string{names.KeyAdmin, names.DataOperator, names.LogReader} {
		t.Run(suffix, func(t *testing.T) {
			r := role(t, tpl, suffix)
			cdktest.HasProperties(t, tpl, "AWS::IAM::Role", map[string]any{
				"RoleName":           names.Role(prefix, suffix),
				"MaxSessionDuration": 3600,
				"AssumeRolePolicyDocument": map[string]any{
					"Version": "2012-10-17",
					"Statement": []any{map[string]any{
						"Effect":    "Allow",
						"Action":    "sts:AssumeRole",
						"Principal": map[string]any{"AWS": "arn:aws:iam::" + management + ":root"},
						"Condition": map[string]any{
							"Bool":      map[string]any{"aws:MultiFactorAuthPresent": "true"},
							"IpAddress": map[string]any{"aws:SourceIp": assertions.Match_ArrayEquals(&cidrs)},
						},
					}},
				},
			})
			for _, s := range cdktest.Statements(r.Properties["AssumeRolePolicyDocument"]) {
				if mfa, _ := s.Condition("Bool", "aws:MultiFactorAuthPresent"); !cdktest.SameSet(mfa, []string{"true"}) {
					t.Errorf("trust statement without MFA: %v", s)
				}
				if ip, _ := s.Condition("IpAddress", "aws:SourceIp"); !cdktest.SameSet(ip, sourceCidrs) {
					t.Errorf("trust statement from %v, want %v", ip, sourceCidrs)
				}
			}
		})
	}
}

func TestKeyAdminManagesOnlyTheProductionsKeysAndNeverUsesThem(t *testing.T) {
	tpl := roles(t)
	admin := role(t, tpl, names.KeyAdmin)
	statements := policyOf(t, tpl, admin.ID)
	if len(statements) != 1 {
		t.Fatalf("key admin has %d statements, want 1", len(statements))
	}
	s := statements[0]
	if got := s.Actions(); !cdktest.SameSet(got, keys.AdminActions) || len(got) != len(keys.AdminActions) {
		t.Errorf("key admin may %v, want exactly keys.AdminActions", got)
	}
	for _, a := range s.Actions() {
		switch a {
		case "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DisableKeyRotation", "kms:*":
			t.Errorf("key admin may %s", a)
		}
	}
	if aliases, _ := s.Condition("ForAnyValue:StringLike", "kms:ResourceAliases"); !cdktest.SameSet(aliases, []string{"alias/acme/nightfall/*"}) {
		t.Errorf("key admin limited to aliases %v, want alias/acme/nightfall/*", aliases)
	}
	if res := s.Resources(); !cdktest.SameSet(res, []string{"arn:aws:kms:" + region + ":" + account + ":key/*"}) {
		t.Errorf("key admin resources %v, want the account's keys in %s", res, region)
	}
}

func TestLogReaderReadsLogsButNeverContent(t *testing.T) {
	tpl := roles(t)
	reader := role(t, tpl, names.LogReader)
	statements := policyOf(t, tpl, reader.ID)
	if len(statements) == 0 {
		t.Fatal("the log reader has no policy")
	}
	for _, s := range statements {
		for _, a := range s.Actions() {
			if strings.HasPrefix(a, "s3:") || a == "kms:Encrypt" || a == "*" || a == "kms:*" || !strings.HasPrefix(a, "logs:") {
				t.Errorf("log reader may %s: it reads logs only", a)
			}
			if strings.HasPrefix(a, "logs:") && !strings.HasPrefix(a, "logs:Describe") && !strings.HasPrefix(a, "logs:Get") &&
				!strings.HasPrefix(a, "logs:Filter") && a != "logs:StartQuery" {
				t.Errorf("log reader may %s, which changes logs", a)
			}
		}
		for _, r := range s.Resources() {
			if r != "arn:aws:logs:"+region+":"+account+":log-group:/"+prefix+"/*" {
				t.Errorf("log reader reads %s, want only the production's log groups", r)
			}
		}
	}
}

func TestDataOperatorGetsNothingFromTheRoleAlone(t *testing.T) {
	// Its access comes from the bucket and key policies that name it, and
	// from statements the production adds; the role itself grants nothing.
	tpl := roles(t)
	op := role(t, tpl, names.DataOperator)
	if got := policyOf(t, tpl, op.ID); len(got) != 0 {
		t.Errorf("the data operator role carries statements %v", got)
	}
	cdktest.HasProperties(t, tpl, "AWS::IAM::Role", map[string]any{
		"RoleName":          names.Role(prefix, names.DataOperator),
		"ManagedPolicyArns": assertions.Match_Absent(),
	})
}

// TestSessionsOpenOnlyOnOwnNodesWithTheLoggedDocument: Session Manager
// checks the session document against the person's policy only when the
// instance statement asks for it; the one document allowed is the
// production's logged, encrypted one (ISE 4.1).
func TestSessionsOpenOnlyOnOwnNodesWithTheLoggedDocument(t *testing.T) {
	st := cdktest.NewStack(t, account, region)
	sessions := access.SessionAccess(prefix, "nightfall", account, region, jsii.String("arn:aws:kms:us-west-2:333333333333:key/logging"))
	awsiam.NewManagedPolicy(st, jsii.String("Sessions"), &awsiam.ManagedPolicyProps{Statements: &sessions})
	policy := cdktest.One(t, cdktest.Template(t, st), "AWS::IAM::ManagedPolicy", nil)
	var instance, document bool
	for _, s := range cdktest.Statements(policy.Properties["PolicyDocument"]) {
		if !s.Has("ssm:StartSession") {
			continue
		}
		for _, r := range s.Resources() {
			switch {
			case strings.Contains(r, ":instance/"):
				instance = true
				if tag, _ := s.Condition("StringEquals", "ssm:resourceTag/Production"); !cdktest.SameSet(tag, []string{"nightfall"}) {
					t.Errorf("sessions on instances tagged %v, want Production=nightfall", tag)
				}
				if check, _ := s.Condition("BoolIfExists", "ssm:SessionDocumentAccessCheck"); !cdktest.SameSet(check, []string{"true"}) {
					t.Errorf("the instance statement does not ask for the document access check (%v): the account's unlogged shell would do", check)
				}
			case strings.Contains(r, ":document/"):
				document = true
				if want := "arn:aws:ssm:" + region + ":" + account + ":document/" + prefix + "-sessions"; r != want {
					t.Errorf("sessions may use document %s, want only %s", r, want)
				}
			default:
				t.Errorf("ssm:StartSession on %s", r)
			}
		}
	}
	if !instance || !document {
		t.Errorf("instance statement %v, document statement %v: want both", instance, document)
	}
}
