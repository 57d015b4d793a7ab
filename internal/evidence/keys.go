package evidence

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Key checks: ISE 9.1, 9.2, 9.3, 9.5.

// KMS actions that administer a key, and actions that use it (a grant
// delegates use, so it counts as use).
var (
	kmsAdminActions = []string{
		"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DisableKey", "kms:EnableKey",
		"kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription", "kms:CreateAlias",
		"kms:DeleteAlias", "kms:UpdateAlias", "kms:TagResource", "kms:UntagResource", "kms:RevokeGrant",
	}
	kmsUseActions = []string{
		"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
		"kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant",
	}
)

// grantsAny returns the actions of the list an Allow statement grants.
func grantsAny(st cfn.Statement, actions []string) []string {
	if !mayGrant(st, actions) {
		return nil
	}
	var out []string
	for _, a := range actions {
		if st.Grants(a) {
			out = append(out, a)
		}
	}
	return out
}

// keyUse is one place a key protects data.
type keyUse struct {
	purpose string // root-volume, content-asset, logging
	user    *cfn.Resource
	prop    string
	key     *cfn.Resource // nil: not a customer-managed key of the estate
}

// keyUses finds, from the resources that encrypt, which key protects what:
// root volumes, content (the asset bucket and scratch volumes) and logs.
func (v *view) keyUses() []keyUse {
	var out []keyUse
	for _, lt := range v.launchTemplates() {
		for i, b := range cfn.AsList(lt.Prop(ltData + ".BlockDeviceMappings")) {
			ebs := cfn.AsMap(cfn.AsMap(b)["Ebs"])
			if ebs == nil {
				continue
			}
			purpose := "content-asset"
			if i == 0 {
				purpose = "root-volume"
			}
			out = append(out, keyUse{purpose, lt, fmt.Sprintf("%s.BlockDeviceMappings[%d].Ebs.KmsKeyId", ltData, i), v.kmsKeyOf(lt.Stack, ebs["KmsKeyId"])})
		}
	}
	if b := v.assetBucket(); b != nil {
		for i, r := range cfn.AsList(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration")) {
			k := cfn.At(r, "ServerSideEncryptionByDefault.KMSMasterKeyID")
			out = append(out, keyUse{"content-asset", b, fmt.Sprintf("BucketEncryption.ServerSideEncryptionConfiguration[%d].ServerSideEncryptionByDefault.KMSMasterKeyID", i), v.kmsKeyOf(b.Stack, k)})
		}
	}
	groups := v.t(v.prod).OfType("AWS::Logs::LogGroup")
	if vpc := v.vpc(); vpc != nil && vpc.Stack.Name != v.prod {
		groups = append(groups, vpc.Stack.OfType("AWS::Logs::LogGroup")...)
	}
	for _, lg := range groups {
		out = append(out, keyUse{"logging", lg, "KmsKeyId", v.kmsKeyOf(lg.Stack, lg.Properties["KmsKeyId"])})
	}
	return out
}

var purposes = []string{"root-volume", "content-asset", "logging"}

func (v *view) dedicatedRequired(purpose string) bool {
	switch purpose {
	case "root-volume":
		return v.r.Policy.DedicatedRootKey || v.r.Isolation.DedicatedKeys
	case "content-asset":
		return v.r.Policy.DedicatedAssetKey || v.r.Isolation.DedicatedKeys
	}
	return v.r.Policy.DedicatedLoggingKey || v.r.Isolation.DedicatedKeys
}

