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

// writer is who writes to a bucket: a service on an account's behalf
// (Service set), or a role of an account.
type writer struct {
	Service string
	Account string
	Role    string            // the role's ARN, for a role
	Tags    map[string]string // the role's tags, its aws:PrincipalTag keys
}

// context is the request context of a write, as far as the templates can
// say: the keys the log-archive policies key a writer's prefix to.
func (w writer) context() map[string]string {
	ctx := map[string]string{}
	if w.Service != "" {
		ctx["aws:sourceaccount"] = w.Account
		return ctx
	}
	ctx["aws:principalaccount"], ctx["aws:principalarn"] = w.Account, w.Role
	for k, v := range w.Tags {
		ctx["aws:principaltag/"+strings.ToLower(k)] = v
	}
	return ctx
}

// substitute fills the policy variables of s (${aws:PrincipalAccount} and
// the like) from ctx, and says whether every one had a value.
func substitute(s string, ctx map[string]string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return "", false
		}
		v, ok := ctx[strings.ToLower(s[i+2:i+j])]
		if !ok {
			return "", false
		}
		b.WriteString(s[:i] + v)
		s = s[i+j+1:]
	}
}

// holds reports whether the statement's conditions on the writer's own
// keys hold; conditions on what the request carries (an ACL, say) are the
// writer's to meet. An organization condition (aws:PrincipalOrgID,
// aws:SourceOrgID) is taken to hold: manifests validation keeps every
// account of the estate in the studio's organization.
func holds(st cfn.Statement, ctx map[string]string) bool {
	for op, block := range st.Condition {
		for key, values := range block {
			got, known := ctx[strings.ToLower(key)]
			if op == "Null" {
				if slices.Contains(values, "false") == !known {
					return false
				}
				continue
			}
			if !known {
				continue
			}
			base := strings.TrimSuffix(op, "IfExists")
			glob, negated := strings.HasSuffix(base, "Like"), strings.Contains(base, "Not")
			matched := false
			for _, v := range values {
				want, full := substitute(v, ctx)
				matched = matched || full && (want == got || glob && cfn.Glob(want, got))
			}
			if matched == negated {
				return false
			}
		}
	}
	return true
}

// admittedBy reports whether a statement's principal is the writer.
func (w writer) admittedBy(p *cfn.Principal) bool {
	if w.Service != "" {
		return slices.Contains(p.Service, w.Service)
	}
	if p.Wildcard {
		return true
	}
	for _, who := range p.AWS {
		if who == w.Account || who == w.Role || who == "arn:aws:iam::"+w.Account+":root" {
			return true
		}
	}
	return false
}

// bucketAllowsWrite reports whether a bucket policy of bucket lets the
// writer put the object key: a statement names it as principal, covers
// the key once its policy variables are filled in, and its conditions on
// the writer hold.
func bucketAllowsWrite(bucket *cfn.Resource, key string, w writer) bool {
	object := "arn:aws:s3:::" + bucket.Name() + "/" + key
	ctx := w.context()
	for _, p := range bucket.Stack.Assembly().Policies() {
		if p.Kind != cfn.Bucket || !slices.Contains(p.Targets, bucket) {
			continue
		}
		for _, st := range p.Statements {
			if st.Effect != "Allow" || !st.Grants("s3:PutObject") || st.Principal == nil || !w.admittedBy(st.Principal) {
				continue
			}
			covered := false
			for _, r := range st.Resource {
				r, full := substitute(r, ctx)
				covered = covered || full && cfn.Glob(r, object)
			}
			if covered && holds(st, ctx) {
				return true
			}
		}
	}
	return false
}
