// Package cfn is the one reader of synthesized CloudFormation: cloud
// assemblies (manifest.json and the templates it lists, nested assemblies
// included) and single templates, parsed into stacks and resources, with the
// intrinsic functions resolved and IAM policy documents normalised. Rules,
// evidence and tests read this model, never template JSON.
//
// Where to start:
//
//   - ReadAssembly(dir) reads cdk.out; ParseTemplate, TemplateFromMap and
//     FromTemplates build a model from template bytes or parsed JSON
//     (fixtures, templates synthesized in memory), and NewAssembly joins
//     stacks so that they can refer to each other.
//   - Assembly.Resources(types...) lists resources across stacks;
//     Stack.OfType within one; Resource.Prop reads a dotted property path.
//   - Stack.Resolve follows Ref and Fn::GetAtt to a resource, through SSM
//     parameters another stack publishes (Stack.SSMParameter) and imports;
//     Stack.String and Stack.Literal render a value as text; Assembly.Alias
//     and Assembly.Published find KMS aliases and SSM parameters by name.
//   - Assembly.Policies returns every policy document with its kind, the
//     roles it applies to and what it governs; RolePolicies those of a role.
package cfn

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Assembly is a set of stacks that may refer to each other: through SSM
// parameters one publishes and another reads, and through exports.
type Assembly struct {
	// Stacks, sorted by name.
	Stacks []*Stack

	byName  map[string]*Stack
	byType  map[string][]*Resource // in stack then logical id order
	params  map[string][]*Resource // AWS::SSM::Parameter by Name
	aliases map[string]*Resource   // AWS::KMS::Alias by AliasName
	exports map[string]Output      // by export name

	// generated names the resources whose physical name CloudFormation
	// generates (see NameGenerated); nil: ${Ref:LogicalId}.
	generated func(*Resource) string

	policiesOnce sync.Once
	policies     []*Policy
}

// Stack is one stack of an assembly and its template.
type Stack struct {
	Name    string
	Account string // "" when the assembly does not say
	Region  string
	// Tags are the stack's own tags (the artifact's tags in manifest.json).
	// A stack parsed without a manifest gets the tags most of its tagged
	// resources carry (see NewAssembly).
	Tags         map[string]string
	Dependencies []string // the names of the artifacts it depends on
	TemplateFile string   // relative to the assembly's folder, when read from one
	// TerminationProtection is the artifact's termination protection.
	TerminationProtection bool
	// Size is the size of the template in bytes, when parsed from bytes.
	Size int

	Description string
	Resources   map[string]*Resource
	Parameters  map[string]*Parameter
	Outputs     map[string]*Output
	// Raw is the parsed template as it was read.
	Raw map[string]any

	ids      []string // sorted logical ids
	assembly *Assembly
}

// Resource is one resource of a template.
type Resource struct {
	Stack               *Stack
	ID                  string // logical id
	Type                string
	Properties          map[string]any // never nil
	Metadata            map[string]any
	DeletionPolicy      string
	UpdateReplacePolicy string
	Condition           string
}

// Parameter is one template parameter.
type Parameter struct {
	Name    string
	Type    string
	Default any
}

// Output is one template output.
type Output struct {
	Stack  *Stack
	Name   string
	Value  any
	Export string // the export name, or ""
}

// ParseTemplate parses the JSON of one template as the stack name.
func ParseTemplate(name string, data []byte) (*Stack, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: not a CloudFormation template: %w", name, err)
	}
	s := TemplateFromMap(name, raw)
	s.Size = len(data)
	return s, nil
}

