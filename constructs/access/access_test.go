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
			KeyAdmins:      access.Principals{SSO: keyAdminSSO},
			DataOperators:  access.Principals{SSO: dataSSO, Roles: dataRoles},
			LogReaders:     access.Principals{SSO: logReaderSSO},
			KeyAliasPrefix: "alias/acme/nightfall/",
			Account:        account,
			Region:         region,
			// The production's DR region, where its replica key is.
			KeyRegions: []string{"us-east-2"},
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

// Each role's own people: Identity Center permission sets for the key
// admin and log reader, a permission set and a named role for the data
// operator.
var (
	keyAdminSSO  = []string{"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_nightfall-KeyAdmin_????????????????"}
	dataSSO      = []string{"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_nightfall-Data_????????????????"}
	dataRoles    = []string{"arn:aws:iam::111111111111:role/ops/data-wrangler"}
	logReaderSSO = []string{"arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_nightfall-Logs_????????????????"}
)

func TestOnlyNamedPeopleAssumeRolesFromTheStudioForAnHour(t *testing.T) {
	tpl := roles(t)
	cdktest.Count(t, tpl, "AWS::IAM::Role", 3)
	for _, tc := range []struct {
		suffix     string
		sso, roles []string
	}{
		{names.KeyAdmin, keyAdminSSO, nil},
		{names.DataOperator, dataSSO, dataRoles},
		{names.LogReader, logReaderSSO, nil},
	} {
		t.Run(tc.suffix, func(t *testing.T) {
			r := role(t, tpl, tc.suffix)
			if d := r.Properties["MaxSessionDuration"]; d != float64(3600) {
				t.Errorf("MaxSessionDuration %v, want 3600", d)
			}
			var sso, named []string
			for _, s := range cdktest.Statements(r.Properties["AssumeRolePolicyDocument"]) {
				if p := s.Principals("AWS"); !cdktest.SameSet(p, []string{"arn:aws:iam::" + management + ":root"}) {
					t.Errorf("trust statement names %v, want the management account", p)
				}
				if ip, _ := s.Condition("IpAddress", "aws:SourceIp"); !cdktest.SameSet(ip, sourceCidrs) {
					t.Errorf("trust statement from %v, want %v", ip, sourceCidrs)
				}
				like, _ := s.Condition("ArnLike", "aws:PrincipalArn")
				equals, _ := s.Condition("ArnEquals", "aws:PrincipalArn")
				mfa, _ := s.Condition("Bool", "aws:MultiFactorAuthPresent")
				switch {
				case len(like) > 0 && len(equals) == 0:
					// Identity Center sessions carry no MFA key: a Bool
					// condition would shut them out.
					if len(mfa) > 0 {
						t.Errorf("the Identity Center statement requires aws:MultiFactorAuthPresent, which its sessions never carry")
					}
					sso = append(sso, like...)
				case len(equals) > 0 && len(like) == 0:
					if !cdktest.SameSet(mfa, []string{"true"}) {
						t.Errorf("named roles may assume it without MFA: %v", s)
					}
					named = append(named, equals...)
				default:
					t.Errorf("trust statement names nobody: %v", s)
				}
			}
			if !cdktest.SameSet(sso, tc.sso) || len(sso) != len(tc.sso) || !cdktest.SameSet(named, tc.roles) || len(named) != len(tc.roles) {
				t.Errorf("trusted %v and %v, want %v and %v", sso, named, tc.sso, tc.roles)
			}
		})
	}
}

// A role that names nobody is a programming error the manifests' validation
// prevents: it must not synthesize into a role the whole account may use.
func TestHumanRoleNamingNobodyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a people role with no principals was created")
		}
	}()
	access.NewHumanRole(cdktest.NewStack(t, account, region), "Nobody", access.HumanRoleProps{
		Name: "acme-nobody", TrustedAccount: management, SourceCidrs: sourceCidrs,
	})
}

