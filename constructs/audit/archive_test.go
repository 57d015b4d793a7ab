package audit_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/audit"
	"github.com/renderenv/renderenv/internal/cdktest"
)

const (
	archiveBucket = "acme-audit-archive-222222222222-us-west-2"
	management    = "111111111111"
	other         = "444444444444"
	nightfallRole = "arn:aws:iam::333333333333:role/acme-nightfall-render"
	harbourRole   = "arn:aws:iam::444444444444:role/acme-harbour-render"
	brightRole    = "arn:aws:iam::333333333333:role/acme-brightside-render"
)

// archiveProps is an estate of three productions in two accounts, two of
// them sharing account 333333333333.
func archiveProps() audit.CentralProps {
	p := props(false)
	p.Archive = &audit.ArchiveProps{
		BucketName:      archiveBucket,
		FlowLogPrefix:   "flow-logs/",
		FlowLogAccounts: []string{management, production, other},
		SessionWriters: []audit.SessionWriter{
			{Name: "nightfall", Account: production, RoleArn: nightfallRole, Prefix: "sessions/333333333333/nightfall"},
			{Name: "brightside", Account: production, RoleArn: brightRole, Prefix: "sessions/333333333333/brightside"},
			{Name: "harbour", Account: other, RoleArn: harbourRole, Prefix: "sessions/444444444444/harbour"},
		},
	}
	return p
}

var archived cdktest.Once[assertions.Template]

func archiveTemplate(t *testing.T) assertions.Template {
	t.Helper()
	return archived.Get(t, func() assertions.Template {
		env := cdktest.Env{Account: logArchive, Region: region}
		app := cdktest.NewApp(t, env)
		st := cdktest.AddStack(t, app, "Archived", env)
		audit.NewCentral(st, "Audit", archiveProps())
		return cdktest.Template(t, st)
	})
}

func archivePolicy(t *testing.T, tpl assertions.Template) []cdktest.Statement {
	t.Helper()
	b := cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": archiveBucket}})
	p := cdktest.One(t, tpl, "AWS::S3::BucketPolicy", map[string]any{"Properties": map[string]any{"Bucket": cdktest.Ref(b.ID)}})
	return cdktest.Statements(p.Properties["PolicyDocument"])
}

func TestWithoutAnArchiveThereIsNoArchiveBucket(t *testing.T) {
	if got := cdktest.Find(t, templates(t).Plain, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": archiveBucket}}); len(got) != 0 {
		t.Errorf("a central trail without Archive has an archive bucket")
	}
}

func TestArchiveBucketIsLockedEncryptedVersionedPrivateLoggedAndRetained(t *testing.T) {
	tpl := archiveTemplate(t)
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil).ID
	logs := cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": "acme-audit-s3logs-222222222222"}}).ID
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
		"Properties": cdktest.Obj(map[string]any{
			"BucketName":        archiveBucket,
			"ObjectLockEnabled": true,
			"ObjectLockConfiguration": map[string]any{
				"ObjectLockEnabled": "Enabled",
				"Rule":              map[string]any{"DefaultRetention": map[string]any{"Mode": "COMPLIANCE", "Days": 400}},
			},
			"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{cdktest.Obj(map[string]any{
				"BucketKeyEnabled":              true,
				"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cdktest.GetAtt(key, "Arn")},
			})}},
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"LoggingConfiguration":           map[string]any{"DestinationBucketName": cdktest.Ref(logs), "LogFilePrefix": "archive/"},
		}),
	})
	var tls bool
	for _, s := range archivePolicy(t, tpl) {
		if v, _ := s.Condition("Bool", "aws:SecureTransport"); s.Effect() == "Deny" && s.Has("s3:*") && slices.Equal(v, []string{"false"}) {
			tls = true
		}
	}
	if !tls {
		t.Error("the archive bucket does not deny requests without TLS")
	}
}

func TestArchiveBucketAdmitsFlowLogDeliveryOfEachAccountUnderItsOwnPrefix(t *testing.T) {
	tpl := archiveTemplate(t)
	seen := map[string]bool{}
	for _, s := range archivePolicy(t, tpl) {
		if s.Effect() != "Allow" || !slices.Contains(s.Principals("Service"), audit.FlowLogDelivery) {
			continue
		}
		accounts, _ := s.Condition("StringEquals", "aws:SourceAccount")
		sources, _ := s.Condition("ArnLike", "aws:SourceArn")
		if len(accounts) == 0 || len(sources) != len(accounts) {
			t.Errorf("%s admits log delivery with aws:SourceAccount %v and aws:SourceArn %v: want both, for every account", s.Sid(), accounts, sources)
		}
		for _, src := range sources {
			if !strings.HasPrefix(src, "arn:aws:logs:us-west-2:") || strings.Contains(src, "::") {
				t.Errorf("%s admits log deliveries of %s", s.Sid(), src)
			}
		}
		for _, a := range s.Actions() {
			switch a {
			case "s3:GetBucketAcl", "s3:ListBucket":
			case "s3:PutObject":
				if acl, _ := s.Condition("StringEquals", "s3:x-amz-acl"); !slices.Equal(acl, []string{"bucket-owner-full-control"}) {
					t.Errorf("%s: flow logs are written with ACL %v, want bucket-owner-full-control", s.Sid(), acl)
				}
				if len(accounts) != 1 || !slices.Equal(s.Resources(), []string{"${AuditArchiveBucket" + suffixOf(t, tpl) + ".Arn}/flow-logs/AWSLogs/" + accounts[0] + "/*"}) {
					t.Errorf("%s lets account(s) %v deliver to %v, want one account under its own flow-logs/AWSLogs/<account>/", s.Sid(), accounts, s.Resources())
				}
				seen[accounts[0]] = true
			default:
				t.Errorf("%s lets log delivery %s", s.Sid(), a)
			}
		}
	}
	for _, acct := range []string{management, production, other} {
		if !seen[acct] {
			t.Errorf("account %s's flow logs cannot be delivered", acct)
		}
	}
}