// checkDedicatedKeys: root volumes, content and logs are encrypted with the
// production's own customer-managed keys; a pooled key only where the tier
// allows it (ISE 9.1).
func checkDedicatedKeys(v *view) result {
	uses := v.keyUses()
	var problems, limits []string
	var e []Evidence
	for _, p := range purposes {
		var these []keyUse
		for _, u := range uses {
			if u.purpose == p {
				these = append(these, u)
			}
		}
		if len(these) == 0 {
			// A closing production has no launch templates, the only
			// users of its root-volume key, which stays retained.
			if !(p == "root-volume" && v.r.Closing()) {
				problems = append(problems, fmt.Sprintf("nothing of %s is encrypted with a %s key", v.prod, p))
			}
			continue
		}
		pooled := map[string]bool{}
		for _, u := range these {
			switch {
			case u.key == nil:
				problems = append(problems, fmt.Sprintf("%s: %s is not a customer-managed key of the estate", cite(u.user), u.prop))
			case u.key.Stack.Name != v.prod:
				pooled[u.key.Stack.Name+" / "+u.key.ID] = true
				e = append(e, ev(u.user, u.prop, u.key.Stack.Name+" / "+u.key.ID+" (pooled)"))
			default:
				e = append(e, ev(u.user, u.prop, u.key.ID+" "+aliasNote(u.key)))
			}
		}
		if len(pooled) > 0 {
			msg := fmt.Sprintf("the %s key is shared: %s", p, strings.Join(slices.Sorted(maps.Keys(pooled)), ", "))
			if v.dedicatedRequired(p) {
				problems = append(problems, msg+", but "+v.tierText()+" requires a dedicated one")
			} else {
				limits = append(limits, msg+" ("+v.tierText()+" allows it)")
			}
		}
	}
	if len(problems) > 0 {
		return verdict("", problems, e)
	}
	if len(limits) > 0 {
		return result{outcome: Limited, detail: strings.Join(limits, "; "), evidence: e}
	}
	return passed(fmt.Sprintf("root volumes, content and logs of %s are encrypted with its own root-volume, content-asset and logging keys", v.r.Name), e...)
}

func aliasNote(key *cfn.Resource) string {
	if a := keyAlias(key); a != "" {
		return "(" + a + ")"
	}
	return ""
}

// checkKeysByPurpose: the three purposes use three different keys.
func checkKeysByPurpose(v *view) result {
	byKey := map[*cfn.Resource]map[string]bool{}
	for _, u := range v.keyUses() {
		if u.key == nil {
			continue
		}
		if byKey[u.key] == nil {
			byKey[u.key] = map[string]bool{}
		}
		byKey[u.key][u.purpose] = true
	}
	var problems []string
	var e []Evidence
	keys := slices.SortedFunc(maps.Keys(byKey), func(x, y *cfn.Resource) int { return strings.Compare(x.String(), y.String()) })
	for _, k := range keys {
		ps := slices.Sorted(maps.Keys(byKey[k]))
		if len(ps) > 1 {
			problems = append(problems, fmt.Sprintf("%s protects %s", cite(k), strings.Join(ps, " and ")))
			continue
		}
		e = append(e, ev(k, "Description", k.Properties["Description"]))
	}
	return verdict("root volumes, content and logs each have a key of their own, so access to one never opens another", problems, e)
}

// keysInScope are the keys of the production, its pool, and the central
// logging key.
func (v *view) keysInScope() []*cfn.Resource {
	return append(v.ownOfType("AWS::KMS::Key"), v.t(v.logging).OfType("AWS::KMS::Key")...)
}

// checkKeyRotation: every key rotates its material at least yearly (ISE
// 9.5; RE-KEY-001 judges the keys). The keys are cited.
func checkKeyRotation(v *view) result {
	keys := v.keysInScope()
	if len(keys) == 0 {
		return failed("no AWS::KMS::Key in " + v.prod + ", its pool or " + v.logging)
	}
	var e []Evidence
	for _, k := range keys {
		period := orDefault(k.Properties["RotationPeriodInDays"], "365")
		e = append(e, ev(k, "EnableKeyRotation", cfn.Compact(k.Properties["EnableKeyRotation"])+" (every "+period+" days)"))
	}
	return passed(fmt.Sprintf("all %s of the production, its pool and the central trail rotate their key material yearly", count(len(keys), "customer-managed key", "customer-managed keys")), e...)
}

// Condition keys that bound a key-use statement to a service, a caller, a
// principal or a resource.
var boundingKeys = []string{
	"kms:ViaService", "kms:CallerAccount", "aws:PrincipalArn", "aws:SourceArn", "aws:SourceAccount",
	"kms:EncryptionContext", "kms:GrantIsForAWSResource", "aws:PrincipalOrgID",
}

func bounded(st cfn.Statement) []string {
	var out []string
	for _, k := range st.ConditionKeys() {
		if anyOf(boundingKeys, func(b string) bool { return strings.HasPrefix(strings.ToLower(k), strings.ToLower(b)) }) {
			out = append(out, k)
		}
	}
	return out
}

