package evidence

import (
	"fmt"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/names"
)

// The finders locate the production's resources by what they are in the
// templates (types, references and the fixed names the README documents),
// never by CDK's generated logical ids.

// launchTemplates are the production's render launch templates.
func (v *view) launchTemplates() []*cfn.Resource {
	return v.t(v.prod).OfType("AWS::EC2::LaunchTemplate")
}

// vpc is the VPC the production's render nodes run in: found through the
// security group of its launch templates, else its own or its pool's VPC.
func (v *view) vpc() *cfn.Resource {
	for _, sg := range v.renderGroups() {
		if r := sg.Resolve("VpcId"); r != nil && r.Type == "AWS::EC2::VPC" {
			return r
		}
	}
	for _, t := range v.own() {
		if vs := t.OfType("AWS::EC2::VPC"); len(vs) > 0 {
			return vs[0]
		}
	}
	return nil
}

// renderGroups are the security groups the launch templates attach.
func (v *view) renderGroups() []*cfn.Resource {
	return v.fromTemplates(func(lt *cfn.Resource) []*cfn.Resource {
		var out []*cfn.Resource
		for _, ref := range ltGroupRefs(lt) {
			if r := lt.Stack.Resolve(ref); r != nil && r.Type == "AWS::EC2::SecurityGroup" {
				out = append(out, r)
			}
		}
		return out
	})
}