// suffixOf is the hash CDK appends to the archive bucket's logical id.
func suffixOf(t *testing.T, tpl assertions.Template) string {
	b := cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": archiveBucket}})
	return strings.TrimPrefix(b.ID, "AuditArchiveBucket")
}

// Each render role writes its sessions under its own prefix, named by its
// exact ARN; no role reads, lists or deletes, and no role writes another
// production's prefix, not even one of its own account.
func TestEachRenderRoleWritesSessionsOnlyUnderItsOwnPrefix(t *testing.T) {
	tpl := archiveTemplate(t)
	writers := map[string]string{} // prefix -> role
	for _, s := range archivePolicy(t, tpl) {
		if s.Effect() != "Allow" || len(s.Principals("AWS")) == 0 {
			continue
		}
		roles, _ := s.Condition("ArnEquals", "aws:PrincipalArn")
		for _, r := range roles {
			if strings.Contains(r, "*") {
				t.Errorf("%s names roles by pattern %s", s.Sid(), r)
			}
		}
		for _, a := range s.Actions() {
			if a != "s3:PutObject" && a != "s3:PutObjectAcl" && a != "s3:GetEncryptionConfiguration" {
				t.Errorf("%s lets %v %s: render roles only write", s.Sid(), roles, a)
			}
		}
		if !s.Has("s3:PutObject") {
			continue
		}
		if len(roles) != 1 || len(s.Resources()) != 1 {
			t.Errorf("%s lets %v write %v: want one role, one prefix", s.Sid(), roles, s.Resources())
			continue
		}
		_, prefix, _ := strings.Cut(s.Resources()[0], "}/")
		writers[prefix] = roles[0]
	}
	want := map[string]string{
		"sessions/333333333333/nightfall/*":  nightfallRole,
		"sessions/333333333333/brightside/*": brightRole,
		"sessions/444444444444/harbour/*":    harbourRole,
	}
	for prefix, role := range want {
		if writers[prefix] != role {
			t.Errorf("%s is written by %q, want %s alone", prefix, writers[prefix], role)
		}
	}
	// The negative: brightside shares nightfall's account, yet its role
	// appears nowhere for nightfall's prefix.
	for prefix, role := range writers {
		if _, ok := want[prefix]; !ok {
			t.Errorf("%s may write %s, which is no production's prefix", role, prefix)
		}
		if strings.Contains(prefix, "nightfall") && role != nightfallRole {
			t.Errorf("%s may write nightfall's sessions", role)
		}
	}
}

func TestLoggingKeyLetsOnlyFlowLogDeliveryAndTheRenderRolesEncryptArchiveCopies(t *testing.T) {
	tpl := archiveTemplate(t)
	k := cdktest.One(t, tpl, "AWS::KMS::Key", nil)
	var delivery, sessions bool
	for _, s := range cdktest.Statements(k.Properties["KeyPolicy"]) {
		switch s.Sid() {
		case "FlowLogDeliveryEncryptsArchive":
			delivery = true
			accounts, _ := s.Condition("StringEquals", "aws:SourceAccount")
			if !cdktest.SameSet(s.Principals("Service"), []string{audit.FlowLogDelivery}) || !cdktest.SameSet(accounts, []string{management, production, other}) {
				t.Errorf("%s: principals %v, source accounts %v", s.Sid(), s.Principals("Service"), accounts)
			}
			if arns, ok := s.Condition("ArnLike", "aws:SourceArn"); !ok || len(arns) != 3 {
				t.Errorf("%s has aws:SourceArn %v, want one per account", s.Sid(), arns)
			}
		case "RenderNodesEncryptArchivedSessions":
			sessions = true
			roles, _ := s.Condition("ArnEquals", "aws:PrincipalArn")
			if !cdktest.SameSet(roles, []string{nightfallRole, brightRole, harbourRole}) {
				t.Errorf("%s names %v, want exactly the render roles", s.Sid(), roles)
			}
			if via, _ := s.Condition("StringEquals", "kms:ViaService"); !slices.Equal(via, []string{"s3.us-west-2.amazonaws.com"}) {
				t.Errorf("%s: kms:ViaService %v, want S3 only", s.Sid(), via)
			}
			ctx, _ := s.Condition("StringLike", "kms:EncryptionContext:aws:s3:arn")
			for _, c := range ctx {
				if !strings.HasPrefix(c, "arn:aws:s3:::"+archiveBucket) {
					t.Errorf("%s lets render roles encrypt for %s", s.Sid(), c)
				}
			}
			if len(ctx) == 0 || !cdktest.SameSet(s.Actions(), []string{"kms:GenerateDataKey", "kms:Decrypt"}) {
				t.Errorf("%s: actions %v, encryption context %v", s.Sid(), s.Actions(), ctx)
			}
		}
	}
	if !delivery || !sessions {
		t.Errorf("the logging key lets flow log delivery encrypt: %v; render nodes: %v", delivery, sessions)
	}
}
