package storage_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/storage"
	"github.com/renderenv/renderenv/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	account  = "333333333333"
	region   = "us-west-2"
	endpoint = "vpce-0123456789abcdef0"
	assets   = "acme-nightfall-assets"
	logs     = "acme-nightfall-s3logs"
)

var (
	exempt = []string{"arn:aws:iam::333333333333:role/acme-nightfall-data-operator"}
	users  = []string{"arn:aws:iam::333333333333:role/acme-nightfall-data-operator", "arn:aws:iam::333333333333:role/acme-nightfall-render"}
)

var shared cdktest.Once[assertions.Template]

// buckets is one stack with an asset bucket, its key and its access-log
// bucket.
func buckets(t *testing.T) assertions.Template {
	t.Helper()
	return shared.Get(t, func() assertions.Template {
		s := cdktest.NewStack(t, account, region)
		key := awskms.NewKey(s, jsii.String("AssetKey"), nil)
		logBucket := storage.NewAccessLogBucket(s, "AccessLogs", logs)
		bucket := storage.NewAssetBucket(s, "Assets", storage.AssetBucketProps{
			Name:       assets,
			Key:        key,
			AccessLogs: logBucket,
			LogPrefix:  "assets/",
			Endpoint:   jsii.String(endpoint),
			Exempt:     exempt,
			ExemptFrom: []string{"198.51.100.0/24"},
			Users:      users,
		})
		// A role given ObjectAccess to the bucket, as the data operator and
		// the render role are.
		role := awsiam.NewRole(s, jsii.String("Worker"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil)})
		for _, st := range storage.ObjectAccess(bucket.BucketArn(), key.KeyArn(), region) {
			role.AddToPolicy(st)
		}
		return cdktest.Template(t, s)
	})
}

func bucket(t *testing.T, tpl assertions.Template, name string) cdktest.Resource {
	t.Helper()
	return cdktest.One(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": name}})
}

func bucketPolicy(t *testing.T, tpl assertions.Template, bucketID string) []cdktest.Statement {
	t.Helper()
	p := cdktest.One(t, tpl, "AWS::S3::BucketPolicy", map[string]any{"Properties": map[string]any{"Bucket": cdktest.Ref(bucketID)}})
	return cdktest.Statements(p.Properties["PolicyDocument"])
}

var blockAll = map[string]any{
	"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
}

func TestAssetBucketIsEncryptedWithTheAssetKeyPrivateVersionedLoggedAndRetained(t *testing.T) {
	tpl := buckets(t)
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil).ID
	logsID := bucket(t, tpl, logs).ID
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{
		"Properties": map[string]any{
			"BucketName": assets,
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"BucketKeyEnabled": true,
				"ServerSideEncryptionByDefault": map[string]any{
					"SSEAlgorithm":   "aws:kms",
					"KMSMasterKeyID": cdktest.GetAtt(key, "Arn"),
				},
			}}},
			"PublicAccessBlockConfiguration": blockAll,
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"LoggingConfiguration":           map[string]any{"DestinationBucketName": cdktest.Ref(logsID), "LogFilePrefix": "assets/"},
		},
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
	})
}

// statementsWith returns the statements with effect that list action.
func statementsWith(statements []cdktest.Statement, effect, action string) []cdktest.Statement {
	var out []cdktest.Statement
	for _, s := range statements {
		if s.Effect() == effect && s.Has(action) {
			out = append(out, s)
		}
	}
	return out
}

func TestAssetBucketDeniesRequestsWithoutTls(t *testing.T) {
	tpl := buckets(t)
	id := bucket(t, tpl, assets).ID
	cdktest.HasProperties(t, tpl, "AWS::S3::BucketPolicy", map[string]any{
		"Bucket": cdktest.Ref(id),
		"PolicyDocument": cdktest.Obj(map[string]any{"Statement": cdktest.ArrayWith(map[string]any{
			"Effect":    "Deny",
			"Principal": map[string]any{"AWS": "*"},
			"Action":    "s3:*",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			"Resource":  []any{cdktest.GetAtt(id, "Arn"), map[string]any{"Fn::Join": []any{"", []any{cdktest.GetAtt(id, "Arn"), "/*"}}}},
		})}),
	})
}

