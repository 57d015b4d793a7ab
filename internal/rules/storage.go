package rules

import (
	"fmt"
	"slices"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Storage rules: ISE 5.1, 9.1, 10.6.

func init() {
	register(
		Rule{ID: "RE-STO-001", Controls: []string{"5.1"},
			Description: "Every S3 bucket blocks all four kinds of public access and disables ACLs (BucketOwnerEnforced)",
			Check:       checkBucketPublicAccess},
		Rule{ID: "RE-STO-002", Controls: []string{"5.1", "10.6"},
			Description: "Every S3 bucket has a policy that denies every S3 action on requests without TLS (aws:SecureTransport false)",
			Check:       checkBucketTLSOnly},
		Rule{ID: "RE-STO-003", Controls: []string{"9.1", "10.6"},
			Description: "Every S3 bucket encrypts by default with a customer-managed KMS key, except server access log targets, which S3 allows only SSE-S3",
			Check:       checkBucketEncryption},
		Rule{ID: "RE-STO-004", Controls: []string{"9.1", "10.6"},
			Description: "Asset buckets (ResourceGroup asset-storage) deny writes that ask for other encryption than aws:kms or another key than the bucket's",
			Check:       checkAssetWritesNeedTheKey},
		Rule{ID: "RE-STO-005", Controls: []string{"2.4", "5.1"},
			Description: "Asset buckets deny object reads, writes and deletes that do not come through the production's VPC endpoint (aws:SourceVpce); the exchange bucket and the DR replica, which no VPC reaches, are RE-XCH-003's",
			Check:       checkAssetAccessThroughEndpoint},
		Rule{ID: "RE-STO-006", Controls: []string{"5.1", "8.1"},
			Description: "Every S3 bucket is versioned and retained on stack update and delete",
			Check:       checkBucketRetained},
	)
}

const assetStorage = "asset-storage"

func checkBucketPublicAccess(a *cfn.Assembly, report Reporter) {
	for _, b := range a.Resources("AWS::S3::Bucket") {
		for _, f := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			p := "PublicAccessBlockConfiguration." + f
			if !cfn.Truthy(b.Prop(p)) {
				report(b, p, "is %s, want true", orUnset(b.Prop(p)))
			}
		}
		owner := ""
		for _, rule := range cfn.AsList(b.Prop("OwnershipControls.Rules")) {
			owner = b.Stack.String(cfn.AsMap(rule)["ObjectOwnership"])
		}
		if owner != "BucketOwnerEnforced" {
			report(b, "OwnershipControls.Rules", "object ownership is %q, want BucketOwnerEnforced (ACLs disabled)", owner)
		}
	}
}

// bucketStatement is one statement of a bucket policy.
type bucketStatement struct {
	p  *cfn.Policy
	st cfn.Statement
}

// bucketPolicies returns the bucket policy statements of every bucket.
func bucketPolicies(a *cfn.Assembly) map[*cfn.Resource][]bucketStatement {
	out := map[*cfn.Resource][]bucketStatement{}
	for _, p := range a.Policies() {
		if p.Kind != cfn.Bucket {
			continue
		}
		for _, b := range p.Targets {
			for _, st := range p.Statements {
				out[b] = append(out[b], bucketStatement{p, st})
			}
		}
	}
	return out
}

func checkBucketTLSOnly(a *cfn.Assembly, report Reporter) {
	policies := bucketPolicies(a)
	for _, b := range a.Resources("AWS::S3::Bucket") {
		denies := false
		for _, s := range policies[b] {
			secure := s.st.Values(func(op string) bool { return !cfn.Negated(op) }, "aws:SecureTransport")
			denies = denies || (s.st.Deny() && s.st.Covers("s3:*") && slices.Contains(secure, "false"))
		}
		if !denies {
			report(b, "", "no bucket policy denies s3:* when aws:SecureTransport is false: requests without TLS are accepted")
		}
	}
}

// accessLogTargets are the buckets that receive another bucket's server
// access logs, with that bucket.
func accessLogTargets(a *cfn.Assembly) map[*cfn.Resource]*cfn.Resource {
	out := map[*cfn.Resource]*cfn.Resource{}
	for _, b := range a.Resources("AWS::S3::Bucket") {
		if t := b.Resolve("LoggingConfiguration.DestinationBucketName"); t != nil {
			out[t] = b
			continue
		}
		name := b.Stack.String(b.Prop("LoggingConfiguration.DestinationBucketName"))
		for _, t := range a.Resources("AWS::S3::Bucket") {
			if name != "" && t.Name() == name {
				out[t] = b
			}
		}
	}
	return out
}

