package evidence

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/names"
)

// Storage checks: ISE 5.1, 5.2, 10.6.

func (v *view) needBucket() (*resource, result, bool) {
	b := v.assetBucket()
	if b == nil {
		return nil, failed(fmt.Sprintf("%s has no asset bucket named %s", v.prod, v.assetBucketName())), false
	}
	return b, result{}, true
}

func (v *view) assetBucketName() string {
	return names.AssetBucket(v.studio.Studio, v.r.Name, v.r.Account, v.r.Region)
}

// checkBucketLockedDown: the asset bucket blocks public access and ACLs.
func checkBucketLockedDown(v *view) result {
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	var problems []string
	var e []Evidence
	pab := asMap(b.Props["PublicAccessBlockConfiguration"])
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if !truthy(pab[k]) {
			problems = append(problems, fmt.Sprintf("%s: PublicAccessBlockConfiguration.%s is not true", cite(b), k))
		}
	}
	if len(problems) == 0 {
		e = append(e, ev(b, "PublicAccessBlockConfiguration", "all four settings true"))
	}
	own := ""
	for _, rule := range asList(b.prop("OwnershipControls.Rules")) {
		own = str(asMap(rule)["ObjectOwnership"])
	}
	if own != "BucketOwnerEnforced" {
		problems = append(problems, cite(b)+": ACLs are not disabled (OwnershipControls is not BucketOwnerEnforced)")
	} else {
		e = append(e, ev(b, "OwnershipControls.Rules[0].ObjectOwnership", own))
	}
	if str(b.prop("VersioningConfiguration.Status")) == "Enabled" {
		e = append(e, ev(b, "VersioningConfiguration.Status", "Enabled"))
	}
	return verdict(fmt.Sprintf("%s blocks every form of public access and disables ACLs", str(b.Props["BucketName"])), problems, e)
}

// denyStatement finds a Deny statement of a policy whose condition gives key
// under an operator containing op.
func denyStatement(sts []statement, op, key string) *statement {
	for i := range sts {
		if strings.EqualFold(sts[i].Effect, "Deny") && len(sts[i].conditionValues(op, key)) > 0 {
			return &sts[i]
		}
	}
	return nil
}

// checkBucketPolicy: the asset bucket refuses plain HTTP and data access
// from outside the production's VPC endpoint, except the data operator's
// (ISE 5.1).
func checkBucketPolicy(v *view) result {
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	pol := v.bucketPolicy(b)
	if pol == nil {
		return failed(cite(b) + " has no bucket policy")
	}
	sts := statements(pol.Props["PolicyDocument"])
	var problems []string
	var e []Evidence
	if s := denyStatement(sts, "Bool", "aws:SecureTransport"); s == nil {
		problems = append(problems, cite(pol)+" does not deny requests without TLS (aws:SecureTransport)")
	} else {
		e = append(e, ev(pol, "PolicyDocument."+s.label(), "Deny s3:* when aws:SecureTransport is false"))
	}
	if s := denyStatement(sts, "StringNotEquals", "aws:SourceVpce"); s == nil {
		problems = append(problems, cite(pol)+" does not deny data access from outside the production's VPC endpoint (aws:SourceVpce)")
	} else {
		ep := v.resolve(pol.Stack, s.conditionRaw("StringNotEquals", "aws:SourceVpce"))
		where := "the production's S3 endpoint"
		if ep != nil {
			where = ep.Stack + " / " + ep.ID
		}
		except := s.conditionValues("ArnNotLike", "aws:PrincipalArn")
		e = append(e, ev(pol, "PolicyDocument."+s.label(), fmt.Sprintf("Deny object access not through %s, except %s", where, strings.Join(except, ", "))))
	}
	return verdict("the asset bucket's policy denies requests without TLS and data access from outside the production's VPC endpoint (only the data operator may ingest and deliver from elsewhere)", problems, e)
}

// s3Actions reports whether a statement grants any S3 action.
func s3Actions(st statement) bool {
	if !st.allow() {
		return false
	}
	if len(st.NotActions) > 0 {
		return true
	}
	for _, a := range st.Actions {
		if a == "*" || strings.HasPrefix(strings.ToLower(a), "s3:") {
			return true
		}
	}
	return false
}

// checkBucketGrants: the only identities that may touch the asset bucket
// are the production's data operator and render roles, and no policy grants
// S3 on every resource (ISE 5.1). Grants come from two places: the roles'
// own policies and the bucket policy, which can reach principals (everyone,
// another account, a service) that no policy of the production names.
func checkBucketGrants(v *view) result {
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	allowedRoles := map[string]bool{names.Role(v.prod, names.DataOperator): true, names.Role(v.prod, names.Render): true}
	var problems []string
	var e []Evidence
	for _, role := range v.t(v.prod).ofType("AWS::IAM::Role") {
		for _, g := range v.roleGrants(role) {
			if !s3Actions(g.st) {
				continue
			}
			onBucket, onAll := false, false
			for _, r := range g.st.Resources {
				if r == "*" || r == "arn:aws:s3:::*" {
					onAll = true
				}
				if strings.Contains(r, "${"+b.ID+"}") || strings.Contains(r, str(b.Props["BucketName"])) {
					onBucket = true
				}
			}
			name := str(role.Props["RoleName"])
			if name == "" {
				name = role.ID
			}
			switch {
			case onAll:
				problems = append(problems, fmt.Sprintf("%s grants S3 actions on every bucket to %s", cite(g.source), name))
			case onBucket && !allowedRoles[name]:
				problems = append(problems, fmt.Sprintf("%s grants %s access to the asset bucket", cite(g.source), name))
			case onBucket:
				e = append(e, ev(g.source, g.prop, fmt.Sprintf("%s: %s on the asset bucket only", name, strings.Join(g.st.Actions, ", "))))
			}
		}
	}
	if pol := v.bucketPolicy(b); pol != nil {
		granted := false
		for _, st := range statements(pol.Props["PolicyDocument"]) {
			if !s3Actions(st) {
				continue
			}
			granted = true
			p, acts := "PolicyDocument."+st.label(), strings.Join(st.Actions, ", ")
			if len(st.NotActions) > 0 {
				acts = "every action but " + strings.Join(st.NotActions, ", ")
			}
			if who := v.outsiders(pol.Stack, st, allowedRoles); len(who) > 0 {
				problems = append(problems, fmt.Sprintf("%s: %s allows %s on the asset bucket to %s", cite(pol), p, acts, strings.Join(who, ", ")))
				continue
			}
			e = append(e, ev(pol, p, acts+" to the production's data roles only"))
		}
		if !granted {
			e = append(e, ev(pol, "PolicyDocument", "no Allow statement: only Deny guards, so it grants no one access"))
		}
	}
	return verdict("only the data-operator and render roles may use the asset bucket: no role grants S3 on every bucket, and the bucket policy grants no one else", problems, e)
}