func TestAssetBucketDeniesWritesNotEncryptedWithTheAssetKey(t *testing.T) {
	tpl := buckets(t)
	id := bucket(t, tpl, assets).ID
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil).ID
	denies := statementsWith(bucketPolicy(t, tpl, id), "Deny", "s3:PutObject")
	var withoutKms, otherKey, noKeyID bool
	for _, s := range denies {
		// aws:kms with no key id is encrypted with aws/s3, the AWS-managed
		// key, and carries no key id for the other-key statement to see.
		sse, ok1 := s.Condition("StringEquals", "s3:x-amz-server-side-encryption")
		null, ok2 := s.Condition("Null", "s3:x-amz-server-side-encryption-aws-kms-key-id")
		if ok1 && ok2 && cdktest.SameSet(sse, []string{"aws:kms"}) && cdktest.SameSet(null, []string{"true"}) {
			noKeyID = true
		}
		if sse, ok := s.Condition("StringNotEqualsIfExists", "s3:x-amz-server-side-encryption"); ok && cdktest.SameSet(sse, []string{"aws:kms"}) {
			withoutKms = true
		}
		if k, ok := s.Condition("StringNotEqualsIfExists", "s3:x-amz-server-side-encryption-aws-kms-key-id"); ok && cdktest.SameSet(k, []string{"${" + key + ".Arn}"}) {
			otherKey = true
		}
		if res := s.Resources(); !cdktest.SameSet(res, []string{"${" + id + ".Arn}/*"}) {
			t.Errorf("write deny %q covers %v, want every object", s.Sid(), res)
		}
		if p := s.Principals("AWS"); !cdktest.SameSet(p, []string{"*"}) {
			t.Errorf("write deny %q applies to %v, want everyone", s.Sid(), p)
		}
	}
	if !withoutKms {
		t.Error("no statement denies s3:PutObject unless s3:x-amz-server-side-encryption is aws:kms")
	}
	if !otherKey {
		t.Error("no statement denies s3:PutObject with a key other than the asset key")
	}
	if !noKeyID {
		t.Error("no statement denies s3:PutObject that asks for aws:kms and names no key, which S3 encrypts with aws/s3")
	}
}

func TestAssetBucketServesDataOnlyThroughTheProductionEndpoint(t *testing.T) {
	tpl := buckets(t)
	id := bucket(t, tpl, assets).ID
	var found int
	for _, s := range bucketPolicy(t, tpl, id) {
		vpce, ok := s.Condition("StringNotEquals", "aws:SourceVpce")
		if _, exemptOnly := s.Condition("ArnLike", "aws:PrincipalArn"); !ok || exemptOnly {
			// The exempt roles' own statement: see
			// TestExemptRolesReachDataOnlyFromTheStudiosRanges.
			continue
		}
		found++
		if s.Effect() != "Deny" || !cdktest.SameSet(s.Principals("AWS"), []string{"*"}) {
			t.Errorf("endpoint statement %q: %s for %v, want Deny for everyone", s.Sid(), s.Effect(), s.Principals("AWS"))
		}
		if !cdktest.SameSet(vpce, []string{endpoint}) {
			t.Errorf("endpoint statement %q: aws:SourceVpce %v, want %s", s.Sid(), vpce, endpoint)
		}
		if got := s.Actions(); !cdktest.SameSet(got, storage.DataActions) {
			t.Errorf("endpoint statement %q denies %v, want DataActions %v", s.Sid(), got, storage.DataActions)
		}
		if arns, _ := s.Condition("ArnNotLike", "aws:PrincipalArn"); !cdktest.SameSet(arns, exempt) {
			t.Errorf("endpoint statement %q exempts %v, want only %v", s.Sid(), arns, exempt)
		}
		if res := s.Resources(); !cdktest.SameSet(res, []string{"${" + id + ".Arn}", "${" + id + ".Arn}/*"}) {
			t.Errorf("endpoint statement %q covers %v, want the bucket and its objects", s.Sid(), res)
		}
	}
	if found != 1 {
		t.Errorf("%d statements condition on aws:SourceVpce, want 1", found)
	}
	// Nothing in the bucket policy grants; it only denies (and lets S3
	// deliver access logs, which this bucket does not receive).
	for _, s := range bucketPolicy(t, tpl, id) {
		if s.Effect() == "Allow" {
			t.Errorf("asset bucket policy allows %v to %v", s.Actions(), s["Principal"])
		}
	}
}

