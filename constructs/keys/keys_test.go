package keys_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/names"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	account = "333333333333"
	region  = "us-west-2"
	s3Via   = "s3.us-west-2.amazonaws.com"
	ec2Via  = "ec2.us-west-2.amazonaws.com"
)

var (
	operator  = names.RoleArn(account, "acme-nightfall-data-operator")
	renderer  = names.RoleArn(account, "acme-nightfall-render")
	logReader = names.RoleArn(account, "acme-nightfall-log-reader")
	launcher  = names.RoleArn(account, "acme-nightfall-launcher")
	root      = "arn:aws:iam::" + account + ":root"
	keyAdmin  = names.RoleArn(account, "acme-nightfall-key-admin")
	deployer  = keys.DeploymentRole(keys.DefaultQualifier, account, region)
	admins    = []string{keyAdmin, deployer}
)

// fixture: one App, built before the first template.
type fixture struct {
	// Bare is NewKey alone; Used adds AllowUseVia and AllowEbs; Set is a
	// NewKeySet of every purpose with session users; Logs is a logging key
	// set without session users.
	Bare, Used, Set, Logs assertions.Template
}

var shared cdktest.Once[*fixture]

func templates(t *testing.T) *fixture {
	t.Helper()
	return shared.Get(t, func() *fixture {
		env := cdktest.Env{Account: account, Region: region}
		app := cdktest.NewApp(t, env)
		bare := cdktest.AddStack(t, app, "Bare", env)
		keys.NewKey(bare, "Key", keys.KeyProps{Alias: "acme/nightfall/bare", Description: "bare", Account: account, Admins: admins})
		used := cdktest.AddStack(t, app, "Used", env)
		k := keys.NewKey(used, "Key", keys.KeyProps{Alias: "acme/nightfall/used", Description: "used", Account: account, Admins: admins})
		k.AllowUseVia("AssetUsersThroughS3Only", []string{operator, renderer}, s3Via)
		k.AllowEbs(region, nil)
		set := cdktest.AddStack(t, app, "Set", env)
		keys.NewKeySet(set, "Keys", keys.KeySetProps{
			AliasPrefix: "acme/nightfall",
			Owner:       "acme-nightfall",
			Account:     account,
			Region:      region,
			Purposes:    []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging},
			AssetUsers:  []string{operator, renderer},
			LogReaders:  []string{logReader},
			VolumeUsers: []string{launcher},
			// Render nodes decrypt sessions, people start them.
			SessionHosts:    []string{renderer},
			SessionStarters: []string{operator},
			Admins:          admins,
		})
		logs := cdktest.AddStack(t, app, "Logs", env)
		keys.NewKeySet(logs, "Keys", keys.KeySetProps{
			AliasPrefix: "acme/management", Owner: "acme-network", Account: account, Region: region,
			Purposes: []keys.Purpose{keys.Logging}, LogReaders: []string{logReader}, Admins: []string{deployer},
		})
		return &fixture{
			Bare: cdktest.Template(t, bare), Used: cdktest.Template(t, used),
			Set: cdktest.Template(t, set), Logs: cdktest.Template(t, logs),
		}
	})
}

func all(t *testing.T) map[string]assertions.Template {
	f := templates(t)
	return map[string]assertions.Template{"NewKey": f.Bare, "AllowUseVia+AllowEbs": f.Used, "NewKeySet": f.Set, "logging NewKeySet": f.Logs}
}

// policies are the key policies of a template's keys by logical id.
func policies(t *testing.T, tpl assertions.Template) map[string][]cdktest.Statement {
	t.Helper()
	out := map[string][]cdktest.Statement{}
	for _, k := range cdktest.Find(t, tpl, "AWS::KMS::Key", nil) {
		out[k.ID] = cdktest.Statements(k.Properties["KeyPolicy"])
	}
	return out
}

func TestEveryKeyRotatesWaitsThirtyDaysAndIsRetained(t *testing.T) {
	for name, tpl := range all(t) {
		t.Run(name, func(t *testing.T) {
			cdktest.Check(t, "every AWS::KMS::Key", func() {
				tpl.AllResources(jsii.String("AWS::KMS::Key"), map[string]any{
					"Properties":          cdktest.Obj(map[string]any{"EnableKeyRotation": true, "PendingWindowInDays": 30}),
					"DeletionPolicy":      "Retain",
					"UpdateReplacePolicy": "Retain",
				})
			})
		})
	}
	cdktest.Count(t, templates(t).Set, "AWS::KMS::Key", 3)
}

