package rules

import (
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Key rules: ISE 9.1 to 9.5.

func init() {
	register(
		Rule{ID: "RE-KEY-001", Controls: []string{"9.5"},
			Description: "Every KMS key rotates its material at least yearly, and no key policy allows turning rotation off",
			Check:       checkKeyRotation},
		Rule{ID: "RE-KEY-002", Controls: []string{"9.1"},
			Description: "Every KMS key is retained on stack update and delete, with a 30-day deletion window",
			Check:       checkKeyRetained},
		Rule{ID: "RE-KEY-003", Controls: []string{"9.2"},
			Description: "No key policy lets everyone or a whole account use the key for data (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, CreateGrant) without a condition that names a service, caller or principal",
			Check:       checkNoWildcardKeyUser},
		Rule{ID: "RE-KEY-004", Controls: []string{"9.2", "9.3"},
			Description: "Every key has a key policy, and no statement of it allows kms:*, * or everything but a list (NotAction)",
			Check:       checkNoKeyWildcardActions},
		Rule{ID: "RE-KEY-005", Controls: []string{"9.3"},
			Description: "No key policy statement, and no principal across statements, both administers the key and uses it for data",
			Check:       checkKeyAdminUseSeparated},
		Rule{ID: "RE-KEY-006", Controls: []string{"9.2", "9.3"},
			Description: "Only named principals administer a key: no statement lets everyone or a whole account (an account root without an aws:PrincipalArn condition) administer it, so no IAM administrator of a shared account can rewrite a production's key policy",
			Check:       checkKeyAdminsNamed},
	)
}

// KMS actions that administer a key, and actions that use it (a grant
// delegates use, so it counts as use).
var (
	kmsAdminActions = []string{
		"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DisableKey",
		"kms:EnableKey", "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:CreateAlias",
		"kms:DeleteAlias", "kms:UpdateAlias", "kms:UpdateKeyDescription", "kms:RevokeGrant",
		"kms:TagResource", "kms:UntagResource", "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial",
		"kms:ReplicateKey", "kms:UpdatePrimaryRegion",
	}
	kmsDataActions = []string{
		"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
		"kms:GenerateDataKeyPair", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant",
	}
)

func checkKeyRotation(a *cfn.Assembly, report Reporter) {
	for _, k := range a.Resources("AWS::KMS::Key") {
		// Asymmetric and HMAC keys cannot rotate; renderenv makes none.
		if !cfn.Truthy(k.Properties["EnableKeyRotation"]) {
			report(k, "EnableKeyRotation", "is %s, want true", orUnset(k.Properties["EnableKeyRotation"]))
			continue
		}
		if days, ok := cfn.Number(k.Properties["RotationPeriodInDays"]); ok && days > 365 {
			report(k, "RotationPeriodInDays", "rotates only every %v days, want at most 365", days)
		}
	}
	// Nobody may turn rotation off: not even the key administrator.
	keyStatements(a, func(p *cfn.Policy, st cfn.Statement) {
		if st.Grants("kms:DisableKeyRotation") {
			report(p.Resource, p.StatementPath(st), "allows kms:DisableKeyRotation")
		}
	})
}

func orUnset(v any) string {
	if v == nil {
		return "not set"
	}
	return cfn.Compact(v)
}

// checkRetained reports the removal policies of r that are not Retain: data
// at rest is never deleted by a stack update or delete.
func checkRetained(r *cfn.Resource, report Reporter) {
	if r.DeletionPolicy != "Retain" {
		report(r, "DeletionPolicy", "is %q, want Retain: deleting the stack would delete the data", r.DeletionPolicy)
	}
	if r.UpdateReplacePolicy != "Retain" {
		report(r, "UpdateReplacePolicy", "is %q, want Retain: a replacing update would delete the data", r.UpdateReplacePolicy)
	}
}

func checkKeyRetained(a *cfn.Assembly, report Reporter) {
	for _, k := range a.Resources("AWS::KMS::Key") {
		checkRetained(k, report)
		if d, ok := cfn.Number(k.Properties["PendingWindowInDays"]); !ok || d != 30 {
			report(k, "PendingWindowInDays", "is %s, want 30", orUnset(k.Properties["PendingWindowInDays"]))
		}
	}
}

// keyStatements runs fn over every statement of every key policy.
func keyStatements(a *cfn.Assembly, fn func(p *cfn.Policy, st cfn.Statement)) {
	for _, p := range a.Policies() {
		if p.Kind == cfn.Key {
			for _, st := range p.Statements {
				fn(p, st)
			}
		}
	}
}

// Condition keys that bound a statement to a service, a caller, a
// principal or a resource.
var boundingKeys = []string{
	"kms:ViaService", "kms:CallerAccount", "aws:PrincipalArn", "aws:SourceArn", "aws:SourceAccount",
	"kms:EncryptionContext", "kms:GrantIsForAWSResource", "aws:PrincipalOrgID", "aws:PrincipalAccount",
	"aws:SourceVpce", "aws:SourceVpc", "aws:PrincipalServiceName",
}

// bounded reports whether a statement's condition narrows who may use it:
// a bounding key under an operator that is neither negated nor IfExists
// (both match requests that lack the key).
func bounded(st cfn.Statement) bool {
	for op, block := range st.Condition {
		if cfn.Negated(op) || strings.HasSuffix(op, "IfExists") {
			continue
		}
		for k := range block {
			for _, b := range boundingKeys {
				if strings.HasPrefix(strings.ToLower(k), strings.ToLower(b)) {
					return true
				}
			}
		}
	}
	return false
}

// broadPrincipal returns what makes a statement's principal everyone or a
// whole account, or "".
func broadPrincipal(st cfn.Statement) string {
	if st.NotPrincipal != nil {
		return "everyone but " + strings.Join(st.NotPrincipal.All(), ", ")
	}
	if st.Principal == nil {
		return ""
	}
	if st.Principal.Wildcard {
		return "*"
	}
	for _, p := range st.Principal.AWS {
		if cfn.AccountRoot(p) {
			return p
		}
	}
	return ""
}

func checkNoWildcardKeyUser(a *cfn.Assembly, report Reporter) {
	keyStatements(a, func(p *cfn.Policy, st cfn.Statement) {
		if !st.Allow() || bounded(st) {
			return
		}
		use := st.CoveredOf(kmsDataActions)
		if who := broadPrincipal(st); who != "" && len(use) > 0 {
			report(p.Resource, p.StatementPath(st), "lets %s use the key (%s) with no condition naming a service, caller or principal",
				who, strings.Join(use, ", "))
		}
	})
}

func checkNoKeyWildcardActions(a *cfn.Assembly, report Reporter) {
	for _, k := range a.Resources("AWS::KMS::Key") {
		if len(cfn.AsList(cfn.At(k.Properties["KeyPolicy"], "Statement"))) == 0 {
			report(k, "KeyPolicy", "has no statements")
		}
	}
	keyStatements(a, func(p *cfn.Policy, st cfn.Statement) {
		if st.Allow() {
			wildcardActions(p, st, report)
		}
	})
}

// wildcardActions reports an Allow statement that grants every KMS action
// or everything but a list.
func wildcardActions(p *cfn.Policy, st cfn.Statement, report Reporter) {
	for _, act := range st.Action {
		if act == "*" || strings.EqualFold(act, "kms:*") {
			report(p.Resource, p.StatementPath(st)+".Action", "allows %q", act)
		}
	}
	if len(st.NotAction) > 0 {
		report(p.Resource, p.StatementPath(st)+".NotAction", "allows everything but %s", strings.Join(st.NotAction, ", "))
	}
}

// principalPatterns are the principal ARNs a statement names: its
// aws:PrincipalArn conditions when it has them (they narrow whatever the
// Principal element says, everyone included), else its explicit
// principals other than an account root.
func principalPatterns(st cfn.Statement) []string {
	out := st.Values(func(op string) bool { return !cfn.Negated(op) }, "aws:PrincipalArn")
	if len(out) > 0 {
		return out
	}
	if st.Principal != nil {
		for _, p := range st.Principal.AWS {
			if !cfn.AccountRoot(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func checkKeyAdminUseSeparated(a *cfn.Assembly, report Reporter) {
	for _, p := range a.Policies() {
		if p.Kind != cfn.Key {
			continue
		}
		var admin, use []cfn.Statement
		for _, st := range p.Statements {
			if !st.Allow() {
				continue
			}
			adm, u := st.CoveredOf(kmsAdminActions), st.CoveredOf(kmsDataActions)
			if len(adm) > 0 && len(u) > 0 {
				report(p.Resource, p.StatementPath(st), "both administers the key (%s) and uses it (%s)", shortActions(adm), shortActions(u))
			}
			if len(adm) > 0 {
				admin = append(admin, st)
			}
			if len(u) > 0 {
				use = append(use, st)
			}
		}
		for _, ad := range admin {
			for _, us := range use {
				if ad.Index == us.Index {
					continue
				}
				for _, pa := range principalPatterns(ad) {
					if i := slices.IndexFunc(principalPatterns(us), func(pu string) bool { return cfn.Glob(pa, pu) || cfn.Glob(pu, pa) }); i >= 0 {
						report(p.Resource, p.StatementPath(ad), "%s administers the key here and, as %s, uses it in %s", pa, principalPatterns(us)[i], p.StatementPath(us))
					}
				}
			}
		}
	}
}

func shortActions(as []string) string {
	var out []string
	for _, a := range as {
		out = append(out, strings.TrimPrefix(a, "kms:"))
	}
	return strings.Join(out, ", ")
}

func checkKeyAdminsNamed(a *cfn.Assembly, report Reporter) {
	keyStatements(a, func(p *cfn.Policy, st cfn.Statement) {
		if !st.Allow() {
			return
		}
		adm := st.CoveredOf(kmsAdminActions)
		named := slices.DeleteFunc(principalPatterns(st), func(p string) bool { return p == "*" })
		if who := broadPrincipal(st); who != "" && len(adm) > 0 && len(named) == 0 {
			report(p.Resource, p.StatementPath(st), "lets %s administer the key (%s) without naming who by aws:PrincipalArn", who, shortActions(adm))
		}
	})
}