func TestAccessLogBucketUsesS3ManagedKeysAndArchivesToGlacier(t *testing.T) {
	tpl := buckets(t)
	// S3 server access logging delivers only to buckets encrypted with
	// SSE-S3 (AES256): a bucket with a customer-managed default key would
	// silently receive nothing. It holds request metadata, never content.
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{
		"Properties": map[string]any{
			"BucketName": logs,
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256", "KMSMasterKeyID": assertions.Match_Absent()},
			}}},
			"PublicAccessBlockConfiguration": blockAll,
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"LifecycleConfiguration": map[string]any{"Rules": []any{cdktest.Obj(map[string]any{
				"Status":      "Enabled",
				"Transitions": []any{map[string]any{"StorageClass": "GLACIER", "TransitionInDays": 90}},
			})}},
		},
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
	})
	id := bucket(t, tpl, logs).ID
	statements := bucketPolicy(t, tpl, id)
	var tls bool
	for _, s := range statements {
		if v, _ := s.Condition("Bool", "aws:SecureTransport"); s.Effect() == "Deny" && cdktest.SameSet(v, []string{"false"}) {
			tls = true
		}
		if s.Effect() == "Allow" && !cdktest.SameSet(s.Principals("Service"), []string{"logging.s3.amazonaws.com"}) {
			t.Errorf("access-log bucket allows %v to %v: only S3 log delivery may write", s.Actions(), s["Principal"])
		}
	}
	if !tls {
		t.Error("the access-log bucket does not deny requests without TLS")
	}
}

func TestAssetBucketIsNotEncryptedLikeTheAccessLogBucket(t *testing.T) {
	// The negative of the SSE-S3 exception: content never falls back to it.
	tpl := buckets(t)
	cdktest.CountProperties(t, tpl, "AWS::S3::Bucket", map[string]any{
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": cdktest.ArrayWith(cdktest.Obj(map[string]any{
			"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"},
		}))},
	}, 1)
	cdktest.CountProperties(t, tpl, "AWS::S3::Bucket", map[string]any{
		"BucketName": assets,
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": cdktest.ArrayWith(cdktest.Obj(map[string]any{
			"ServerSideEncryptionByDefault": cdktest.Obj(map[string]any{"SSEAlgorithm": assertions.Match_Not("aws:kms")}),
		}))},
	}, 0)
}

// TestAssetBucketNeverExpiresContent: lifecycle rules may clean up
// abandoned multipart uploads, never expire, archive or drop content or
// its versions.
func TestAssetBucketNeverExpiresContent(t *testing.T) {
	b := bucket(t, buckets(t), assets)
	lc, _ := b.Properties["LifecycleConfiguration"].(map[string]any)
	rules, _ := lc["Rules"].([]any)
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		for k := range rule {
			switch k {
			case "Id", "Status", "AbortIncompleteMultipartUpload", "Prefix":
			default:
				t.Errorf("asset bucket lifecycle rule %v sets %s", rule["Id"], k)
			}
		}
	}
}

func TestObjectAccessUsesTheAssetKeyOnlyThroughS3(t *testing.T) {
	tpl := buckets(t)
	id := bucket(t, tpl, assets).ID
	key := cdktest.One(t, tpl, "AWS::KMS::Key", nil).ID
	p := cdktest.One(t, tpl, "AWS::IAM::Policy", nil)
	statements := cdktest.Statements(p.Properties["PolicyDocument"])
	if len(statements) != 2 {
		t.Fatalf("want 2 statements, got %d: %v", len(statements), statements)
	}
	for _, s := range statements {
		for _, a := range s.Actions() {
			if a == "*" || a == "s3:*" || a == "kms:*" || a == "kms:CreateGrant" || a == "kms:ReEncrypt*" {
				t.Errorf("object access may %s", a)
			}
		}
		switch s.Sid() {
		case "ReadWriteOwnAssets":
			if res := s.Resources(); !cdktest.SameSet(res, []string{"${" + id + ".Arn}", "${" + id + ".Arn}/*"}) {
				t.Errorf("object access reaches %v, want the asset bucket and its objects", res)
			}
			if !cdktest.SameSet(s.Actions(), storage.ObjectActions) {
				t.Errorf("object access may %v, want ObjectActions", s.Actions())
			}
		case "AssetKeyThroughS3Only":
			if via, _ := s.Condition("StringEquals", "kms:ViaService"); !cdktest.SameSet(via, []string{"s3." + region + ".amazonaws.com"}) {
				t.Errorf("key statement via %v, want s3.%s.amazonaws.com", via, region)
			}
			if res := s.Resources(); !cdktest.SameSet(res, []string{"${" + key + ".Arn}"}) {
				t.Errorf("key statement on %v, want the asset key", res)
			}
		default:
			t.Errorf("unexpected statement %q", s.Sid())
		}
	}
}