func TestKeySetNamesEachKeyByItsPurpose(t *testing.T) {
	tpl := templates(t).Set
	cdktest.Count(t, tpl, "AWS::KMS::Alias", 3)
	for _, p := range []keys.Purpose{keys.RootVolume, keys.ContentAsset, keys.Logging} {
		alias := cdktest.One(t, tpl, "AWS::KMS::Alias", map[string]any{"Properties": map[string]any{"AliasName": "alias/acme/nightfall/" + string(p)}})
		target := refOf(alias.Properties["TargetKeyId"])
		cdktest.HasResource(t, tpl, "AWS::KMS::Key", map[string]any{"Properties": cdktest.Obj(map[string]any{
			"Description": assertions.Match_StringLikeRegexp(jsii.String("^acme-nightfall " + string(p) + " key: ")),
		})})
		k := cdktest.One(t, tpl, "AWS::KMS::Key", map[string]any{"Properties": map[string]any{
			"Description": assertions.Match_StringLikeRegexp(jsii.String(" " + string(p) + " key: ")),
		}})
		if target != k.ID {
			t.Errorf("alias/acme/nightfall/%s targets %s, want the %s key %s", p, target, p, k.ID)
		}
	}
	cdktest.HasProperties(t, templates(t).Bare, "AWS::KMS::Alias", map[string]any{"AliasName": "alias/acme/nightfall/bare"})
}

func refOf(v any) string {
	m, _ := v.(map[string]any)
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	s, _ := m["Ref"].(string)
	return s
}

func TestNoKeyStatementGrantsEveryAction(t *testing.T) {
	for name, tpl := range all(t) {
		for id, statements := range policies(t, tpl) {
			for _, s := range statements {
				for _, a := range s.Actions() {
					if a == "*" || a == "kms:*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s key %s: statement %q grants %s", name, id, s.Sid(), a)
					}
				}
			}
		}
	}
	cdktest.Check(t, "no kms:* in any key policy", func() {
		templates(t).Set.AllResourcesProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"KeyPolicy": cdktest.Obj(map[string]any{
				"Statement": assertions.Match_Not(cdktest.ArrayWith(cdktest.Obj(map[string]any{"Action": "kms:*"}))),
			}),
		})
	})
}

// TestOnlyNamedAdministratorsAdministerAndNeverUse: the account's IAM
// administrators cannot rewrite a key policy (kms:PutKeyPolicy) or schedule
// deletion; only the named administrators can, through IAM, and they may
// not use the key.
func TestOnlyNamedAdministratorsAdministerAndNeverUse(t *testing.T) {
	for name, tpl := range all(t) {
		for id, statements := range policies(t, tpl) {
			var found int
			for _, s := range statements {
				if s.Sid() != "NamedAdministratorsOnly" {
					continue
				}
				found++
				if !cdktest.SameSet(s.Principals("AWS"), []string{root}) {
					t.Errorf("%s key %s: the account statement names %v, want %s", name, id, s.Principals("AWS"), root)
				}
				if got := s.Actions(); !cdktest.SameSet(got, keys.AdminActions) || len(got) != len(keys.AdminActions) {
					t.Errorf("%s key %s: the account statement grants %v, want exactly AdminActions", name, id, got)
				}
				for _, a := range []string{"kms:CreateGrant", "kms:DisableKeyRotation", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"} {
					if s.Has(a) {
						t.Errorf("%s key %s: the account statement grants %s", name, id, a)
					}
				}
				want := admins
				if name == "logging NewKeySet" {
					want = []string{deployer}
				}
				if got, _ := s.Condition("ArnLike", "aws:PrincipalArn"); !cdktest.SameSet(got, want) || len(got) != len(want) {
					t.Errorf("%s key %s: administered by aws:PrincipalArn %v, want exactly %v", name, id, got, want)
				}
			}
			if found != 1 {
				t.Errorf("%s key %s: %d account statements, want 1", name, id, found)
			}
		}
	}
	// AdminActions itself: managing without using (ISE 9.3, 9.5).
	for _, a := range keys.AdminActions {
		if a == "kms:CreateGrant" || a == "kms:DisableKeyRotation" || isUse(a) {
			t.Errorf("AdminActions holds %s", a)
		}
	}
}

// isUse reports whether action uses key material or hands use out.
func isUse(action string) bool {
	switch action {
	case "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
		"kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:ReEncrypt*", "kms:ReEncryptFrom", "kms:ReEncryptTo",
		"kms:CreateGrant", "kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret":
		return true
	}
	return false
}