// TemplateFromMap makes a stack from an already parsed template (a fixture,
// or a template synthesized in memory). The map is kept, not copied.
func TemplateFromMap(name string, raw map[string]any) *Stack {
	s := &Stack{Name: name, Raw: raw, Description: Str(raw["Description"]),
		Resources: map[string]*Resource{}, Parameters: map[string]*Parameter{}, Outputs: map[string]*Output{}}
	for id, v := range AsMap(raw["Resources"]) {
		m := AsMap(v)
		r := &Resource{Stack: s, ID: id, Type: Str(m["Type"]), Properties: AsMap(m["Properties"]), Metadata: AsMap(m["Metadata"]),
			DeletionPolicy: Str(m["DeletionPolicy"]), UpdateReplacePolicy: Str(m["UpdateReplacePolicy"]), Condition: Str(m["Condition"])}
		if r.Properties == nil {
			r.Properties = map[string]any{}
		}
		s.Resources[id] = r
	}
	s.ids = slices.Sorted(maps.Keys(s.Resources))
	for id, v := range AsMap(raw["Parameters"]) {
		m := AsMap(v)
		s.Parameters[id] = &Parameter{Name: id, Type: Str(m["Type"]), Default: m["Default"]}
	}
	for id, v := range AsMap(raw["Outputs"]) {
		m := AsMap(v)
		s.Outputs[id] = &Output{Stack: s, Name: id, Value: m["Value"], Export: Str(AsMap(m["Export"])["Name"])}
	}
	return s
}

// NewAssembly gathers stacks into an assembly. Stack names must be unique.
// Stacks without tags get the tags their resources carry (see inferTags).
func NewAssembly(stacks ...*Stack) (*Assembly, error) {
	a := &Assembly{byName: map[string]*Stack{}, byType: map[string][]*Resource{},
		params: map[string][]*Resource{}, aliases: map[string]*Resource{}, exports: map[string]Output{}}
	for _, s := range stacks {
		if a.byName[s.Name] != nil {
			return nil, fmt.Errorf("two stacks are named %s", s.Name)
		}
		a.byName[s.Name] = s
		s.assembly = a
		if s.Tags == nil {
			s.Tags = inferTags(s)
		}
	}
	a.Stacks = slices.SortedFunc(maps.Values(a.byName), func(x, y *Stack) int { return strings.Compare(x.Name, y.Name) })
	for _, s := range a.Stacks {
		for _, r := range s.All() {
			a.byType[r.Type] = append(a.byType[r.Type], r)
		}
		for _, id := range slices.Sorted(maps.Keys(s.Outputs)) {
			if o := s.Outputs[id]; o.Export != "" {
				if _, dup := a.exports[o.Export]; !dup {
					a.exports[o.Export] = *o
				}
			}
		}
	}
	for _, r := range a.byType["AWS::SSM::Parameter"] {
		if n := Str(r.Properties["Name"]); n != "" {
			a.params[n] = append(a.params[n], r)
		}
	}
	for _, r := range a.byType["AWS::KMS::Alias"] {
		if n := Str(r.Properties["AliasName"]); n != "" && a.aliases[n] == nil {
			a.aliases[n] = r
		}
	}
	return a, nil
}

// FromTemplates makes an assembly of parsed templates by stack name.
func FromTemplates(templates map[string]map[string]any) (*Assembly, error) {
	var stacks []*Stack
	for _, name := range slices.Sorted(maps.Keys(templates)) {
		stacks = append(stacks, TemplateFromMap(name, templates[name]))
	}
	return NewAssembly(stacks...)
}

// inferTags are the tags CDK's stack tags leave in a template: for each key
// that most tagged resources carry, the value most of them give it (a
// construct may override a stack tag on some resources, as renderenv does
// with ResourceGroup).
func inferTags(s *Stack) map[string]string {
	counts := map[string]map[string]int{}
	tagged := 0
	for _, r := range s.All() {
		tags, ok := r.Tags()
		if !ok {
			continue
		}
		tagged++
		for k, v := range tags {
			if counts[k] == nil {
				counts[k] = map[string]int{}
			}
			counts[k][v]++
		}
	}
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		best, n, total := "", 0, 0
		for _, v := range slices.Sorted(maps.Keys(counts[k])) {
			total += counts[k][v]
			if counts[k][v] > n {
				best, n = v, counts[k][v]
			}
		}
		if 2*total > tagged {
			out[k] = best
		}
	}
	return out
}

// NameGenerated makes String render the name of a resource that
// CloudFormation generates at deploy time (a KMS key id, a launch template
// id, a role without RoleName) as name(r) instead of ${Ref:LogicalId}, for
// readers that need the names of two stacks' resources with the same
// logical id to differ (the placeholder does not name the stack). An empty
// name keeps the placeholder. Call it before anything is rendered:
// Policies keeps what it rendered.
func (a *Assembly) NameGenerated(name func(r *Resource) string) { a.generated = name }

// Stack returns the stack named name, or nil.
func (a *Assembly) Stack(name string) *Stack { return a.byName[name] }