// fromTemplates gathers what fn finds for each launch template, each
// resource once, in order.
func (v *view) fromTemplates(fn func(lt *cfn.Resource) []*cfn.Resource) []*cfn.Resource {
	var out []*cfn.Resource
	seen := map[*cfn.Resource]bool{}
	for _, lt := range v.launchTemplates() {
		for _, r := range fn(lt) {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// ltGroupRefs are the security group references of a launch template.
func ltGroupRefs(lt *cfn.Resource) []any {
	refs := cfn.AsList(lt.Prop("LaunchTemplateData.SecurityGroupIds"))
	for _, ni := range cfn.AsList(lt.Prop("LaunchTemplateData.NetworkInterfaces")) {
		refs = append(refs, cfn.AsList(cfn.AsMap(ni)["Groups"])...)
	}
	return refs
}

// instanceRoles are the roles the instance profile of a launch template
// holds.
func instanceRoles(lt *cfn.Resource) []*cfn.Resource {
	prof := lt.Resolve("LaunchTemplateData.IamInstanceProfile.Arn")
	if prof == nil {
		prof = lt.Resolve("LaunchTemplateData.IamInstanceProfile.Name")
	}
	if prof == nil || prof.Type != "AWS::IAM::InstanceProfile" {
		return nil
	}
	var out []*cfn.Resource
	for _, role := range prof.ResolveAll("Roles") {
		if role.Type == "AWS::IAM::Role" {
			out = append(out, role)
		}
	}
	return out
}

// renderRoles are the distinct roles render nodes run as.
func (v *view) renderRoles() []*cfn.Resource { return v.fromTemplates(instanceRoles) }

// assetBucket is the production's asset bucket, by its documented name.
func (v *view) assetBucket() *cfn.Resource {
	want := v.assetBucketName()
	for _, b := range v.t(v.prod).OfType("AWS::S3::Bucket") {
		if cfn.Str(b.Properties["BucketName"]) == want {
			return b
		}
	}
	return nil
}

// bucketPolicies are the bucket policies of bucket b.
func (v *view) bucketPolicies(b *cfn.Resource) []*cfn.Policy {
	var out []*cfn.Policy
	for _, p := range b.Stack.OfType("AWS::S3::BucketPolicy") {
		for _, doc := range v.a.PoliciesOf(p) {
			for _, t := range doc.Targets {
				if t == b {
					out = append(out, doc)
				}
			}
		}
	}
	return out
}

// Human roles are the production's roles for people, by their documented
// names: <studio>-<production>-key-admin, -data-operator, -log-reader.
var humanRoleSuffixes = []string{"key-admin", "data-operator", "log-reader"}

func (v *view) humanRoles() (found []*cfn.Resource, problems []string) {
	for _, s := range humanRoleSuffixes {
		r, name := v.humanRoleBySuffix(s)
		if r != nil {
			found = append(found, r)
		} else {
			problems = append(problems, "no role named "+name+" in "+v.prod)
		}
	}
	return found, problems
}

// roleNamed finds a role of the production's stack by its name.
func (v *view) roleNamed(name string) *cfn.Resource {
	for _, r := range v.t(v.prod).OfType("AWS::IAM::Role") {
		if cfn.Str(r.Properties["RoleName"]) == name {
			return r
		}
	}
	return nil
}

func (v *view) humanRoleBySuffix(suffix string) (*cfn.Resource, string) {
	name := v.prod + "-" + suffix
	return v.roleNamed(name), name
}

// roleName is a role's declared name, or its logical id.
func roleName(role *cfn.Resource) string {
	if n := cfn.Str(role.Properties["RoleName"]); n != "" {
		return n
	}
	return role.ID
}

// grant is a statement and the resource (role or policy) it comes from.
type grant struct {
	st     cfn.Statement
	source *cfn.Resource
	prop   string
}

// roleGrants are the identity statements in effect for a role: its inline
// policies, and the AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources
// attached to it. Permissions boundaries are not grants.
func (v *view) roleGrants(role *cfn.Resource) []grant {
	var out []grant
	for _, p := range v.rolePolicies[role] {
		// Inline policies are cited as Policies[i], as IAM names them.
		base := strings.TrimSuffix(p.Path, ".PolicyDocument")
		if p.Resource.Type != "AWS::IAM::Role" {
			base = p.Path
		}
		for _, st := range p.Statements {
			out = append(out, grant{st, p.Resource, base + "." + st.Label()})
		}
	}
	return out
}

// trustStatements are the Allow statements of a role's trust policy that
// name AWS principals, with those principals ("*" for everyone).
func (v *view) trustStatements(role *cfn.Resource) (sts []cfn.Statement, principals [][]string) {
	for _, p := range v.a.PoliciesOf(role) {
		if p.Kind != cfn.Trust {
			continue
		}
		for _, st := range p.Statements {
			if aws := awsPrincipals(st.Principal); st.Allow() && len(aws) > 0 {
				sts, principals = append(sts, st), append(principals, aws)
			}
		}
	}
	return sts, principals
}

// awsPrincipals are the AWS principals a statement names, "*" for everyone.
func awsPrincipals(p *cfn.Principal) []string {
	if p == nil {
		return nil
	}
	if p.Wildcard {
		return []string{"*"}
	}
	return p.AWS
}

// trails are the trails that record the production's account: the central
// trail when it is an organization trail, and any trail of the production's
// own stack.
func (v *view) trails() []*cfn.Resource {
	var out []*cfn.Resource
	for _, tr := range v.t(v.logging).OfType("AWS::CloudTrail::Trail") {
		if cfn.Truthy(tr.Properties["IsOrganizationTrail"]) {
			out = append(out, tr)
		}
	}
	return append(out, v.t(v.prod).OfType("AWS::CloudTrail::Trail")...)
}

// kmsKeyOf resolves a KmsKeyId-like value to the AWS::KMS::Key of the
// assembly it names (directly, through an alias, or an alias ARN written as
// text), or nil for an AWS-managed key or one outside the assembly.
func (v *view) kmsKeyOf(s *cfn.Stack, val any) *cfn.Resource {
	if !cfn.Present(val) {
		return nil
	}
	r := s.Resolve(val)
	if r == nil {
		text := s.String(val)
		if i := strings.Index(text, ":alias/"); i >= 0 {
			text = text[i+1:]
		}
		if strings.HasPrefix(text, "alias/") {
			r = v.a.Alias(text)
		}
	}
	if r != nil && r.Type == "AWS::KMS::Alias" {
		r = r.Resolve("TargetKeyId")
	}
	if r == nil || r.Type != "AWS::KMS::Key" {
		return nil
	}
	return r
}

// keyAlias is the alias name of a key, if its stack gives it one.
func keyAlias(key *cfn.Resource) string {
	for _, a := range key.Stack.OfType("AWS::KMS::Alias") {
		if a.Resolve("TargetKeyId") == key {
			return cfn.Str(a.Properties["AliasName"])
		}
	}
	return ""
}

// tagsOf reads a resource's tags. Launch templates carry theirs in
// TagSpecifications for the launch-template resource type.
func tagsOf(r *cfn.Resource) (map[string]string, bool) {
	if tags, ok := r.Tags(); ok || r.Type != "AWS::EC2::LaunchTemplate" {
		return tags, ok
	}
	for i, spec := range cfn.AsList(r.Properties["TagSpecifications"]) {
		if cfn.Str(cfn.AsMap(spec)["ResourceType"]) == "launch-template" {
			return r.TagsAt(fmt.Sprintf("TagSpecifications[%d].Tags", i))
		}
	}
	return nil, false
}

// arn is what Fn::GetAtt Arn of a resource renders to (see cfn.Stack.String).
func arn(r *cfn.Resource) string {
	return r.Stack.String(map[string]any{"Fn::GetAtt": []any{r.ID, "Arn"}})
}

// assetBucketName is the production's asset bucket's documented name.
func (v *view) assetBucketName() string {
	return names.AssetBucket(v.studio.Studio, v.r.Name, v.r.Account, v.r.Region)
}