// outsiders are the principals of a resource policy statement in stack that
// are not one of the allowed roles (by RoleName) of the production's
// account: everyone ("*"), other accounts, services, and, for a statement
// without Principal (NotPrincipal), everyone but the principals it names.
// Conditions are not read: a grant narrowed only by a condition is reported.
func (v *view) outsiders(stack string, st statement, allowed map[string]bool) []string {
	if st.Principal == nil {
		return []string{"every principal (no Principal)"}
	}
	var aws []any
	var out []string
	if m := asMap(st.Principal); m != nil {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if k == "AWS" {
				aws = append(aws, asList(m[k])...)
				continue
			}
			for _, x := range asList(m[k]) {
				out = append(out, k+" "+flatten(x))
			}
		}
	} else {
		aws = []any{st.Principal} // "*"
	}
	for _, x := range aws {
		name := ""
		if r := v.resolve(stack, x); r != nil && r.Type == "AWS::IAM::Role" {
			name = str(r.Props["RoleName"])
		} else if pre, rest, ok := strings.Cut(flatten(x), ":iam::"+v.r.Account+":role/"); ok && strings.HasPrefix(pre, "arn:") {
			name = rest[strings.LastIndex(rest, "/")+1:]
		}
		if !allowed[name] {
			out = append(out, flatten(x))
		}
	}
	return out
}

// checkNoLongLivedKeys: the templates create no IAM users or access keys;
// render nodes get temporary credentials from their instance profile (ISE
// 3.1, 5.2, 6.1).
func checkNoLongLivedKeys(v *view) result {
	var problems []string
	for _, r := range v.ofType("AWS::IAM::User", "AWS::IAM::AccessKey") {
		problems = append(problems, cite(r)+" creates long-lived credentials")
	}
	var e []Evidence
	for _, lt := range v.launchTemplates() {
		if p := v.resolve(lt.Stack, asMap(lt.prop("LaunchTemplateData.IamInstanceProfile"))["Arn"]); p != nil {
			e = append(e, ev(lt, "LaunchTemplateData.IamInstanceProfile", p.ID+": temporary credentials from STS"))
		}
	}
	return verdict(fmt.Sprintf("none of the %d stacks creates an IAM user or access key; render nodes use instance-profile credentials that STS rotates", len(v.tpls)), problems, e)
}

// checkBucketEncryption: the asset bucket encrypts with the production's
// content-asset key and refuses writes that ask for anything else (ISE
// 10.6, 9.1).
func checkBucketEncryption(v *view) result {
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	var problems []string
	var e []Evidence
	rules := asList(b.prop("BucketEncryption.ServerSideEncryptionConfiguration"))
	var key *resource
	for i, r := range rules {
		def := asMap(asMap(r)["ServerSideEncryptionByDefault"])
		if str(def["SSEAlgorithm"]) != "aws:kms" && str(def["SSEAlgorithm"]) != "aws:kms:dsse" {
			problems = append(problems, fmt.Sprintf("%s encrypts with %s, not a KMS key", cite(b), str(def["SSEAlgorithm"])))
			continue
		}
		key = v.kmsKeyOf(b.Stack, def["KMSMasterKeyID"])
		if key == nil {
			problems = append(problems, cite(b)+" encrypts with an AWS-managed or unknown key, not a customer-managed key of the estate")
			continue
		}
		e = append(e, ev(b, fmt.Sprintf("BucketEncryption.ServerSideEncryptionConfiguration[%d].ServerSideEncryptionByDefault.KMSMasterKeyID", i), key.Stack+" / "+key.ID))
	}
	if len(rules) == 0 {
		problems = append(problems, cite(b)+" declares no default encryption")
	}
	if pol := v.bucketPolicy(b); pol != nil {
		sts := statements(pol.Props["PolicyDocument"])
		if s := denyStatement(sts, "StringNotEquals", "s3:x-amz-server-side-encryption"); s != nil {
			e = append(e, ev(pol, "PolicyDocument."+s.label(), "Deny PutObject without aws:kms"))
		} else {
			problems = append(problems, cite(pol)+" accepts writes that ask for other encryption")
		}
		if s := denyStatement(sts, "StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id"); s != nil {
			e = append(e, ev(pol, "PolicyDocument."+s.label(), "Deny PutObject with another key"))
		} else {
			problems = append(problems, cite(pol)+" accepts writes that name another key")
		}
	} else {
		problems = append(problems, cite(b)+" has no bucket policy")
	}
	return verdict("the asset bucket encrypts every object with the content-asset key (SSE-KMS) and refuses writes that ask for other encryption or another key", problems, e)
}
