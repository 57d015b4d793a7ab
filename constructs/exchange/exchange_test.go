package exchange_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/renderenv/renderenv/constructs/exchange"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	account    = "121212121212"
	region     = "us-west-2"
	bucketName = "acme-nightfall-exchange-121212121212-us-west-2"
	bucketArn  = "arn:aws:s3:::" + bucketName
	operator   = "arn:aws:iam::333333333333:role/acme-nightfall-data-operator"
)

var (
	reader = exchange.Vendor{Name: "lumen", Account: "131313131313", RoleName: "acme-nightfall-vendor-lumen", ExternalID: "renderenv-acme-nightfall-lumen", Until: "2026-12-11"}
	writer = exchange.Vendor{Name: "pixelworks", Account: "141414141414", RoleName: "acme-nightfall-vendor-pixelworks", ExternalID: "renderenv-acme-nightfall-pixelworks", Until: "2026-12-18", Write: true}
)

var shared cdktest.Once[assertions.Template]

func template(t *testing.T) assertions.Template {
	t.Helper()
	return shared.Get(t, func() assertions.Template {
		s := cdktest.NewStack(t, account, region)
		exchange.New(s, "Exchange", exchange.Props{
			Bucket: bucketName, AccessLogBucket: "acme-s3logs-nightfall-121212121212-us-west-2",
			KeyAlias: "acme/nightfall/exchange", Account: account, Region: region,
			KeyAdmins:         []string{"arn:aws:iam::121212121212:role/cdk-hnb659fds-cfn-exec-role-121212121212-us-west-2"},
			Vendors:           []exchange.Vendor{reader, writer},
			Writers:           []exchange.Writer{{Account: "333333333333", RoleArn: operator}},
			WriterSourceCidrs: []string{"198.51.100.0/24"},
		})
		return cdktest.Template(t, s)
	})
}

func role(t *testing.T, tpl assertions.Template, name string) cdktest.Resource {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::IAM::Role", map[string]any{"Properties": map[string]any{"RoleName": name}})
}

// policyOf is the statements of a role's default policy.
func policyOf(t *testing.T, tpl assertions.Template, roleID string) []cdktest.Statement {
	t.Helper()
	p := cdktest.One(t, tpl, "AWS::IAM::Policy", map[string]any{"Properties": map[string]any{"Roles": []any{cdktest.Ref(roleID)}}})
	return cdktest.Statements(p.Properties["PolicyDocument"])
}

func TestVendorRoleTrustsOnlyItsAccountWithItsExternalIdUntilItsDate(t *testing.T) {
	tpl := template(t)
	for _, v := range []exchange.Vendor{reader, writer} {
		r := role(t, tpl, v.RoleName)
		trust := cdktest.Statements(r.Properties["AssumeRolePolicyDocument"])
		if len(trust) != 1 {
			t.Fatalf("%s: %d trust statements, want 1", v.Name, len(trust))
		}
		st := trust[0]
		if got := st.Principals("AWS"); !cdktest.SameSet(got, []string{"arn:aws:iam::" + v.Account + ":root"}) {
			t.Errorf("%s trusts %v, want only its account's root", v.Name, got)
		}
		if id, ok := st.Condition("StringEquals", "sts:ExternalId"); !ok || !cdktest.SameSet(id, []string{v.ExternalID}) {
			t.Errorf("%s: external id %v, want %s", v.Name, id, v.ExternalID)
		}
		if until, ok := st.Condition("DateLessThan", "aws:CurrentTime"); !ok || !cdktest.SameSet(until, []string{v.Until + "T23:59:59Z"}) {
			t.Errorf("%s: aws:CurrentTime before %v, want %sT23:59:59Z", v.Name, until, v.Until)
		}
		if r.Properties["MaxSessionDuration"] != float64(3600) {
			t.Errorf("%s: sessions last %v s, want an hour", v.Name, r.Properties["MaxSessionDuration"])
		}
		if _, managed := r.Properties["ManagedPolicyArns"]; managed {
			t.Errorf("%s attaches managed policies", v.Name)
		}
	}
}

func TestVendorRoleReachesOnlyItsOwnPrefix(t *testing.T) {
	tpl := template(t)
	for _, v := range []exchange.Vendor{reader, writer} {
		prefix := bucketArn + "/" + v.Name + "/*"
		var listed, read, wrote bool
		for _, st := range policyOf(t, tpl, role(t, tpl, v.RoleName).ID) {
			if st.Effect() != "Allow" {
				continue
			}
			for _, a := range st.Actions() {
				switch {
				case a == "s3:ListBucket":
					p, ok := st.Condition("StringLike", "s3:prefix")
					listed = ok && cdktest.SameSet(p, []string{v.Name + "/", v.Name + "/*"}) && cdktest.SameSet(st.Resources(), []string{bucketArn})
				case strings.HasPrefix(a, "s3:"):
					if !cdktest.SameSet(st.Resources(), []string{prefix}) {
						t.Errorf("%s may %s on %v, beyond its prefix %s", v.Name, a, st.Resources(), prefix)
					}
					read = read || a == "s3:GetObject"
					wrote = wrote || a == "s3:PutObject"
				case strings.HasPrefix(a, "kms:"):
					via, _ := st.Condition("StringEquals", "kms:ViaService")
					ctx, _ := st.Condition("StringEquals", "kms:EncryptionContext:aws:s3:arn")
					if !cdktest.SameSet(via, []string{"s3." + region + ".amazonaws.com"}) || !cdktest.SameSet(ctx, []string{bucketArn}) {
						t.Errorf("%s: %s outside S3 for the exchange bucket (%v, %v)", v.Name, a, via, ctx)
					}
				default:
					t.Errorf("%s may %s", v.Name, a)
				}
			}
		}
		if !listed || !read || wrote != v.Write {
			t.Errorf("%s: lists its prefix %v, reads it %v, writes it %v (want %v)", v.Name, listed, read, wrote, v.Write)
		}
	}
}