func TestKeyAdminManagesOnlyTheProductionsKeysAndNeverUsesThem(t *testing.T) {
	tpl := roles(t)
	admin := role(t, tpl, names.KeyAdmin)
	var statements []cdktest.Statement
	for _, s := range policyOf(t, tpl, admin.ID) {
		if s.Effect() != "Deny" {
			statements = append(statements, s)
		}
	}
	if len(statements) != 1 {
		t.Fatalf("key admin has %d statements that allow, want 1", len(statements))
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
	if res := s.Resources(); !cdktest.SameSet(res, []string{"arn:aws:kms:" + region + ":" + account + ":key/*", "arn:aws:kms:us-east-2:" + account + ":key/*"}) {
		t.Errorf("key admin resources %v, want the account's keys in %s and its DR region us-east-2", res, region)
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
		if s.Effect() == "Deny" {
			continue
		}
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
	// from statements the production adds; the role itself only denies.
	tpl := roles(t)
	op := role(t, tpl, names.DataOperator)
	for _, s := range policyOf(t, tpl, op.ID) {
		if s.Effect() != "Deny" {
			t.Errorf("the data operator role allows %v", s)
		}
	}
	cdktest.HasProperties(t, tpl, "AWS::IAM::Role", map[string]any{
		"RoleName":          names.Role(prefix, names.DataOperator),
		"ManagedPolicyArns": assertions.Match_Absent(),
	})
}

// Every call of a people role's session, not only the AssumeRole, must come
// from the studio's ranges, unless a service makes it on the session's
// behalf or it goes through a VPC endpoint (ISE 1.3).
func TestPeopleSessionsWorkOnlyFromTheStudiosRanges(t *testing.T) {
	tpl := roles(t)
	for _, suffix := range []string{names.KeyAdmin, names.DataOperator, names.LogReader} {
		r := role(t, tpl, suffix)
		found := false
		for _, s := range policyOf(t, tpl, r.ID) {
			if s.Sid() != "OnlyFromTheStudiosRanges" {
				continue
			}
			found = true
			ip, _ := s.Condition("NotIpAddress", "aws:SourceIp")
			via, _ := s.Condition("Bool", "aws:ViaAWSService")
			vpc, _ := s.Condition("Null", "aws:SourceVpc")
			if s.Effect() != "Deny" || !cdktest.SameSet(s.Actions(), []string{"*"}) || !cdktest.SameSet(s.Resources(), []string{"*"}) ||
				!cdktest.SameSet(ip, sourceCidrs) || !cdktest.SameSet(via, []string{"false"}) || !cdktest.SameSet(vpc, []string{"true"}) {
				t.Errorf("%s: %v", suffix, s)
			}
		}
		if !found {
			t.Errorf("%s: sessions work from anywhere once assumed", suffix)
		}
	}
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

// TestServiceRoleTrustsOneServiceForOneAccountsResource: the service may
// assume the role only for the account's resources that SourceArn matches,
// and each statement carries its Sid.
func TestServiceRoleTrustsOneServiceForOneAccountsResource(t *testing.T) {
	s := cdktest.NewStack(t, account, region)
	r := access.NewServiceRole(s, "Copier", access.ServiceRoleProps{
		Name: "acme-nightfall-copier", Description: "copies", Service: "s3.amazonaws.com",
		Account: account, SourceArn: "arn:aws:s3:::acme-nightfall-assets",
	})
	r.Allow("ReadTheSource", []string{"s3:GetObject"}, []*string{jsii.String("arn:aws:s3:::acme-nightfall-assets/*")}, nil)
	r.Allow("KeyThroughS3", []string{"kms:Decrypt"}, []*string{jsii.String("*")},
		map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}})
	tpl := cdktest.Template(t, s)
	role := cdktest.One(t, tpl, "AWS::IAM::Role", nil)
	if n := role.Properties["RoleName"]; n != "acme-nightfall-copier" {
		t.Errorf("RoleName %v", n)
	}
	trust := cdktest.Statements(role.Properties["AssumeRolePolicyDocument"])
	if len(trust) != 1 || !cdktest.SameSet(trust[0].Principals("Service"), []string{"s3.amazonaws.com"}) {
		t.Fatalf("trust %v, want s3.amazonaws.com alone", trust)
	}
	if acct, _ := trust[0].Condition("StringEquals", "aws:SourceAccount"); !cdktest.SameSet(acct, []string{account}) {
		t.Errorf("aws:SourceAccount %v, want %s", acct, account)
	}
	if src, _ := trust[0].Condition("ArnLike", "aws:SourceArn"); !cdktest.SameSet(src, []string{"arn:aws:s3:::acme-nightfall-assets"}) {
		t.Errorf("aws:SourceArn %v", src)
	}
	policy := cdktest.One(t, tpl, "AWS::IAM::Policy", nil)
	var sids []string
	for _, st := range cdktest.Statements(policy.Properties["PolicyDocument"]) {
		sids = append(sids, st.Sid())
		if st.Sid() == "KeyThroughS3" {
			if via, _ := st.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{"s3." + region + ".amazonaws.com"}) {
				t.Errorf("kms:ViaService %v", via)
			}
		}
	}
	if !cdktest.SameSet(sids, []string{"ReadTheSource", "KeyThroughS3"}) {
		t.Errorf("statements %v", sids)
	}
}
