package evidence

import (
	"strings"

	"github.com/renderenv/renderenv/internal/names"
)

// The finders locate the production's resources by what they are in the
// templates (types, references and the fixed names the README documents),
// never by CDK's generated logical ids.

// launchTemplates are the production's render launch templates.
func (v *view) launchTemplates() []*resource {
	return v.t(v.prod).ofType("AWS::EC2::LaunchTemplate")
}

// vpc is the VPC the production's render nodes run in: found through the
// security group of its launch templates, else its own or its pool's VPC.
func (v *view) vpc() *resource {
	for _, sg := range v.renderGroups() {
		if r := v.resolve(sg.Stack, sg.Props["VpcId"]); r != nil && r.Type == "AWS::EC2::VPC" {
			return r
		}
	}
	for _, t := range v.own() {
		if vs := t.ofType("AWS::EC2::VPC"); len(vs) > 0 {
			return vs[0]
		}
	}
	return nil
}

// renderGroups are the security groups the launch templates attach.
func (v *view) renderGroups() []*resource {
	var out []*resource
	seen := map[*resource]bool{}
	for _, lt := range v.launchTemplates() {
		for _, ref := range ltGroupRefs(lt) {
			if r := v.resolve(lt.Stack, ref); r != nil && r.Type == "AWS::EC2::SecurityGroup" && !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// ltGroupRefs are the security group references of a launch template.
func ltGroupRefs(lt *resource) []any {
	var refs []any
	data := asMap(lt.Props["LaunchTemplateData"])
	refs = append(refs, asList(data["SecurityGroupIds"])...)
	for _, ni := range asList(data["NetworkInterfaces"]) {
		refs = append(refs, asList(asMap(ni)["Groups"])...)
	}
	return refs
}

// instanceRoles are the roles the launch templates' instance profiles hold,
// by launch template.
func (v *view) instanceRoles() map[*resource][]*resource {
	out := map[*resource][]*resource{}
	for _, lt := range v.launchTemplates() {
		ip := asMap(asMap(lt.Props["LaunchTemplateData"])["IamInstanceProfile"])
		ref := ip["Arn"]
		if ref == nil {
			ref = ip["Name"]
		}
		prof := v.resolve(lt.Stack, ref)
		if prof == nil || prof.Type != "AWS::IAM::InstanceProfile" {
			out[lt] = nil
			continue
		}
		for _, rr := range asList(prof.Props["Roles"]) {
			if role := v.resolve(prof.Stack, rr); role != nil && role.Type == "AWS::IAM::Role" {
				out[lt] = append(out[lt], role)
			}
		}
	}
	return out
}

// renderRoles are the distinct roles render nodes run as.
func (v *view) renderRoles() []*resource {
	var out []*resource
	seen := map[*resource]bool{}
	for _, lt := range v.launchTemplates() {
		for _, r := range v.instanceRoles()[lt] {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// assetBucket is the production's asset bucket, by its documented name.
func (v *view) assetBucket() *resource {
	want := names.AssetBucket(v.studio.Studio, v.r.Name, v.r.Account, v.r.Region)
	for _, b := range v.t(v.prod).ofType("AWS::S3::Bucket") {
		if str(b.Props["BucketName"]) == want {
			return b
		}
	}
	return nil
}

// bucketPolicy is the policy attached to bucket b.
func (v *view) bucketPolicy(b *resource) *resource {
	for _, p := range v.t(b.Stack).ofType("AWS::S3::BucketPolicy") {
		if refID(p.Props["Bucket"]) == b.ID || str(p.Props["Bucket"]) == str(b.Props["BucketName"]) {
			return p
		}
	}
	return nil
}

// Human roles are the production's roles for people, by their documented
// names: <studio>-<production>-key-admin, -data-operator, -log-reader.
var humanRoleSuffixes = []string{"key-admin", "data-operator", "log-reader"}

func (v *view) humanRoles() (found []*resource, missing []string) {
	byName := map[string]*resource{}
	for _, r := range v.t(v.prod).ofType("AWS::IAM::Role") {
		byName[str(r.Props["RoleName"])] = r
	}
	for _, s := range humanRoleSuffixes {
		name := v.prod + "-" + s
		if r := byName[name]; r != nil {
			found = append(found, r)
		} else {
			missing = append(missing, name)
		}
	}
	return found, missing
}

// roleNamed finds a role of the production's stack by its name.
func (v *view) roleNamed(name string) *resource {
	for _, r := range v.t(v.prod).ofType("AWS::IAM::Role") {
		if str(r.Props["RoleName"]) == name {
			return r
		}
	}
	return nil
}

// grant is a statement and the resource (role or policy) it comes from.
type grant struct {
	st     statement
	source *resource
	prop   string
}

// roleGrants are the identity statements in effect for a role: its inline
// policies, the AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources of
// its stack attached to it. Permissions boundaries are not grants.
func (v *view) roleGrants(role *resource) []grant {
	var out []grant
	for i, p := range asList(role.Props["Policies"]) {
		for _, st := range statements(asMap(p)["PolicyDocument"]) {
			out = append(out, grant{st, role, "Policies[" + itoa(i) + "]." + st.label()})
		}
	}
	t := v.t(role.Stack)
	for _, p := range t.ofType("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") {
		attached := false
		for _, rr := range asList(p.Props["Roles"]) {
			if refID(rr) == role.ID || (str(rr) != "" && str(rr) == str(role.Props["RoleName"])) {
				attached = true
			}
		}
		for _, m := range asList(role.Props["ManagedPolicyArns"]) {
			if refID(m) == p.ID {
				attached = true
			}
		}
		if !attached {
			continue
		}
		for _, st := range statements(p.Props["PolicyDocument"]) {
			out = append(out, grant{st, p, "PolicyDocument." + st.label()})
		}
	}
	return out
}

// managedPolicyNames are the AWS managed policies a role attaches, by name.
func managedPolicyNames(role *resource) []string {
	var out []string
	for _, m := range asList(role.Props["ManagedPolicyArns"]) {
		s := flatten(m)
		if i := strings.LastIndex(s, ":policy/"); i >= 0 {
			name := s[i+len(":policy/"):]
			if j := strings.LastIndex(name, "/"); j >= 0 {
				name = name[j+1:]
			}
			out = append(out, name)
		}
	}
	return out
}

// trails are the trails that record the production's account: the central
// trail when it is an organization trail, and any trail of the production's
// own stack.
func (v *view) trails() []*resource {
	var out []*resource
	for _, tr := range v.t(v.logging).ofType("AWS::CloudTrail::Trail") {
		if truthy(tr.Props["IsOrganizationTrail"]) {
			out = append(out, tr)
		}
	}
	out = append(out, v.t(v.prod).ofType("AWS::CloudTrail::Trail")...)
	return out
}

// kmsKeyOf resolves a KmsKeyId-like value to the AWS::KMS::Key it names, or
// nil for an AWS-managed key, an alias or an unknown value.
func (v *view) kmsKeyOf(stack string, val any) *resource {
	if val == nil {
		return nil
	}
	if r := v.resolve(stack, val); r != nil {
		if r.Type == "AWS::KMS::Key" {
			return r
		}
		if r.Type == "AWS::KMS::Alias" {
			return v.resolve(r.Stack, r.Props["TargetKeyId"])
		}
	}
	// An alias ARN written as a string: find the alias by name.
	s := flatten(val)
	if i := strings.Index(s, ":alias/"); i >= 0 {
		alias := "alias/" + s[i+len(":alias/"):]
		if a := v.aliases[alias]; a != nil {
			return v.resolve(a.Stack, a.Props["TargetKeyId"])
		}
	}
	return nil
}

// keyAlias is the alias name of a key, if its stack gives it one.
func (v *view) keyAlias(key *resource) string {
	for _, a := range v.t(key.Stack).ofType("AWS::KMS::Alias") {
		if refID(a.Props["TargetKeyId"]) == key.ID {
			return str(a.Props["AliasName"])
		}
	}
	return ""
}

// tagsOf reads a resource's tags, written as a list of Key/Value pairs or as
// a map (AWS::SSM::Parameter). Launch templates carry theirs in
// TagSpecifications for the launch-template resource type.
func tagsOf(r *resource) (map[string]string, bool) {
	raw, ok := r.Props["Tags"]
	if !ok && r.Type == "AWS::EC2::LaunchTemplate" {
		for _, spec := range asList(r.Props["TagSpecifications"]) {
			if str(asMap(spec)["ResourceType"]) == "launch-template" {
				raw, ok = asMap(spec)["Tags"], true
			}
		}
	}
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	if m := asMap(raw); m != nil {
		for k, x := range m {
			out[k] = flatten(x)
		}
		return out, true
	}
	for _, t := range asList(raw) {
		m := asMap(t)
		out[str(m["Key"])] = flatten(m["Value"])
	}
	return out, true
}

func itoa(i int) string {
	return str(i)
}
