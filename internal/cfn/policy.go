package cfn

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PolicyKind says what a policy document does.
type PolicyKind string

// The kinds of policy documents the model reads.
const (
	Identity PolicyKind = "identity" // a role's inline policy, AWS::IAM::Policy, AWS::IAM::ManagedPolicy
	Trust    PolicyKind = "trust"    // a role's AssumeRolePolicyDocument
	Boundary PolicyKind = "boundary" // a managed policy some role names as its PermissionsBoundary
	Key      PolicyKind = "key"      // an AWS::KMS::Key's KeyPolicy
	Bucket   PolicyKind = "bucket"   // an AWS::S3::BucketPolicy
	Endpoint PolicyKind = "endpoint" // an AWS::EC2::VPCEndpoint's PolicyDocument
	Topic    PolicyKind = "topic"    // an AWS::SNS::TopicPolicy
)

// Policy is one IAM policy document of the assembly, normalised.
type Policy struct {
	Kind     PolicyKind
	Resource *Resource // the resource that holds the document
	Path     string    // the document's property path, e.g. Policies[0].PolicyDocument
	// Roles are the roles an identity policy is attached to, or a boundary
	// bounds; the role itself for its trust policy.
	Roles []*Resource
	// Targets are what a resource policy governs: the key, the bucket, the
	// topics, the endpoint.
	Targets    []*Resource
	Statements []Statement
}

// Statement is one policy statement. Action, NotAction, Resource and
// NotResource are always lists of strings, with intrinsic functions
// rendered by Stack.String (ARNs where the template fixes them).
type Statement struct {
	Index        int
	Sid          string
	Effect       string
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Principal    *Principal // nil when the statement names none
	NotPrincipal *Principal
	// Condition maps operator (StringEquals, Bool, ...) to key to values.
	Condition map[string]map[string][]string
}