// TestAssetBucketServesDataOnlyToTheProductionsRoles: an administrator of a
// shared account, or a role someone creates there, is refused the data
// whatever its IAM policy grants, even through the production's endpoint.
func TestAssetBucketServesDataOnlyToTheProductionsRoles(t *testing.T) {
	tpl := buckets(t)
	id := bucket(t, tpl, assets).ID
	var found bool
	for _, s := range bucketPolicy(t, tpl, id) {
		arns, ok := s.Condition("ArnNotLike", "aws:PrincipalArn")
		if s.Effect() != "Deny" || !ok || !cdktest.SameSet(arns, users) {
			continue
		}
		found = true
		for _, a := range []string{"s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:ListBucket*"} {
			if !s.Has(a) {
				t.Errorf("statement %q does not deny %s to other principals", s.Sid(), a)
			}
		}
		if p := s.Principals("AWS"); !cdktest.SameSet(p, []string{"*"}) {
			t.Errorf("statement %q applies to %v, want everyone", s.Sid(), p)
		}
	}
	if !found {
		t.Errorf("no statement denies data access to every principal but %v", users)
	}
}

// TestExemptRolesReachDataOnlyFromTheStudiosRanges: the data operator's
// session credentials, copied elsewhere, reach no data: outside the VPC
// endpoint, only from the studio's admin ranges.
func TestExemptRolesReachDataOnlyFromTheStudiosRanges(t *testing.T) {
	tpl := buckets(t)
	var s cdktest.Statement
	for _, st := range bucketPolicy(t, tpl, bucket(t, tpl, assets).ID) {
		if st.Sid() == "DenyExemptRolesOutsideTheStudiosRanges" {
			s = st
		}
	}
	if s == nil {
		t.Fatal("no statement denies the exempt roles outside the studio's ranges")
	}
	for _, c := range []struct{ op, key, want string }{
		{"ArnLike", "aws:PrincipalArn", exempt[0]},
		{"StringNotEquals", "aws:SourceVpce", endpoint},
		{"NotIpAddress", "aws:SourceIp", "198.51.100.0/24"},
	} {
		if got, _ := s.Condition(c.op, c.key); !cdktest.SameSet(got, []string{c.want}) {
			t.Errorf("%s %s = %v, want %s", c.op, c.key, got, c.want)
		}
	}
	if s.Effect() != "Deny" || !s.Has("s3:GetObject*") || !s.Has("s3:PutObject*") {
		t.Errorf("%s %v, want a Deny of the data actions", s.Effect(), s.Actions())
	}
}

var closing cdktest.Once[assertions.Template]

// A closing production's asset bucket refuses every new object from
// everyone, without condition; an active one has no such statement.
func TestClosingAssetBucketDeniesEveryNewObject(t *testing.T) {
	tpl := closing.Get(t, func() assertions.Template {
		s := cdktest.NewStack(t, account, region)
		key := awskms.NewKey(s, jsii.String("AssetKey"), nil)
		storage.NewAssetBucket(s, "Assets", storage.AssetBucketProps{
			Name: assets, Key: key, AccessLogs: storage.NewAccessLogBucket(s, "AccessLogs", logs), LogPrefix: "assets/",
			Endpoint: jsii.String(endpoint), Exempt: exempt, Users: users, Closing: true,
		})
		return cdktest.Template(t, s)
	})
	id := bucket(t, tpl, assets).ID
	cdktest.HasResource(t, tpl, "AWS::S3::Bucket", map[string]any{"Properties": map[string]any{"BucketName": assets}, "DeletionPolicy": "Retain"})
	cdktest.HasProperties(t, tpl, "AWS::S3::BucketPolicy", map[string]any{
		"Bucket": cdktest.Ref(id),
		"PolicyDocument": cdktest.Obj(map[string]any{"Statement": cdktest.ArrayWith(map[string]any{
			"Sid":       storage.ClosingSid,
			"Effect":    "Deny",
			"Principal": map[string]any{"AWS": "*"},
			"Action":    "s3:PutObject",
			"Condition": assertions.Match_Absent(),
			"Resource":  map[string]any{"Fn::Join": []any{"", []any{cdktest.GetAtt(id, "Arn"), "/*"}}},
		})}),
	})
	active := buckets(t)
	for _, st := range bucketPolicy(t, active, bucket(t, active, assets).ID) {
		if st["Sid"] == storage.ClosingSid {
			t.Errorf("an active asset bucket carries %s", storage.ClosingSid)
		}
	}
}
