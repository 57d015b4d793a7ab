package evidence

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Templates are synthesized CloudFormation templates by stack name, each the
// parsed JSON of <stack>.template.json.
type Templates = map[string]map[string]any

// resource is one resource of a template.
type resource struct {
	Stack string
	ID    string
	Type  string
	Props map[string]any
	// Metadata is the resource's Metadata block (aws:cdk:path and friends).
	Metadata map[string]any
}

// template is one parsed stack template.
type template struct {
	Name        string
	Description string
	Resources   map[string]*resource
	Parameters  map[string]map[string]any
	ids         []string // sorted logical ids
}

func parseTemplate(name string, raw map[string]any) *template {
	t := &template{Name: name, Description: str(raw["Description"]), Resources: map[string]*resource{}, Parameters: map[string]map[string]any{}}
	for id, v := range asMap(raw["Resources"]) {
		m := asMap(v)
		r := &resource{Stack: name, ID: id, Type: str(m["Type"]), Props: asMap(m["Properties"]), Metadata: asMap(m["Metadata"])}
		if r.Props == nil {
			r.Props = map[string]any{}
		}
		t.Resources[id] = r
		t.ids = append(t.ids, id)
	}
	sort.Strings(t.ids)
	for id, v := range asMap(raw["Parameters"]) {
		t.Parameters[id] = asMap(v)
	}
	return t
}

// ofType returns the resources of the given types, by logical id.
func (t *template) ofType(types ...string) []*resource {
	if t == nil {
		return nil
	}
	var out []*resource
	for _, id := range t.ids {
		r := t.Resources[id]
		for _, ty := range types {
			if r.Type == ty {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// all returns every resource, by logical id.
func (t *template) all() []*resource {
	if t == nil {
		return nil
	}
	out := make([]*resource, 0, len(t.ids))
	for _, id := range t.ids {
		out = append(out, t.Resources[id])
	}
	return out
}

// prop reads a property by a dotted path; list items are written [i].
func (r *resource) prop(path string) any {
	var cur any = r.Props
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil {
				return nil
			}
			idx = n
		}
		if name != "" {
			cur = asMap(cur)[name]
		}
		if idx >= 0 {
			l := asList(cur)
			if idx >= len(l) {
				return nil
			}
			cur = l[idx]
		}
	}
	return cur
}

// name is the physical name the resource declares, if any.
func (r *resource) name() string {
	for _, k := range []string{"BucketName", "RoleName", "LogGroupName", "TrailName", "TopicName", "AlarmName", "Name", "ManagedPolicyName", "LaunchTemplateName"} {
		if s, ok := r.Props[k].(string); ok {
			return s
		}
	}
	return ""
}

// Helpers over parsed JSON values.

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// asList returns v as a list; a single value is a list of one.
func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	default:
		return []any{v}
	}
}

// strs returns the string items of a value that is a string or a list.
func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return t.String()
	}
	return ""
}

// truthy is CloudFormation's idea of true: true or "true".
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}

// num reads a number written as a number or a numeric string.
func num(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	}
	return 0, false
}

// compact renders a value for an evidence line.
func compact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// refID is the logical id a Ref or Fn::GetAtt points at, or "".
func refID(v any) string {
	m := asMap(v)
	if m == nil || len(m) != 1 {
		return ""
	}
	if s, ok := m["Ref"].(string); ok {
		return s
	}
	switch g := m["Fn::GetAtt"].(type) {
	case []any:
		if len(g) > 0 {
			return str(g[0])
		}
	case string:
		id, _, _ := strings.Cut(g, ".")
		return id
	}
	return ""
}

// flatten renders a value built with Fn::Join into a string, writing other
// intrinsic functions as ${...}; plain strings are returned as they are.
func flatten(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		if j, ok := t["Fn::Join"].([]any); ok && len(j) == 2 {
			var parts []string
			for _, p := range asList(j[1]) {
				parts = append(parts, flatten(p))
			}
			return strings.Join(parts, str(j[0]))
		}
		if s, ok := t["Fn::Sub"].(string); ok {
			return s
		}
		if id := refID(t); id != "" {
			return "${" + id + "}"
		}
	}
	return compact(v)
}

