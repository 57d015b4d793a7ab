package evidence

import (
	"fmt"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/names"
)

// Storage checks: ISE 5.1, 5.2, 10.6. Public access, TLS, the endpoint and
// encryption of buckets are judged by the RE-STO rules; the checks here cite
// the asset bucket's properties and judge who may use it.

func (v *view) needBucket() (*cfn.Resource, result, bool) {
	b := v.assetBucket()
	if b == nil {
		return nil, failed(fmt.Sprintf("%s has no asset bucket named %s", v.prod, v.assetBucketName())), false
	}
	return b, result{}, true
}

// checkBucketLockedDown: the asset bucket blocks public access and ACLs
// (RE-STO-001 judges every bucket).
func checkBucketLockedDown(v *view) result {
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	e := []Evidence{ev(b, "PublicAccessBlockConfiguration", b.Prop("PublicAccessBlockConfiguration")),
		ev(b, "OwnershipControls.Rules[0].ObjectOwnership", b.Prop("OwnershipControls.Rules[0].ObjectOwnership"))}
	if v := b.Prop("VersioningConfiguration.Status"); v != nil {
		e = append(e, ev(b, "VersioningConfiguration.Status", v))
	}
	return passed(fmt.Sprintf("%s blocks every form of public access and disables ACLs", cfn.Str(b.Properties["BucketName"])), e...)
}

// bucketDeny finds a Deny statement of the asset bucket's policies whose
// condition names key under an operator containing op, with its policy.
func (v *view) bucketDeny(b *cfn.Resource, op, key string) (*cfn.Policy, *cfn.Statement) {
	for _, p := range v.bucketPolicies(b) {
		for i, st := range p.Statements {
			if st.Deny() && len(st.Values(func(o string) bool { return strings.Contains(o, op) }, key)) > 0 {
				return p, &p.Statements[i]
			}
		}
	}
	return nil, nil
}

// citeDeny cites the asset bucket's Deny statement that names key under an
// operator containing op; describe says what it denies.
func citeDeny(v *view, ok, op, key string, describe func(p *cfn.Policy, st *cfn.Statement) string) result {
	b, res, found := v.needBucket()
	if !found {
		return res
	}
	var e []Evidence
	if p, st := v.bucketDeny(b, op, key); st != nil {
		e = append(e, ev(p.Resource, "PolicyDocument."+st.Label(), describe(p, st)))
	}
	return passed(ok, e...)
}

// checkBucketTLS: the asset bucket refuses plain HTTP (ISE 5.1, 10.6;
// RE-STO-002 judges every bucket). The statement is cited.
func checkBucketTLS(v *view) result {
	return citeDeny(v, "the asset bucket's policy denies requests without TLS", "Bool", "aws:SecureTransport",
		func(*cfn.Policy, *cfn.Statement) string { return "Deny s3:* when aws:SecureTransport is false" })
}

// checkBucketEndpoint: the asset bucket refuses data access from outside
// the production's VPC endpoint, except the data operator's (ISE 5.1;
// RE-STO-005 judges asset buckets). The statement is cited.
func checkBucketEndpoint(v *view) result {
	return citeDeny(v, "the asset bucket's policy denies data access from outside the production's VPC endpoint (only the data operator may ingest and deliver from elsewhere)",
		"StringNotEquals", "aws:SourceVpce", func(p *cfn.Policy, st *cfn.Statement) string {
			where := "the production's S3 endpoint"
			raw := cfn.At(p.Resource.Properties, p.StatementPath(*st)+".Condition.StringNotEquals.aws:SourceVpce")
			if ep := p.Resource.Stack.Resolve(raw); ep != nil {
				where = ep.Stack.Name + " / " + ep.ID
			}
			except := st.Values(func(o string) bool { return strings.Contains(o, "ArnNotLike") }, "aws:PrincipalArn")
			return fmt.Sprintf("Deny object access not through %s, except %s", where, strings.Join(except, ", "))
		})
}