// isAdmin reports whether action manages the key (beyond reading its
// metadata, which users need too).
func isAdmin(action string) bool {
	if action == "kms:DescribeKey" || strings.HasPrefix(action, "kms:List") || strings.HasPrefix(action, "kms:Get") {
		return false
	}
	for _, a := range keys.AdminActions {
		if a == action {
			return true
		}
	}
	return action == "kms:DisableKeyRotation"
}

func statementBySid(t *testing.T, statements []cdktest.Statement, sid string) cdktest.Statement {
	t.Helper()
	for _, s := range statements {
		if s.Sid() == sid {
			return s
		}
	}
	t.Fatalf("no statement %q", sid)
	return nil
}

func TestAllowUseViaGrantsUseOnlyThroughTheServiceToTheNamedRoles(t *testing.T) {
	tpl := templates(t).Used
	cdktest.HasProperties(t, tpl, "AWS::KMS::Key", map[string]any{"KeyPolicy": cdktest.Obj(map[string]any{
		"Statement": cdktest.ArrayWith(map[string]any{
			"Sid":       "AssetUsersThroughS3Only",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": root},
			"Action":    keys.UseActions,
			"Resource":  "*",
			"Condition": map[string]any{
				"ArnLike":      map[string]any{"aws:PrincipalArn": []any{operator, renderer}},
				"StringEquals": map[string]any{"kms:ViaService": s3Via},
			},
		}),
	})})
}

// TestGrantsAreHandedOutOnlyForAwsResources: kms:CreateGrant hands out use
// of a key. Every key denies grants that are not for an AWS resource unless
// an AWS service asks (Control Tower CT.KMS.PR.3), and every statement that
// allows grants does so through EC2 only.
func TestGrantsAreHandedOutOnlyForAwsResources(t *testing.T) {
	for name, tpl := range all(t) {
		for id, statements := range policies(t, tpl) {
			var denied bool
			for _, s := range statements {
				if !s.Has("kms:CreateGrant") {
					continue
				}
				if s.Effect() == "Deny" {
					forResource, _ := s.Condition("BoolIfExists", "kms:GrantIsForAWSResource")
					service, _ := s.Condition("BoolIfExists", "aws:PrincipalIsAWSService")
					denied = denied || (cdktest.SameSet(s.Principals("AWS"), []string{"*"}) &&
						cdktest.SameSet(forResource, []string{"false"}) && cdktest.SameSet(service, []string{"false"}))
					continue
				}
				if via, _ := s.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{ec2Via}) {
					t.Errorf("%s key %s: statement %q allows kms:CreateGrant via %v, want %s", name, id, s.Sid(), via, ec2Via)
				}
				if caller, _ := s.Condition("StringEquals", "kms:CallerAccount"); !cdktest.SameSet(caller, []string{account}) {
					t.Errorf("%s key %s: statement %q allows kms:CreateGrant to callers %v, want %s", name, id, s.Sid(), caller, account)
				}
			}
			if !denied {
				t.Errorf("%s key %s: no statement denies kms:CreateGrant that is not for an AWS resource", name, id)
			}
		}
	}
	// AllowEbs asks for AWS-resource grants itself, as aws/ebs does.
	for id, statements := range policies(t, templates(t).Used) {
		grant := statementBySid(t, statements, "EbsGrantsOnlyForAwsResources")
		if !cdktest.SameSet(grant.Actions(), []string{"kms:CreateGrant"}) {
			t.Errorf("key %s: the EBS grant statement allows %v", id, grant.Actions())
		}
		if got, _ := grant.Condition("Bool", "kms:GrantIsForAWSResource"); !cdktest.SameSet(got, []string{"true"}) {
			t.Errorf("key %s: EBS grants with kms:GrantIsForAWSResource %v, want true", id, got)
		}
		enc := statementBySid(t, statements, "EbsEncryptsThroughEc2")
		if via, _ := enc.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{ec2Via}) {
			t.Errorf("key %s: EBS use via %v, want %s", id, via, ec2Via)
		}
	}
}

func TestKeyWithoutAllowEbsHandsOutNoGrants(t *testing.T) {
	for id, statements := range policies(t, templates(t).Bare) {
		for _, s := range statements {
			if s.Effect() != "Allow" {
				continue
			}
			for _, a := range s.Actions() {
				if isUse(a) {
					t.Errorf("key %s: statement %q allows %s though nothing was allowed to use the key", id, s.Sid(), a)
				}
			}
		}
	}
	cdktest.CountProperties(t, templates(t).Bare, "AWS::KMS::Key", map[string]any{"KeyPolicy": cdktest.Obj(map[string]any{
		"Statement": cdktest.ArrayWith(cdktest.Obj(map[string]any{"Effect": "Allow", "Action": "kms:CreateGrant"})),
	})}, 0)
}