var digitRuns = regexp.MustCompile(`[0-9]+`)

// accountsIn records, for each 12-digit account id written anywhere in v,
// the first property path (and its text) that names it.
func accountsIn(v any, path string, into map[string][2]string) {
	switch t := v.(type) {
	case string:
		for _, run := range digitRuns.FindAllString(t, -1) {
			if _, seen := into[run]; len(run) == 12 && !seen {
				into[run] = [2]string{path, t}
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			next := k
			if strings.HasPrefix(k, "Fn::") || k == "Ref" {
				next = ""
			}
			accountsIn(t[k], joinPath(path, next), into)
		}
	case []any:
		for i, x := range t {
			accountsIn(x, fmt.Sprintf("%s[%d]", path, i), into)
		}
	}
}

func joinPath(a, b string) string {
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return a + "." + b
}

// statement is one IAM policy statement, normalized.
type statement struct {
	Sid        string
	Effect     string
	Actions    []string
	NotActions []string
	Principal  any
	Resources  []string // flattened
	Condition  map[string]any
	index      int
}

func statements(doc any) []statement {
	var out []statement
	for i, s := range asList(asMap(doc)["Statement"]) {
		m := asMap(s)
		if m == nil {
			continue
		}
		st := statement{
			Sid:        str(m["Sid"]),
			Effect:     str(m["Effect"]),
			Actions:    strs(m["Action"]),
			NotActions: strs(m["NotAction"]),
			Principal:  m["Principal"],
			Condition:  asMap(m["Condition"]),
			index:      i,
		}
		for _, r := range asList(m["Resource"]) {
			st.Resources = append(st.Resources, flatten(r))
		}
		out = append(out, st)
	}
	return out
}

func (s statement) allow() bool { return strings.EqualFold(s.Effect, "Allow") }

// label names the statement in evidence: its Sid or its position.
func (s statement) label() string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("Statement[%d]", s.index)
}

// grants reports whether an Allow statement covers action (wildcards in the
// statement are honoured; NotAction counts as covering everything else).
func (s statement) grants(action string) bool {
	if !s.allow() {
		return false
	}
	if len(s.NotActions) > 0 {
		for _, a := range s.NotActions {
			if actionMatch(a, action) {
				return false
			}
		}
		return true
	}
	for _, a := range s.Actions {
		if actionMatch(a, action) {
			return true
		}
	}
	return false
}

// actionMatch matches an IAM action pattern (with * and ?) from a statement
// against an action, case-insensitively.
func actionMatch(pattern, action string) bool {
	return globMatch(strings.ToLower(pattern), strings.ToLower(action))
}

func globMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// conditionValues returns the values a statement's condition gives key under
// any operator whose name contains op (e.g. "Bool", "IpAddress").
func (s statement) conditionValues(op, key string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(s.Condition)) {
		if !strings.Contains(name, op) {
			continue
		}
		block := asMap(s.Condition[name])
		for _, k := range slices.Sorted(maps.Keys(block)) {
			v := block[k]
			if strings.EqualFold(k, key) {
				for _, x := range asList(v) {
					out = append(out, flatten(x))
				}
			}
		}
	}
	return out
}

// conditionRaw returns the raw value a condition gives key under the first
// operator whose name contains op.
func (s statement) conditionRaw(op, key string) any {
	for _, name := range slices.Sorted(maps.Keys(s.Condition)) {
		if !strings.Contains(name, op) {
			continue
		}
		for k, v := range asMap(s.Condition[name]) {
			if strings.EqualFold(k, key) {
				return v
			}
		}
	}
	return nil
}

// principals are the AWS account ids and ARNs a statement's
// principal names; services names the service principals.
func principals(p any) (aws []string, services []string) {
	if s, ok := p.(string); ok {
		return []string{s}, nil
	}
	m := asMap(p)
	for _, v := range asList(m["AWS"]) {
		aws = append(aws, flatten(v))
	}
	for _, v := range asList(m["Service"]) {
		services = append(services, flatten(v))
	}
	return aws, services
}