// Resources returns the resources of the given types (every resource when
// none is given) across all stacks, in stack then logical id order.
func (a *Assembly) Resources(types ...string) []*Resource {
	if len(types) == 0 {
		var out []*Resource
		for _, s := range a.Stacks {
			out = append(out, s.All()...)
		}
		return out
	}
	var out []*Resource
	for _, t := range types {
		out = append(out, a.byType[t]...)
	}
	if len(types) > 1 {
		slices.SortStableFunc(out, func(x, y *Resource) int {
			if c := strings.Compare(x.Stack.Name, y.Stack.Name); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
	}
	return out
}

// Types returns the resource types present, sorted.
func (a *Assembly) Types() []string { return slices.Sorted(maps.Keys(a.byType)) }

// Published returns the AWS::SSM::Parameter resources that publish the
// parameter name, in stack order.
func (a *Assembly) Published(name string) []*Resource { return a.params[name] }

// Alias returns the AWS::KMS::Alias resource named name (alias/...), or nil.
func (a *Assembly) Alias(name string) *Resource { return a.aliases[name] }

// Export returns the output exported as name.
func (a *Assembly) Export(name string) (Output, bool) {
	o, ok := a.exports[name]
	return o, ok
}

// Assembly is the assembly the stack belongs to (nil before NewAssembly).
func (s *Stack) Assembly() *Assembly { return s.assembly }

// All returns every resource of the stack, by logical id.
func (s *Stack) All() []*Resource {
	out := make([]*Resource, 0, len(s.ids))
	for _, id := range s.ids {
		out = append(out, s.Resources[id])
	}
	return out
}

// OfType returns the resources of the given types, by logical id.
func (s *Stack) OfType(types ...string) []*Resource {
	var out []*Resource
	for _, id := range s.ids {
		if r := s.Resources[id]; slices.Contains(types, r.Type) {
			out = append(out, r)
		}
	}
	return out
}

// Resource returns the resource with logical id id, or nil.
func (s *Stack) Resource(id string) *Resource { return s.Resources[id] }

// String is stack/LogicalId.
func (r *Resource) String() string { return r.Stack.Name + "/" + r.ID }

// Path is the resource's construct path (aws:cdk:path), or "".
func (r *Resource) Path() string { return Str(r.Metadata["aws:cdk:path"]) }

// Prop reads a property by a dotted path; list items are written [i], as in
// "LaunchTemplateData.BlockDeviceMappings[0].Ebs.KmsKeyId". Absent: nil.
func (r *Resource) Prop(path string) any { return At(r.Properties, path) }

// At reads a value by a dotted path (see Resource.Prop).
func At(v any, path string) any {
	if path == "" {
		return v
	}
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			v = AsMap(v)[name]
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			var i int
			if _, err := fmt.Sscanf(idx, "%d", &i); !ok || err != nil {
				return nil
			}
			l := AsList(v)
			if i < 0 || i >= len(l) {
				return nil
			}
			v = l[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return v
}

// Tags returns the resource's tags, written as a list of Key/Value pairs
// (most types) or as a map (AWS::SSM::Parameter and a few others); values
// that are not plain strings are rendered by Stack.String. ok is false when
// the resource has no Tags property.
func (r *Resource) Tags() (tags map[string]string, ok bool) { return r.TagsAt("Tags") }

// TagsAt reads tags written at a property path (a launch template's tag
// specifications, say).
func (r *Resource) TagsAt(path string) (map[string]string, bool) {
	v := r.Prop(path)
	if v == nil {
		return nil, false
	}
	out := map[string]string{}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			m := AsMap(e)
			if k := Str(m["Key"]); k != "" {
				out[k] = r.Stack.String(m["Value"])
			}
		}
	case map[string]any:
		for k, val := range t {
			out[k] = r.Stack.String(val)
		}
	}
	return out, true
}

// Name is the physical name the resource declares, if any.
func (r *Resource) Name() string {
	for _, k := range []string{"BucketName", "RoleName", "LogGroupName", "TrailName", "TopicName", "AlarmName", "ManagedPolicyName", "PolicyName", "LaunchTemplateName", "AliasName", "Name"} {
		if s, ok := r.Properties[k].(string); ok {
			return s
		}
	}
	return ""
}