func TestSpotAndFleetServiceRolesUseVolumeKeysOnlyThroughEc2(t *testing.T) {
	tpl := templates(t).Set
	for _, purpose := range []string{"root-volume", "content-asset"} {
		k := keyFor(t, tpl, purpose)
		s := statementBySid(t, cdktest.Statements(k.Properties["KeyPolicy"]), "SpotAndFleetServiceRolesEncryptVolumes")
		if arns, _ := s.Condition("ArnEquals", "aws:PrincipalArn"); !cdktest.SameSet(arns, keys.ServiceLinkedLaunchers(account)) {
			t.Errorf("%s key: fleet statement names %v, want the account's Spot and Fleet service-linked roles", purpose, arns)
		}
		if via, _ := s.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{ec2Via}) {
			t.Errorf("%s key: fleet statement via %v, want %s", purpose, via, ec2Via)
		}
		if caller, _ := s.Condition("StringEquals", "kms:CallerAccount"); !cdktest.SameSet(caller, []string{account}) {
			t.Errorf("%s key: fleet statement for callers %v, want %s", purpose, caller, account)
		}
	}
	// The logging key encrypts no volumes.
	for _, s := range cdktest.Statements(keyFor(t, tpl, "logging").Properties["KeyPolicy"]) {
		if s.Sid() == "SpotAndFleetServiceRolesEncryptVolumes" || s.Sid() == "EbsEncryptsThroughEc2" {
			t.Errorf("the logging key has %q", s.Sid())
		}
	}
}

func TestSessionKeyLetsHostsDecryptAndStartersGenerateOnly(t *testing.T) {
	statements := cdktest.Statements(keyFor(t, templates(t).Set, "logging").Properties["KeyPolicy"])
	for _, c := range []struct {
		sid, action, role string
	}{
		{"SessionHostsDecryptSessions", "kms:Decrypt", renderer},
		{"SessionStartersEncryptSessions", "kms:GenerateDataKey", operator},
	} {
		s := statementBySid(t, statements, c.sid)
		if !cdktest.SameSet(s.Actions(), []string{c.action}) {
			t.Errorf("%s allows %v, want only %s", c.sid, s.Actions(), c.action)
		}
		if arns, _ := s.Condition("ArnLike", "aws:PrincipalArn"); !cdktest.SameSet(arns, []string{c.role}) {
			t.Errorf("%s names %v, want %s", c.sid, arns, c.role)
		}
	}
}

func TestLoggingKeyWithoutSessionUsersHasNoSessionStatements(t *testing.T) {
	for id, statements := range policies(t, templates(t).Logs) {
		for _, s := range statements {
			if strings.HasPrefix(s.Sid(), "Session") {
				t.Errorf("key %s has %q though no session users were given", id, s.Sid())
			}
		}
	}
}

// TestAllowsToAnyoneAreNarrowedToNamedRoles: a statement whose principal
// is * must name its roles with aws:PrincipalArn.
func TestAllowsToAnyoneAreNarrowedToNamedRoles(t *testing.T) {
	for name, tpl := range all(t) {
		for id, statements := range policies(t, tpl) {
			for _, s := range statements {
				if s.Effect() != "Allow" || !cdktest.SameSet(s.Principals("AWS"), []string{"*"}) {
					continue
				}
				_, like := s.Condition("ArnLike", "aws:PrincipalArn")
				_, equals := s.Condition("ArnEquals", "aws:PrincipalArn")
				if !like && !equals {
					t.Errorf("%s key %s: statement %q allows anyone", name, id, s.Sid())
				}
			}
		}
	}
}

func keyFor(t *testing.T, tpl assertions.Template, purpose string) cdktest.Resource {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::KMS::Key", map[string]any{"Properties": map[string]any{
		"Description": assertions.Match_StringLikeRegexp(jsii.String(" " + purpose + " key: ")),
	}})
}

// principalPatterns are whom a statement reaches: its aws:PrincipalArn
// patterns when it names roles, otherwise its principals.
func principalPatterns(s cdktest.Statement) []string {
	if arns, ok := s.Condition("ArnLike", "aws:PrincipalArn"); ok {
		return arns
	}
	if arns, ok := s.Condition("ArnEquals", "aws:PrincipalArn"); ok {
		return arns
	}
	var out []string
	for _, kind := range []string{"AWS", "Service", "Federated"} {
		out = append(out, s.Principals(kind)...)
	}
	if p, ok := s["Principal"].(string); ok {
		out = append(out, p)
	}
	return out
}