// Principal is a statement's Principal, parsed.
type Principal struct {
	// Wildcard is "*" or {"AWS": "*"}: everyone.
	Wildcard      bool
	AWS           []string // account ids, account roots and ARNs
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Policies returns every policy document of the assembly, in stack then
// logical id order.
func (a *Assembly) Policies() []*Policy {
	a.policiesOnce.Do(func() {
		for _, s := range a.Stacks {
			for _, r := range s.All() {
				a.policies = append(a.policies, a.policiesOf(r)...)
			}
		}
	})
	return a.policies
}

// PoliciesOf returns the policy documents a resource holds.
func (a *Assembly) PoliciesOf(r *Resource) []*Policy { return a.policiesOf(r) }

func (a *Assembly) policiesOf(r *Resource) []*Policy {
	doc := func(kind PolicyKind, path string, roles, targets []*Resource) *Policy {
		return &Policy{Kind: kind, Resource: r, Path: path, Roles: roles, Targets: targets, Statements: r.Stack.statements(r.Prop(path))}
	}
	self := []*Resource{r}
	switch r.Type {
	case "AWS::IAM::Role":
		out := []*Policy{doc(Trust, "AssumeRolePolicyDocument", self, self)}
		for i := range AsList(r.Properties["Policies"]) {
			out = append(out, doc(Identity, fmt.Sprintf("Policies[%d].PolicyDocument", i), self, nil))
		}
		return out
	case "AWS::IAM::Policy":
		return []*Policy{doc(Identity, "PolicyDocument", r.ResolveAll("Roles"), nil)}
	case "AWS::IAM::ManagedPolicy":
		// A managed policy used only as a boundary grants nothing.
		var out []*Policy
		attached, bounded := a.attached(r), a.bounded(r)
		if len(attached) > 0 || len(bounded) == 0 {
			out = append(out, doc(Identity, "PolicyDocument", attached, nil))
		}
		if len(bounded) > 0 {
			out = append(out, doc(Boundary, "PolicyDocument", bounded, nil))
		}
		return out
	case "AWS::KMS::Key":
		return []*Policy{doc(Key, "KeyPolicy", nil, self)}
	case "AWS::S3::BucketPolicy":
		return []*Policy{doc(Bucket, "PolicyDocument", nil, r.ResolveAll("Bucket"))}
	case "AWS::EC2::VPCEndpoint":
		if r.Properties["PolicyDocument"] != nil {
			return []*Policy{doc(Endpoint, "PolicyDocument", nil, self)}
		}
	case "AWS::SNS::TopicPolicy":
		return []*Policy{doc(Topic, "PolicyDocument", nil, r.ResolveAll("Topics"))}
	}
	return nil
}

// ResolveAll resolves each item of a property that is a value or a list,
// and matches plain names to resources of the stack by their declared
// physical name.
func (r *Resource) ResolveAll(path string) []*Resource {
	var out []*Resource
	for _, v := range AsList(r.Prop(path)) {
		if t := r.Stack.Resolve(v); t != nil {
			out = append(out, t)
			continue
		}
		if name, ok := v.(string); ok {
			for _, c := range r.Stack.All() {
				if c.Name() == name && nameProperty[c.Type] != "" {
					out = append(out, c)
					break
				}
			}
		}
	}
	return out
}

// attached returns the roles a managed policy is attached to: those its
// Roles property names and those that list it in ManagedPolicyArns.
func (a *Assembly) attached(mp *Resource) []*Resource {
	out := mp.ResolveAll("Roles")
	for _, role := range a.Resources("AWS::IAM::Role") {
		for _, p := range role.ResolveAll("ManagedPolicyArns") {
			if p == mp && !slices.Contains(out, role) {
				out = append(out, role)
			}
		}
	}
	return out
}

// bounded returns the roles that name mp as their permissions boundary.
func (a *Assembly) bounded(mp *Resource) []*Resource {
	var out []*Resource
	for _, role := range a.Resources("AWS::IAM::Role") {
		if role.Resolve("PermissionsBoundary") == mp {
			out = append(out, role)
		}
	}
	return out
}

// RolePolicies returns the identity policies that apply to role: its inline
// policies, and the AWS::IAM::Policy and managed policies of the assembly
// attached to it. Boundaries only limit, so they are not among them.
func (a *Assembly) RolePolicies(role *Resource) []*Policy {
	var out []*Policy
	for _, p := range a.Policies() {
		if p.Kind == Identity && slices.Contains(p.Roles, role) {
			out = append(out, p)
		}
	}
	return out
}

// ManagedPolicyNames are the names of the AWS managed policies a role
// attaches (arn:...:policy/NAME written as text).
func (r *Resource) ManagedPolicyNames() []string {
	var out []string
	for _, v := range AsList(r.Properties["ManagedPolicyArns"]) {
		arn := r.Stack.String(v)
		if i := strings.Index(arn, ":iam::aws:policy/"); i >= 0 {
			out = append(out, arn[strings.LastIndex(arn, "/")+1:])
		}
	}
	return out
}

func (s *Stack) statements(doc any) []Statement {
	var out []Statement
	for i, v := range AsList(AsMap(doc)["Statement"]) {
		m := AsMap(v)
		if m == nil {
			continue
		}
		st := Statement{Index: i, Sid: Str(m["Sid"]), Effect: Str(m["Effect"]),
			Action: s.Strings(m["Action"]), NotAction: s.Strings(m["NotAction"]),
			Resource: s.Strings(m["Resource"]), NotResource: s.Strings(m["NotResource"]),
			Principal: s.principal(m["Principal"]), NotPrincipal: s.principal(m["NotPrincipal"]),
			Condition: map[string]map[string][]string{}}
		for op, block := range AsMap(m["Condition"]) {
			st.Condition[op] = map[string][]string{}
			for k, val := range AsMap(block) {
				st.Condition[op][k] = s.Strings(val)
			}
		}
		out = append(out, st)
	}
	return out
}

func (s *Stack) principal(v any) *Principal {
	if v == nil {
		return nil
	}
	p := &Principal{}
	if str, ok := v.(string); ok {
		p.Wildcard = str == "*"
		if !p.Wildcard {
			p.AWS = []string{str}
		}
		return p
	}
	m := AsMap(v)
	p.AWS = s.Strings(m["AWS"])
	p.Service = s.Strings(m["Service"])
	p.Federated = s.Strings(m["Federated"])
	p.CanonicalUser = s.Strings(m["CanonicalUser"])
	if slices.Contains(p.AWS, "*") {
		p.Wildcard = true
	}
	if m == nil && !p.Wildcard {
		p.AWS = []string{s.String(v)}
	}
	return p
}

// StatementPath is the statement's property path within its resource.
func (p *Policy) StatementPath(st Statement) string {
	return fmt.Sprintf("%s.Statement[%d]", p.Path, st.Index)
}

// Allow reports whether the statement allows (rather than denies).
func (st Statement) Allow() bool { return strings.EqualFold(st.Effect, "Allow") }

// Deny reports whether the statement denies.
func (st Statement) Deny() bool { return strings.EqualFold(st.Effect, "Deny") }

// Label names the statement: its Sid, or its position.
func (st Statement) Label() string {
	if st.Sid != "" {
		return st.Sid
	}
	return fmt.Sprintf("Statement[%d]", st.Index)
}

// Covers reports whether the statement's actions cover action, whatever
// its effect: a pattern of Action matches it, or NotAction is given and no
// pattern of it does. Wildcards are honoured, case is ignored.
func (st Statement) Covers(action string) bool {
	if len(st.NotAction) > 0 {
		for _, p := range st.NotAction {
			if Glob(p, action) {
				return false
			}
		}
		return true
	}
	for _, p := range st.Action {
		if Glob(p, action) {
			return true
		}
	}
	return false
}

// Grants reports whether an Allow statement covers action.
func (st Statement) Grants(action string) bool { return st.Allow() && st.Covers(action) }

// CoveredOf returns the actions of list the statement covers.
func (st Statement) CoveredOf(list []string) []string {
	var out []string
	for _, a := range list {
		if st.Covers(a) {
			out = append(out, a)
		}
	}
	return out
}

// Values returns the values a condition gives key (case-insensitive) under
// the operators for which match returns true (nil: every operator), in
// operator order.
func (st Statement) Values(match func(op string) bool, key string) []string {
	var out []string
	for _, op := range slices.Sorted(maps.Keys(st.Condition)) {
		if match != nil && !match(op) {
			continue
		}
		for k, vals := range st.Condition[op] {
			if strings.EqualFold(k, key) {
				out = append(out, vals...)
			}
		}
	}
	return out
}

// ConditionKeys returns every condition key of the statement, sorted.
func (st Statement) ConditionKeys() []string {
	var out []string
	for _, block := range st.Condition {
		for k := range block {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Negated reports whether a condition operator matches when the value
// differs (StringNotEquals, ArnNotLike, ...).
func Negated(op string) bool {
	op = strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
	return strings.Contains(op, "Not")
}

// All returns everything the principal names, in one list ("*" for
// everyone).
func (p *Principal) All() []string {
	if p == nil {
		return nil
	}
	out := slices.Concat(p.AWS, p.Service, p.Federated, p.CanonicalUser)
	if p.Wildcard {
		out = append(out, "*")
	}
	return out
}

// AccountRoot reports whether an AWS principal names a whole account: an
// account id or an arn:...:root.
func AccountRoot(principal string) bool {
	if strings.HasSuffix(principal, ":root") {
		return true
	}
	if len(principal) != 12 {
		return false
	}
	for _, c := range principal {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