// s3Actions reports whether a statement grants any S3 action.
func s3Actions(st cfn.Statement) bool {
	if !st.Allow() {
		return false
	}
	if len(st.NotAction) > 0 {
		return true
	}
	return anyOf(st.Action, func(a string) bool { return a == "*" || strings.HasPrefix(strings.ToLower(a), "s3:") })
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
	if v.r.Ingest != nil {
		// S3 replication and DataSync act for the production, and the
		// bucket policy names them.
		allowedRoles[names.Role(v.prod, names.Replication)] = true
		allowedRoles[names.Role(v.prod, names.DataSync)] = true
	}
	bucketArn := arn(b)
	var problems []string
	var e []Evidence
	for _, role := range v.t(v.prod).OfType("AWS::IAM::Role") {
		for _, g := range v.roleGrants(role) {
			if !s3Actions(g.st) {
				continue
			}
			onBucket, onAll := false, false
			for _, r := range g.st.Resource {
				if r == "*" || r == "arn:aws:s3:::*" {
					onAll = true
				}
				if r == bucketArn || strings.HasPrefix(r, bucketArn+"/") {
					onBucket = true
				}
			}
			name := roleName(role)
			switch {
			case onAll:
				problems = append(problems, fmt.Sprintf("%s grants S3 actions on every bucket to %s", cite(g.source), name))
			case onBucket && !allowedRoles[name]:
				problems = append(problems, fmt.Sprintf("%s grants %s access to the asset bucket", cite(g.source), name))
			case onBucket:
				e = append(e, ev(g.source, g.prop, fmt.Sprintf("%s: %s on the asset bucket only", name, strings.Join(g.st.Action, ", "))))
			}
		}
	}
	for _, pol := range v.bucketPolicies(b) {
		granted := false
		for _, st := range pol.Statements {
			if !s3Actions(st) {
				continue
			}
			granted = true
			p, acts := "PolicyDocument."+st.Label(), strings.Join(st.Action, ", ")
			if len(st.NotAction) > 0 {
				acts = "every action but " + strings.Join(st.NotAction, ", ")
			}
			if who := v.outsiders(pol, st, allowedRoles); len(who) > 0 {
				problems = append(problems, fmt.Sprintf("%s: %s allows %s on the asset bucket to %s", cite(pol.Resource), p, acts, strings.Join(who, ", ")))
				continue
			}
			e = append(e, ev(pol.Resource, p, acts+" to the production's data roles only"))
		}
		if !granted {
			e = append(e, ev(pol.Resource, "PolicyDocument", "no Allow statement: only Deny guards, so it grants no one access"))
		}
	}
	return verdict("only the data-operator and render roles may use the asset bucket: no role grants S3 on every bucket, and the bucket policy grants no one else", problems, e)
}

// outsiders are the principals of a resource policy statement that are not
// one of the allowed roles (by RoleName) of the production's account:
// everyone ("*"), other accounts, services, and, for a statement without
// Principal (NotPrincipal), everyone but the principals it names.
// Conditions are not read: a grant narrowed only by a condition is reported.
func (v *view) outsiders(pol *cfn.Policy, st cfn.Statement, allowed map[string]bool) []string {
	if st.Principal == nil {
		return []string{"every principal (no Principal)"}
	}
	var out []string
	for _, s := range st.Principal.Service {
		out = append(out, "Service "+s)
	}
	for _, s := range st.Principal.Federated {
		out = append(out, "Federated "+s)
	}
	for _, s := range st.Principal.CanonicalUser {
		out = append(out, "CanonicalUser "+s)
	}
	for _, x := range awsPrincipals(st.Principal) {
		name := ""
		if pre, rest, ok := strings.Cut(x, ":iam::"+v.r.Account+":role/"); ok && strings.HasPrefix(pre, "arn:") {
			name = rest[strings.LastIndex(rest, "/")+1:]
		} else if pre, rest, ok := strings.Cut(x, ":iam::${AWS::AccountId}:role/"); ok && strings.HasPrefix(pre, "arn:") && pol.Resource.Stack.Account == "" {
			name = rest[strings.LastIndex(rest, "/")+1:]
		}
		if !allowed[name] {
			out = append(out, x)
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
		if p := lt.Resolve(ltData + ".IamInstanceProfile.Arn"); p != nil {
			e = append(e, ev(lt, ltData+".IamInstanceProfile", p.ID+": temporary credentials from STS"))
		}
	}
	return verdict(fmt.Sprintf("none of the %d stacks creates an IAM user or access key; render nodes use instance-profile credentials that STS rotates", len(v.a.Stacks)), problems, e)
}

// checkBucketEncryption: the asset bucket encrypts with a customer-managed
// key of the estate and refuses writes that ask for anything else (ISE
// 10.6, 9.1; RE-STO-003 and RE-STO-004 judge the encryption and the deny
// statements). The key and the statements are cited.
func checkBucketEncryption(v *view) result {
	b, res, ok := v.needBucket()
	if !ok {
		return res
	}
	var problems []string
	var e []Evidence
	for i, r := range cfn.AsList(b.Prop("BucketEncryption.ServerSideEncryptionConfiguration")) {
		val := cfn.At(r, "ServerSideEncryptionByDefault.KMSMasterKeyID")
		if !cfn.Present(val) {
			continue // RE-STO-003 reports it
		}
		if key := v.kmsKeyOf(b.Stack, val); key != nil {
			e = append(e, ev(b, fmt.Sprintf("BucketEncryption.ServerSideEncryptionConfiguration[%d].ServerSideEncryptionByDefault.KMSMasterKeyID", i), key.Stack.Name+" / "+key.ID))
		} else {
			problems = append(problems, cite(b)+" encrypts with a key outside the estate, not the content-asset key")
		}
	}
	for _, d := range []struct{ key, text string }{
		{"s3:x-amz-server-side-encryption", "Deny PutObject without aws:kms"},
		{"s3:x-amz-server-side-encryption-aws-kms-key-id", "Deny PutObject with another key"},
	} {
		if p, st := v.bucketDeny(b, "StringNotEquals", d.key); st != nil {
			e = append(e, ev(p.Resource, "PolicyDocument."+st.Label(), d.text))
		}
	}
	return verdict("the asset bucket encrypts every object with the content-asset key (SSE-KMS) and refuses writes that ask for other encryption or another key", problems, e)
}
