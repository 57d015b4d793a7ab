package rules

import (
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