// TestKeySetSeparatesWhoManagesFromWhoUses: ISE 9.3. No role pattern that a
// statement lets use a key appears in a statement that lets it manage one.
//
// The account root is the one principal in both kinds: the account
// statement delegates administration to IAM, and AllowEbs delegates use to
// IAM the way the AWS-managed aws/ebs key does, confined to EC2 in this
// account (kms:ViaService, kms:CallerAccount), checked below.
func TestKeySetSeparatesWhoManagesFromWhoUses(t *testing.T) {
	for id, statements := range policies(t, templates(t).Set) {
		admins, users := map[string]string{}, map[string]string{}
		for _, s := range statements {
			if s.Effect() != "Allow" {
				continue
			}
			var admin, use bool
			for _, a := range s.Actions() {
				admin = admin || isAdmin(a)
				use = use || isUse(a)
			}
			for _, p := range principalPatterns(s) {
				if admin {
					admins[p] = s.Sid()
				}
				if use {
					if p == root {
						via, _ := s.Condition("StringEquals", "kms:ViaService")
						caller, _ := s.Condition("StringEquals", "kms:CallerAccount")
						if !cdktest.SameSet(via, []string{ec2Via}) || !cdktest.SameSet(caller, []string{account}) {
							t.Errorf("key %s: statement %q lets the whole account use the key outside EC2 (via %v, caller %v)", id, s.Sid(), via, caller)
						}
						continue
					}
					users[p] = s.Sid()
				}
			}
		}
		if len(admins) == 0 {
			t.Errorf("key %s: no statement administers the key", id)
		}
		for p, sid := range users {
			if admin, ok := admins[p]; ok {
				t.Errorf("key %s: %s may use the key (%q) and manage it (%q)", id, p, sid, admin)
			}
		}
	}
}

func TestKeySetGivesEachPurposeExactlyItsUse(t *testing.T) {
	tpl := templates(t).Set
	sids := func(purpose string) (allow, deny []string) {
		for _, s := range cdktest.Statements(keyFor(t, tpl, purpose).Properties["KeyPolicy"]) {
			if s.Effect() == "Allow" {
				allow = append(allow, s.Sid())
			} else {
				deny = append(deny, s.Sid())
			}
		}
		return allow, deny
	}
	admin := "NamedAdministratorsOnly"
	ebs := []string{"EbsEncryptsThroughEc2", "EbsGrantsOnlyForAwsResources", "SpotAndFleetServiceRolesEncryptVolumes"}
	want := map[string][]string{
		"root-volume":   append([]string{admin}, ebs...),
		"content-asset": append(append([]string{admin}, ebs...), "AssetUsersThroughS3Only"),
		"logging":       {admin, "CloudWatchLogsEncryptsLogGroups", "LogReadersDecrypt", "SessionHostsDecryptSessions", "SessionStartersEncryptSessions"},
	}
	for p, w := range want {
		allow, deny := sids(p)
		if !cdktest.SameSet(allow, w) || len(allow) != len(w) {
			t.Errorf("%s key allows %v, want %v", p, allow, w)
		}
		if !cdktest.SameSet(deny, []string{"GrantsOnlyForAwsResources"}) {
			t.Errorf("%s key denies %v, want [GrantsOnlyForAwsResources]", p, deny)
		}
	}
}

// TestVolumeKeysServeEbsOnlyForTheVolumeUsers: in a key set, EC2 uses the
// volume keys only for the launcher, not for every principal of the account.
func TestVolumeKeysServeEbsOnlyForTheVolumeUsers(t *testing.T) {
	tpl := templates(t).Set
	for _, purpose := range []string{"root-volume", "content-asset"} {
		statements := cdktest.Statements(keyFor(t, tpl, purpose).Properties["KeyPolicy"])
		for _, sid := range []string{"EbsEncryptsThroughEc2", "EbsGrantsOnlyForAwsResources"} {
			s := statementBySid(t, statements, sid)
			if arns, _ := s.Condition("ArnLike", "aws:PrincipalArn"); !cdktest.SameSet(arns, []string{launcher}) {
				t.Errorf("%s key: %s serves %v, want only %s", purpose, sid, arns, launcher)
			}
		}
	}
}
