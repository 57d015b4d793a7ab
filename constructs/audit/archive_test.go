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
	// The policy variables the archive's writers fill in.
	sessionsOfTheCaller = "sessions/${aws:PrincipalAccount}/${aws:PrincipalTag/Production}/*"
	renderRoleOfTheTag  = "arn:aws:iam::${aws:PrincipalAccount}:role/acme-${aws:PrincipalTag/Production}-render"
	flowLogsOfTheSource = "flow-logs/AWSLogs/${aws:SourceAccount}/*"
	deliveryOfTheSource = "arn:aws:logs:us-west-2:${aws:SourceAccount}:*"
)

var writerAccounts = []string{management, production, other}

// archiveProps is the archive of a studio in an organization, or outside
// one with three accounts.
func archiveProps(org bool) audit.CentralProps {
	p := props(false)
	p.Archive = &audit.ArchiveProps{
		BucketName:    archiveBucket,
		FlowLogPrefix: "flow-logs/",
		SessionPrefix: "sessions/",
		RenderRole:    "acme-" + audit.RenderRoleProduction + "-render",
	}
	if org {
		p.Archive.OrganizationID = orgID
	} else {
		p.Archive.Accounts = writerAccounts
	}
	return p
}

var archived, archivedInOrg cdktest.Once[assertions.Template]

func archiveTemplate(t *testing.T) assertions.Template { return archiveOf(t, false) }

func archiveOf(t *testing.T, org bool) assertions.Template {
	t.Helper()
	once := &archived
	if org {
		once = &archivedInOrg
	}
	return once.Get(t, func() assertions.Template {
		env := cdktest.Env{Account: logArchive, Region: region}
		app := cdktest.NewApp(t, env)
		st := cdktest.AddStack(t, app, "Archived", env)
		audit.NewCentral(st, "Audit", archiveProps(org))
		return cdktest.Template(t, st)
	})
}

// eachWriterShape runs check on the archive of a studio outside an
// organization (writers named by account) and inside one.
func eachWriterShape(t *testing.T, check func(t *testing.T, tpl assertions.Template, org bool)) {
	for _, org := range []bool{false, true} {
		t.Run(map[bool]string{false: "accounts", true: "organization"}[org], func(t *testing.T) { check(t, archiveOf(t, org), org) })
	}
}

// admitsWriters checks that a statement admits the studio's writers, by
// account or organization (under condition key orgKey), and no one else.
func admitsWriters(t *testing.T, s cdktest.Statement, org bool, orgKey string) {
	t.Helper()
	principals := s.Principals("AWS")
	ids, _ := s.Condition("StringEquals", orgKey)
	switch {
	case org && (!slices.Equal(principals, []string{"*"}) || !slices.Equal(ids, []string{orgID})):
		t.Errorf("%s admits %v with %s %v, want * of organization %s", s.Sid(), principals, orgKey, ids, orgID)
	case !org && len(ids) > 0:
		t.Errorf("%s names an organization (%v) the studio does not have", s.Sid(), ids)
	case !org:
		var accounts []string
		for _, p := range principals {
			accounts = append(accounts, strings.TrimSuffix(strings.TrimPrefix(p, "arn:aws:iam::"), ":root"))
		}
		if !cdktest.SameSet(accounts, writerAccounts) {
			t.Errorf("%s admits %v, want the accounts %v", s.Sid(), principals, writerAccounts)
		}
	}
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
	eachWriterShape(t, func(t *testing.T, tpl assertions.Template, org bool) {
		puts := 0
		for _, s := range archivePolicy(t, tpl) {
			if s.Effect() != "Allow" || !slices.Contains(s.Principals("Service"), audit.FlowLogDelivery) {
				continue
			}
			checkDeliveryConditions(t, s, org)
			for _, a := range s.Actions() {
				switch a {
				case "s3:GetBucketAcl", "s3:ListBucket":
				case "s3:PutObject":
					puts++
					if acl, _ := s.Condition("StringEquals", "s3:x-amz-acl"); !slices.Equal(acl, []string{"bucket-owner-full-control"}) {
						t.Errorf("%s: flow logs are written with ACL %v, want bucket-owner-full-control", s.Sid(), acl)
					}
					if want := "${AuditArchiveBucket" + suffixOf(t, tpl) + ".Arn}/" + flowLogsOfTheSource; !slices.Equal(s.Resources(), []string{want}) {
						t.Errorf("%s lets log delivery write %v, want %s: each account under its own prefix", s.Sid(), s.Resources(), want)
					}
				default:
					t.Errorf("%s lets log delivery %s", s.Sid(), a)
				}
			}
		}
		if puts != 1 {
			t.Errorf("%d statements let flow log delivery write, want one for every account", puts)
		}
	})
}

