package rules

import (
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// How rules tell stacks and resources apart, from the assembly alone.

// isHub reports whether s is the management network stack: a shared stack
// (Tier "shared") of the network resource group that belongs to no
// production. It is the only stack allowed an internet path (license
// egress). Anything else, untagged stacks included, is held to the
// production rules.
func isHub(s *cfn.Stack) bool {
	return s.Tags["Tier"] == "shared" && s.Tags["ResourceGroup"] == "network" && s.Tags["Production"] == ""
}

// isProduction reports whether s belongs to one production.
func isProduction(s *cfn.Stack) bool { return s.Tags["Production"] != "" }

// tag returns a resource's tag, or "".
func tag(r *cfn.Resource, key string) string {
	tags, _ := r.Tags()
	return tags[key]
}

// customerKey resolves a KMS key reference to a customer-managed key: an
// AWS::KMS::Key of the assembly (directly, through an alias, an SSM
// parameter or an export), or a key ARN or id the template names as text.
// It returns the key resource when it is in the assembly, and whether the
// reference is a customer-managed key at all. An AWS-managed alias
// (alias/aws/...), nothing, or a reference that cannot be known at synth
// time (a template parameter, say) is not; a key ARN or a customer alias
// from outside the assembly is.
func customerKey(s *cfn.Stack, v any) (*cfn.Resource, bool) {
	if !cfn.Present(v) {
		return nil, false
	}
	r := s.Resolve(v)
	if r != nil && r.Type == "AWS::KMS::Alias" {
		r = r.Resolve("TargetKeyId")
	}
	if r != nil {
		return r, r.Type == "AWS::KMS::Key"
	}
	text, known := s.Literal(v)
	switch {
	case !known || strings.Contains(text, "alias/aws/"):
		return nil, false
	case strings.HasPrefix(text, "alias/"):
		if a := s.Assembly().Alias(text); a != nil {
			k := a.Resolve("TargetKeyId")
			return k, k != nil && k.Type == "AWS::KMS::Key"
		}
		return nil, true
	}
	return nil, strings.Contains(text, ":key/") || strings.Contains(text, ":alias/") || len(text) == 36
}

// kmsKeyProblem describes where a key is missing or not customer-managed, for
// a finding; "" when v is a customer-managed key.
func kmsKeyProblem(s *cfn.Stack, v any) string {
	if !cfn.Present(v) {
		return "no customer-managed key: the AWS-managed key would be used"
	}
	if _, ok := customerKey(s, v); !ok {
		return "is " + s.String(v) + ", not a customer-managed key"
	}
	return ""
}

// logArchive returns the log-archive stack (Tier "shared", ResourceGroup
// "logging") when it is in an account of its own: no management network
// stack shares its account. A studio without one keeps its logging stack
// in the management account, where a copy would be as deletable as the
// logs it copies; rules about copies then have nothing to demand.
func logArchive(a *cfn.Assembly) *cfn.Stack {
	var logging *cfn.Stack
	for _, s := range a.Stacks {
		if s.Tags["Tier"] == "shared" && s.Tags["ResourceGroup"] == "logging" && s.Tags["Production"] == "" {
			logging = s
		}
	}
	if logging == nil {
		return nil
	}
	for _, s := range a.Stacks {
		if isHub(s) && s.Account == logging.Account {
			return nil
		}
	}
	return logging
}

// archiveBucket finds the bucket of the log-archive stack that an S3 ARN
// (arn:aws:s3:::bucket/prefix) names, and says why it is no archive: its
// copies must outlive anyone's wish to delete them (Object Lock in
// COMPLIANCE mode) and be encrypted with a customer-managed key.
func archiveBucket(archive *cfn.Stack, s3Arn string) (bucket *cfn.Resource, prefix, problem string) {
	name, prefix, _ := strings.Cut(strings.TrimPrefix(s3Arn, "arn:aws:s3:::"), "/")
	if !strings.HasPrefix(s3Arn, "arn:aws:s3:::") || name == "" {
		return nil, "", "is " + orUnset(s3Arn) + ", not a bucket of the log-archive account"
	}
	for _, b := range archive.OfType("AWS::S3::Bucket") {
		if b.Name() == name {
			bucket = b
		}
	}
	switch {
	case bucket == nil:
		return nil, prefix, "names " + name + ", which is no bucket of the log-archive stack " + archive.Name
	case !cfn.Truthy(bucket.Properties["ObjectLockEnabled"]) || bucket.Stack.String(bucket.Prop("ObjectLockConfiguration.Rule.DefaultRetention.Mode")) != "COMPLIANCE":
		return bucket, prefix, "bucket " + name + " does not lock its objects in COMPLIANCE mode: the log-archive account could delete the copies"
	}
	if p := kmsKeyProblem(bucket.Stack, bucket.Prop("BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID")); p != "" {
		return bucket, prefix, "bucket " + name + ": KMSMasterKeyID " + p
	}
	return bucket, prefix, ""
}

// bucketAllowsWrite reports whether a bucket policy of bucket allows
// s3:PutObject of the key (under prefix) to who: a service principal
// (with aws:SourceAccount account) or a principal of account.
func bucketAllowsWrite(bucket *cfn.Resource, key, service, account string) bool {
	object := "arn:aws:s3:::" + bucket.Name() + "/" + key
	for _, p := range bucket.Stack.Assembly().Policies() {
		if p.Kind != cfn.Bucket || !slices.Contains(p.Targets, bucket) {
			continue
		}
		for _, st := range p.Statements {
			if !st.Grants("s3:PutObject") || st.Principal == nil {
				continue
			}
			covered := false
			for _, r := range st.Resource {
				covered = covered || cfn.Glob(r, object)
			}
			if !covered {
				continue
			}
			if service != "" {
				if slices.Contains(st.Principal.Service, service) && slices.Contains(st.Values(nil, "aws:SourceAccount"), account) {
					return true
				}
				continue
			}
			for _, who := range st.Principal.AWS {
				if who == account || strings.HasPrefix(who, "arn:aws:iam::"+account+":") {
					return true
				}
			}
		}
	}
	return false
}