func TestVendorRoleIsRefusedEverythingAfterItsDate(t *testing.T) {
	tpl := template(t)
	for _, v := range []exchange.Vendor{reader, writer} {
		var found bool
		for _, st := range policyOf(t, tpl, role(t, tpl, v.RoleName).ID) {
			after, ok := st.Condition("DateGreaterThan", "aws:CurrentTime")
			if st.Effect() == "Deny" && ok && cdktest.SameSet(after, []string{v.Until + "T23:59:59Z"}) && st.Has("s3:GetObject") && st.Has("kms:Decrypt") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no Deny of its reads after %s: a session opened before the date outlives it", v.Name, v.Until)
		}
	}
}

func TestExchangeKeyServesVendorsAndTheWriterOnlyThroughS3ForTheBucket(t *testing.T) {
	tpl := template(t)
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil)
	for _, st := range cdktest.Statements(key.Properties["KeyPolicy"]) {
		if st.Effect() != "Allow" || !(st.Has("kms:Decrypt") || st.Has("kms:GenerateDataKey")) {
			continue
		}
		via, _ := st.Condition("StringEquals", "kms:ViaService")
		ctx, _ := st.Condition("StringEquals", "kms:EncryptionContext:aws:s3:arn")
		who, _ := st.Condition("ArnLike", "aws:PrincipalArn")
		if !cdktest.SameSet(via, []string{"s3." + region + ".amazonaws.com"}) || !cdktest.SameSet(ctx, []string{bucketArn}) || len(who) == 0 {
			t.Errorf("key statement %s lets %v use the key outside S3 for the bucket", st.Sid(), who)
		}
		if st.Has("kms:GenerateDataKey") && slices.Contains(who, "arn:aws:iam::121212121212:role/"+reader.RoleName) {
			t.Errorf("the read-only vendor may encrypt (%s)", st.Sid())
		}
	}
}

func TestExchangeBucketServesOnlyVendorsAndTheProductionsWriter(t *testing.T) {
	tpl := template(t)
	b := cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": bucketName}})
	p := cdktest.One(t, tpl, "AWS::S3::BucketPolicy", map[string]any{"Properties": map[string]any{"Bucket": cdktest.Ref(b.ID)}})
	want := []string{"arn:aws:iam::121212121212:role/" + reader.RoleName, "arn:aws:iam::121212121212:role/" + writer.RoleName, operator}
	var denied, delivers, tls, ranges bool
	for _, st := range cdktest.Statements(p.Properties["PolicyDocument"]) {
		if users, ok := st.Condition("ArnNotLike", "aws:PrincipalArn"); ok && st.Effect() == "Deny" && st.Has("s3:GetObject*") && st.Has("s3:PutObject*") {
			denied = cdktest.SameSet(users, want)
		}
		if st.Effect() == "Allow" {
			who, _ := st.Condition("ArnEquals", "aws:PrincipalArn")
			delivers = cdktest.SameSet(who, []string{operator}) && cdktest.SameSet(st.Actions(), exchange.WriterActions) && !st.Has("s3:GetObject")
		}
		if from, ok := st.Condition("NotIpAddress", "aws:SourceIp"); ok && st.Effect() == "Deny" && st.Has("s3:PutObject*") {
			who, _ := st.Condition("ArnLike", "aws:PrincipalArn")
			ranges = cdktest.SameSet(from, []string{"198.51.100.0/24"}) && cdktest.SameSet(who, []string{operator})
		}
		if v, ok := st.Condition("Bool", "aws:SecureTransport"); ok && st.Effect() == "Deny" && cdktest.SameSet(v, []string{"false"}) {
			tls = true
		}
	}
	if !denied || !delivers || !tls || !ranges {
		t.Errorf("deny to all but vendors and writer %v, writer delivers only %v, TLS only %v, writer from the studio's ranges only %v", denied, delivers, tls, ranges)
	}
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{
		"Properties": map[string]any{
			"BucketName":                     bucketName,
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"LoggingConfiguration":           cdktest.Obj(map[string]any{"LogFilePrefix": "exchange/"}),
			"LifecycleConfiguration": map[string]any{"Rules": []any{cdktest.Obj(map[string]any{
				"ExpirationInDays": exchange.ExpireAfterDays, "Status": "Enabled",
			})}},
		},
		"DeletionPolicy": "Retain",
	})
}