// checkDeliveryConditions: log delivery writes for the studio's accounts
// (by id or organization), from this region, each as its own account.
func checkDeliveryConditions(t *testing.T, s cdktest.Statement, org bool) {
	t.Helper()
	accounts, _ := s.Condition("StringEquals", "aws:SourceAccount")
	orgs, _ := s.Condition("StringEquals", "aws:SourceOrgID")
	if org && (!slices.Equal(orgs, []string{orgID}) || len(accounts) > 0) || !org && (!cdktest.SameSet(accounts, writerAccounts) || len(orgs) > 0) {
		t.Errorf("%s admits log delivery for aws:SourceAccount %v, aws:SourceOrgID %v", s.Sid(), accounts, orgs)
	}
	if sources, _ := s.Condition("ArnLike", "aws:SourceArn"); !slices.Equal(sources, []string{deliveryOfTheSource}) {
		t.Errorf("%s admits log deliveries of %v, want %s", s.Sid(), sources, deliveryOfTheSource)
	}
}

// suffixOf is the hash CDK appends to the archive bucket's logical id.
func suffixOf(t *testing.T, tpl assertions.Template) string {
	b := cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": archiveBucket}})
	return strings.TrimPrefix(b.ID, "AuditArchiveBucket")
}

// Each render role writes its sessions under the prefix of its own account
// and production, and only as the role named for that production: one
// statement for every production, present and future. No role reads,
// lists or deletes.
func TestEachRenderRoleWritesSessionsOnlyUnderItsOwnPrefix(t *testing.T) {
	eachWriterShape(t, func(t *testing.T, tpl assertions.Template, org bool) {
		writes := 0
		for _, s := range archivePolicy(t, tpl) {
			if s.Effect() != "Allow" || len(s.Principals("AWS")) == 0 {
				continue
			}
			admitsWriters(t, s, org, "aws:PrincipalOrgID")
			checkRenderRoleConditions(t, s)
			for _, a := range s.Actions() {
				if a != "s3:PutObject" && a != "s3:PutObjectAcl" && a != "s3:GetEncryptionConfiguration" {
					t.Errorf("%s lets render roles %s: they only write", s.Sid(), a)
				}
			}
			if !s.Has("s3:PutObject") {
				continue
			}
			writes++
			if want := "${AuditArchiveBucket" + suffixOf(t, tpl) + ".Arn}/" + sessionsOfTheCaller; !slices.Equal(s.Resources(), []string{want}) {
				t.Errorf("%s lets render roles write %v, want %s", s.Sid(), s.Resources(), want)
			}
		}
		if writes != 1 {
			t.Errorf("%d statements let render roles write sessions, want one for every production", writes)
		}
	})
}

// checkRenderRoleConditions: only a role named for the production its
// Production tag names, in the caller's own account; no tag, no access.
func checkRenderRoleConditions(t *testing.T, s cdktest.Statement) {
	t.Helper()
	if roles, _ := s.Condition("StringEquals", "aws:PrincipalArn"); !slices.Equal(roles, []string{renderRoleOfTheTag}) {
		t.Errorf("%s admits roles %v, want %s", s.Sid(), roles, renderRoleOfTheTag)
	}
	if null, _ := s.Condition("Null", "aws:PrincipalTag/Production"); !slices.Equal(null, []string{"false"}) {
		t.Errorf("%s admits roles without a Production tag (Null %v)", s.Sid(), null)
	}
}

func TestLoggingKeyLetsOnlyFlowLogDeliveryAndTheRenderRolesEncryptArchiveCopies(t *testing.T) {
	eachWriterShape(t, func(t *testing.T, tpl assertions.Template, org bool) {
		k := cdktest.One(t, tpl, "AWS::KMS::Key", nil)
		var delivery, sessions bool
		for _, s := range cdktest.Statements(k.Properties["KeyPolicy"]) {
			switch s.Sid() {
			case "FlowLogDeliveryEncryptsArchive":
				delivery = true
				if !cdktest.SameSet(s.Principals("Service"), []string{audit.FlowLogDelivery}) {
					t.Errorf("%s: principals %v", s.Sid(), s.Principals("Service"))
				}
				checkDeliveryConditions(t, s, org)
			case "RenderNodesEncryptArchivedSessions":
				sessions = true
				admitsWriters(t, s, org, "aws:PrincipalOrgID")
				checkRenderRoleConditions(t, s)
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
	})
}