// checkKeyPolicies: key policies delegate administration to IAM without
// use, and bound every use, by anyone, to a service or named principals;
// the key administrator manages only the production's aliased keys (ISE
// 9.2). RE-KEY-003 and RE-KEY-004 judge wildcard users and actions.
func checkKeyPolicies(v *view) result {
	keys := v.ownOfType("AWS::KMS::Key")
	if len(keys) == 0 {
		return failed("no AWS::KMS::Key in " + v.prod + " or its pool")
	}
	var problems []string
	var e []Evidence
	for _, k := range keys {
		for _, p := range v.a.PoliciesOf(k) {
			for _, st := range p.Statements {
				if !st.Allow() {
					continue
				}
				path := "KeyPolicy." + st.Label()
				admin := grantsAny(st, kmsAdminActions)
				use := grantsAny(st, kmsUseActions)
				for _, bad := range []string{"kms:CreateGrant", "kms:DisableKeyRotation"} {
					if len(admin) > 0 && st.Grants(bad) {
						problems = append(problems, fmt.Sprintf("%s: the administrative statement %s also grants %s", cite(k), path, bad))
					}
				}
				switch {
				case len(use) > 0 && len(bounded(st)) == 0:
					problems = append(problems, fmt.Sprintf("%s: %s lets its principal use the key with no condition", cite(k), path))
				case len(use) > 0:
					e = append(e, ev(k, path, fmt.Sprintf("use (%s) only with %s", shortActions(use), strings.Join(bounded(st), ", "))))
				case len(admin) > 0:
					e = append(e, ev(k, path, fmt.Sprintf("administration (%d actions) delegated to IAM, no use", len(admin))))
				}
			}
		}
	}
	if kr, _ := v.humanRoleBySuffix("key-admin"); kr != nil {
		for _, g := range v.roleGrants(kr) {
			if len(grantsAny(g.st, kmsAdminActions)) > 0 {
				cond := g.st.Values(func(op string) bool { return strings.Contains(op, "StringLike") }, "kms:ResourceAliases")
				if len(cond) == 0 {
					problems = append(problems, fmt.Sprintf("%s lets the key administrator manage keys beyond the production's aliases", cite(g.source)))
					continue
				}
				e = append(e, ev(g.source, g.prop, "administers only keys aliased "+strings.Join(cond, ", ")))
			}
		}
	}
	return verdict(fmt.Sprintf("the policies of %s delegate administration to IAM without use, and allow use only through a named service or principal", count(len(keys), "key", "keys")), problems, e)
}

func shortActions(as []string) string {
	var out []string
	for _, a := range as {
		out = append(out, strings.TrimPrefix(a, "kms:"))
	}
	return strings.Join(out, ", ")
}

// checkAdminUseSeparated: no key policy statement and no role both
// administers and uses keys (ISE 9.3; RE-KEY-005 and RE-IAM-001 judge
// them), and the production has its key administrator. The roles' part is
// cited.
func checkAdminUseSeparated(v *view) result {
	var problems []string
	var e []Evidence
	for _, t := range v.own() {
		for _, role := range t.OfType("AWS::IAM::Role") {
			var admin, use []string
			var src []grant
			for _, g := range v.roleGrants(role) {
				a, u := grantsAny(g.st, kmsAdminActions), grantsAny(g.st, kmsUseActions)
				admin = append(admin, a...)
				use = append(use, u...)
				if len(a)+len(u) > 0 {
					src = append(src, g)
				}
			}
			switch {
			case len(admin) > 0 && len(use) == 0:
				e = append(e, ev(src[0].source, src[0].prop, roleName(role)+": administers keys, cannot use them"))
			case len(use) > 0 && len(admin) == 0:
				e = append(e, ev(src[0].source, src[0].prop, roleName(role)+": uses keys ("+shortActions(uniq(use))+"), cannot administer them"))
			}
		}
	}
	if kr, name := v.humanRoleBySuffix("key-admin"); kr == nil {
		problems = append(problems, "there is no key administrator role "+name)
	}
	return verdict("key administration (the key-admin role) and key use (data operator, render nodes, log reader, AWS services) are held by different principals; no key policy statement or role has both", problems, e)
}

// uniq keeps the first of equal items, in order.
func uniq[T comparable](xs []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// mayGrant is a quick test before matching each action: whether an Allow
// statement names any action of the services of actions (or a wildcard
// that could cover one). Packs match every statement of every role against
// lists of actions, and most statements concern other services.
func mayGrant(st cfn.Statement, actions []string) bool {
	if !st.Allow() {
		return false
	}
	if len(st.NotAction) > 0 {
		return true
	}
	for _, p := range st.Action {
		svc, _, ok := strings.Cut(p, ":")
		if !ok || strings.ContainsAny(svc, "*?") {
			return true
		}
		for _, a := range actions {
			if len(a) > len(svc) && a[len(svc)] == ':' && strings.EqualFold(a[:len(svc)], svc) {
				return true
			}
		}
	}
	return false
}