func checkBucketEncryption(a *cfn.Assembly, report Reporter) {
	targets := accessLogTargets(a)
	for _, b := range a.Resources("AWS::S3::Bucket") {
		const sse = "BucketEncryption.ServerSideEncryptionConfiguration"
		rules := cfn.AsList(b.Prop(sse))
		if len(rules) == 0 {
			report(b, "BucketEncryption", "no default encryption")
		}
		for i, r := range rules {
			p := fmt.Sprintf("%s[%d].ServerSideEncryptionByDefault", sse, i)
			algo := b.Stack.String(cfn.At(r, "ServerSideEncryptionByDefault.SSEAlgorithm"))
			if source := targets[b]; source != nil {
				if algo != "AES256" {
					report(b, p+".SSEAlgorithm", "is %q; the bucket receives the access logs of %s, which S3 delivers only to SSE-S3 (AES256) buckets", algo, source)
				}
				continue
			}
			if algo != "aws:kms" && algo != "aws:kms:dsse" {
				report(b, p+".SSEAlgorithm", "is %q, want aws:kms with a customer-managed key", algo)
				continue
			}
			if problem := kmsKeyProblem(b.Stack, cfn.At(r, "ServerSideEncryptionByDefault.KMSMasterKeyID")); problem != "" {
				report(b, p+".KMSMasterKeyID", "%s", problem)
			}
		}
	}
}

// denies reports whether some Deny statement covers action under a
// negated condition on key whose values satisfy want.
func denies(sts []bucketStatement, action, key string, want func(values []string) bool) bool {
	for _, s := range sts {
		if !s.st.Deny() || !s.st.Covers(action) {
			continue
		}
		if vals := s.st.Values(cfn.Negated, key); len(vals) > 0 && want(vals) {
			return true
		}
	}
	return false
}

func assetBuckets(a *cfn.Assembly) []*cfn.Resource {
	var out []*cfn.Resource
	for _, b := range a.Resources("AWS::S3::Bucket") {
		if tag(b, "ResourceGroup") == assetStorage {
			out = append(out, b)
		}
	}
	return out
}

func checkAssetWritesNeedTheKey(a *cfn.Assembly, report Reporter) {
	policies := bucketPolicies(a)
	for _, b := range assetBuckets(a) {
		key := b.Stack.String(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID"))
		if !denies(policies[b], "s3:PutObject", "s3:x-amz-server-side-encryption", func(v []string) bool { return slices.Contains(v, "aws:kms") }) {
			report(b, "", "no bucket policy denies s3:PutObject unless s3:x-amz-server-side-encryption is aws:kms")
		}
		if !denies(policies[b], "s3:PutObject", "s3:x-amz-server-side-encryption-aws-kms-key-id", func(v []string) bool { return slices.Equal(v, []string{key}) }) {
			report(b, "", "no bucket policy denies s3:PutObject unless s3:x-amz-server-side-encryption-aws-kms-key-id is the bucket's key %s", key)
		}
	}
}

func checkAssetAccessThroughEndpoint(a *cfn.Assembly, report Reporter) {
	policies := bucketPolicies(a)
	for _, b := range assetBuckets(a) {
		if b.Stack.Tags[dataPathTag] != "" {
			continue
		}
		for _, action := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
			if !denies(policies[b], action, "aws:SourceVpce", func([]string) bool { return true }) {
				report(b, "", "no bucket policy denies %s from outside the production's VPC endpoint (aws:SourceVpce)", action)
			}
		}
	}
}

func checkBucketRetained(a *cfn.Assembly, report Reporter) {
	for _, b := range a.Resources("AWS::S3::Bucket") {
		checkRetained(b, report)
		if v := b.Stack.String(b.Prop("VersioningConfiguration.Status")); v != "Enabled" {
			report(b, "VersioningConfiguration.Status", "is %s, want Enabled", orUnset(b.Prop("VersioningConfiguration.Status")))
		}
	}
}
