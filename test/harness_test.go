package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/cfn"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/estategen"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// Templates are the synthesized CloudFormation templates of one estate:
// stack name to the parsed template JSON.
type Templates map[string]map[string]any

// Synthesized is one estate after synthesis. Tests must not modify it: it is
// shared by every test of the binary (use clone for a modified copy).
type Synthesized struct {
	Name      string
	Templates Templates
	Raw       map[string][]byte // the template files as written
	Manifests *manifest.Estate  // the input, for what only manifests know
	Elapsed   time.Duration
	// Findings are the unsuppressed cdk-nag findings (with estateSpec.nag):
	// the app refuses to synthesize when there is one.
	Findings []estate.Finding
	// DependsOn maps each stack to the stacks it declares a deploy-time
	// dependency on (manifest.json `dependencies`, assets left out).
	DependsOn map[string][]string
	// Assembly is the cloud assembly as internal/cfn reads it, with each
	// stack's account and region from manifest.json. Tests must not modify
	// it either (access.Fresh makes a copy).
	Assembly *cfn.Assembly
}

// estateSpec names an estate to synthesize.
type estateSpec struct {
	name  string
	only  []string
	files func() map[string][]byte // nil: productions/, the studio's estate
	// nag attaches cdk-nag and the reviewed suppressions, as the app does,
	// and records the unsuppressed findings. It costs seconds an estate, so
	// only the estates that look for findings ask for it.
	nag bool
}

// productionsEstate is the estate in productions/, embedded in the app: what
// `cdk synth` uses by default. It is the studio's own, so only the snapshot
// test reads it (TestNoTestReadsProductions keeps it that way).
var productionsEstate = estateSpec{name: productionsName}

const productionsName = "productions"

// acmeEstate is the acme fixture (internal/fixtures), which the invariant,
// reachability and trail tests know by name.
var acmeEstate = estateSpec{name: "acme", files: fixtures.AcmeFiles}

// generatedEstate is n generated productions across accounts shared accounts.
func generatedEstate(n, accounts int) estateSpec {
	return estateSpec{
		name:  fmt.Sprintf("generated-%d-across-%d", n, accounts),
		files: func() map[string][]byte { return estategen.Generate(n, accounts) },
	}
}

// The estates the invariant and reachability tests read.
var (
	invariantEstates    = []estateSpec{acmeEstate, generatedEstate(30, 2)}
	reachabilityEstates = []estateSpec{acmeEstate, generatedEstate(24, 3)}
)

type cacheEntry struct {
	once   sync.Once
	result *Synthesized
	err    error
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*cacheEntry{}
	// synthMu: one synthesis at a time through the one jsii runtime.
	synthMu sync.Mutex
)

// synth synthesizes spec once per test binary and returns the cached result.
// A failure to synthesize fails every test that needs the estate, each with
// the same message.
func synth(t testing.TB, spec estateSpec) *Synthesized {
	t.Helper()
	key := spec.name + "|" + strings.Join(spec.only, ",")
	cacheMu.Lock()
	e, ok := cache[key]
	if !ok {
		e = &cacheEntry{}
		cache[key] = e
	}
	cacheMu.Unlock()
	e.once.Do(func() {
		synthMu.Lock()
		defer synthMu.Unlock()
		start := time.Now()
		e.result, e.err = synthesize(t, spec)
		if e.err == nil {
			e.result.Elapsed = time.Since(start)
			t.Logf("synthesized the %s estate: %d stacks in %s", spec.name, len(e.result.Templates), e.result.Elapsed.Round(time.Millisecond))
		}
	})
	if e.err != nil {
		t.Fatalf("synthesizing the %s estate: %v", spec.name, e.err)
	}
	return e.result
}

// synthesize builds and synthesizes one estate into temporary folders. The
// folders may vanish with the test that created them: everything is read
// into memory before returning.
func synthesize(t testing.TB, spec estateSpec) (*Synthesized, error) {
	root, err := estate.ProjectRoot()
	if err != nil {
		return nil, err
	}
	dir := ""
	if spec.files == nil && spec.name != productionsName {
		return nil, fmt.Errorf("estate %s names no manifests: productions/ is the studio's, so only productionsEstate reads it; give the spec files (fixtures.AcmeFiles for acme)", spec.name)
	}
	if spec.files != nil {
		dir = t.TempDir()
		var files map[string][]byte
		if err := protect("generating the manifests", func() error { files = spec.files(); return nil }); err != nil {
			return nil, err
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return nil, err
			}
		}
	}
	e, errs := manifest.LoadDir(dir)
	if len(errs) > 0 {
		return nil, fmt.Errorf("the manifests do not validate:\n%s", errs.Error())
	}
	out := t.TempDir()
	var findings []estate.Finding
	err = protect("synthesis", func() error {
		app, err := estate.NewApp(root, out)
		if err != nil {
			return err
		}
		if _, err := estate.BuildWith(app, e, estate.Options{Only: spec.only, Checks: spec.nag}); err != nil {
			return err
		}
		findings = estate.Errors(app.Synth(nil))
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Manifests is the whole estate, also when spec.only narrows what is built.
	s := &Synthesized{Name: spec.name, Templates: Templates{}, Raw: map[string][]byte{}, Manifests: e,
		Findings: findings, DependsOn: map[string][]string{}}
	stacks, err := evidence.ReadStacks(out)
	if err != nil {
		return nil, err
	}
	for _, st := range stacks {
		s.Templates[st.Name], s.Raw[st.Name], s.DependsOn[st.Name] = st.Template, st.Raw, st.DependsOn
	}
	if len(stacks) == 0 {
		return nil, errors.New("synthesis wrote no templates")
	}
	if s.Assembly, err = cfn.ReadAssembly(out); err != nil {
		return nil, err
	}
	return s, nil
}

// protect runs f and turns a panic (a failing jsii call panics with the
// JavaScript error and its stack) into an error with the first lines of the
// message, so the test reports what went wrong instead of a stack dump.
func protect(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %s", what, firstLines(fmt.Sprint(r), 12))
		}
	}()
	return f()
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// eachEstate runs f as a subtest per estate.
func eachEstate(t *testing.T, specs []estateSpec, f func(t *testing.T, s *Synthesized)) {
	t.Helper()
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) { f(t, synth(t, spec)) })
	}
}

// --- Reading templates -----------------------------------------------------

// Stack kinds, by the stack names of internal/estate/names.go.
func (s *Synthesized) studio() string { return s.Manifests.Studio.Studio }

// IsProduction reports whether stack is a production's own stack.
func (s *Synthesized) IsProduction(stack string) bool {
	for _, p := range s.Manifests.Productions {
		if stack == s.studio()+"-"+p.Name {
			return true
		}
	}
	return false
}

// NetworkStack is the management account's hub stack.
func (s *Synthesized) NetworkStack() string { return s.studio() + "-network" }

// Stacks returns the stack names, sorted.
func (ts Templates) Stacks() []string {
	out := make([]string, 0, len(ts))
	for name := range ts {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Resource is one resource of one template.
type Resource struct {
	Stack, ID, Type string
	Body            map[string]any // the whole resource: Type, Properties, DeletionPolicy...
	Props           map[string]any
}

func (r Resource) String() string { return r.Stack + "/" + r.ID + " (" + r.Type + ")" }

// resources returns the resources of one template, sorted by logical id.
func resources(stack string, tpl map[string]any) []Resource {
	rs, _ := tpl["Resources"].(map[string]any)
	ids := make([]string, 0, len(rs))
	for id := range rs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Resource, 0, len(ids))
	for _, id := range ids {
		body, _ := rs[id].(map[string]any)
		typ, _ := body["Type"].(string)
		props, _ := body["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		out = append(out, Resource{Stack: stack, ID: id, Type: typ, Body: body, Props: props})
	}
	return out
}

// All returns every resource of every template, optionally only of the
// given types, in stack then logical id order.
func (ts Templates) All(types ...string) []Resource {
	var out []Resource
	for _, stack := range ts.Stacks() {
		for _, r := range resources(stack, ts[stack]) {
			if len(types) == 0 || contains(types, r.Type) {
				out = append(out, r)
			}
		}
	}
	return out
}

// In returns the resources of one stack, optionally of the given types.
func (ts Templates) In(stack string, types ...string) []Resource {
	var out []Resource
	for _, r := range resources(stack, ts[stack]) {
		if len(types) == 0 || contains(types, r.Type) {
			out = append(out, r)
		}
	}
	return out
}

// Get returns one resource of one stack.
func (ts Templates) Get(stack, id string) (Resource, bool) {
	rs, _ := ts[stack]["Resources"].(map[string]any)
	body, ok := rs[id].(map[string]any)
	if !ok {
		return Resource{}, false
	}
	typ, _ := body["Type"].(string)
	props, _ := body["Properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	return Resource{Stack: stack, ID: id, Type: typ, Body: body, Props: props}, true
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ref returns X of {"Ref": X}.
func ref(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	id, ok := m["Ref"].(string)
	return id, ok
}

// getAtt returns X and A of {"Fn::GetAtt": [X, A]}.
func getAtt(v any) (string, string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", "", false
	}
	l, ok := m["Fn::GetAtt"].([]any)
	if !ok || len(l) != 2 {
		return "", "", false
	}
	id, ok1 := l[0].(string)
	attr, ok2 := l[1].(string)
	return id, attr, ok1 && ok2
}

// refOrAtt returns the logical id a Ref or GetAtt points at.
func refOrAtt(v any) (string, bool) {
	if id, ok := ref(v); ok {
		return id, true
	}
	id, _, ok := getAtt(v)
	return id, ok
}

// asList returns v as a list: a single value is a list of one.
func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

// strs returns the string elements of v (a string or a list).
func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// isTrue accepts true and "true", as CloudFormation does.
func isTrue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}

// number returns a JSON number (or a numeric string) as a float.
func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		var f float64
		_, err := fmt.Sscan(t, &f)
		return f, err == nil
	}
	return 0, false
}

// tags returns the resource's tags, whether written as a list of Key/Value
// pairs (most types) or as a map (AWS::SSM::Parameter and a few others).
// Values that are not plain strings (tokens) are recorded as "<token>".
func tags(r Resource) (map[string]string, bool) {
	v, ok := r.Props["Tags"]
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			m, _ := e.(map[string]any)
			k, _ := m["Key"].(string)
			if k == "" {
				continue
			}
			if s, ok := m["Value"].(string); ok {
				out[k] = s
			} else {
				out[k] = "<token>"
			}
		}
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok {
				out[k] = s
			} else {
				out[k] = "<token>"
			}
		}
	}
	return out, true
}

// clone deep-copies parsed templates, for tests that inject faults.
func clone(ts Templates) Templates {
	data, err := json.Marshal(ts)
	if err != nil {
		panic(err)
	}
	var out Templates
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

// follow resolves a value that comes from another stack: an import of an
// export, or an SSM parameter (a template parameter of type
// AWS::SSM::Parameter::Value<String> whose Default names an
// AWS::SSM::Parameter another stack of the estate publishes). It returns the
// stack and expression the value comes from; a value that is neither is
// returned as it is. SSM names are per account: the estate's names embed
// the account where it matters, and a name published twice is an error.
func (ts Templates) follow(stack string, v any) (string, any, error) {
	for hop := 0; hop < 8; hop++ {
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			if name, ok := m["Fn::ImportValue"].(string); ok {
				exp, found := exports(ts)[name]
				if !found {
					return stack, v, fmt.Errorf("imports %q, which no stack of the estate exports", name)
				}
				stack, v = exp.stack, exp.value
				continue
			}
		}
		id, ok := ref(v)
		if !ok {
			return stack, v, nil
		}
		params, _ := ts[stack]["Parameters"].(map[string]any)
		p, ok := params[id].(map[string]any)
		if !ok || p["Type"] != "AWS::SSM::Parameter::Value<String>" {
			return stack, v, nil
		}
		name, _ := p["Default"].(string)
		var found []Resource
		for _, r := range ts.All("AWS::SSM::Parameter") {
			if r.Props["Name"] == name {
				found = append(found, r)
			}
		}
		switch len(found) {
		case 0:
			return stack, v, fmt.Errorf("parameter %s reads SSM %q, which no stack of the estate publishes", id, name)
		case 1:
			stack, v = found[0].Stack, found[0].Props["Value"]
		default:
			return stack, v, fmt.Errorf("parameter %s reads SSM %q, which %s and %s both publish", id, name, found[0], found[1])
		}
	}
	return stack, v, fmt.Errorf("%v: too many hops between stacks", v)
}

// exports maps CloudFormation export names to the exporting stack and the
// exported value.
func exports(ts Templates) map[string]struct {
	stack string
	value any
} {
	out := map[string]struct {
		stack string
		value any
	}{}
	for _, stack := range ts.Stacks() {
		outs, _ := ts[stack]["Outputs"].(map[string]any)
		for _, o := range outs {
			om, _ := o.(map[string]any)
			exp, _ := om["Export"].(map[string]any)
			if name, ok := exp["Name"].(string); ok {
				out[name] = struct {
					stack string
					value any
				}{stack, om["Value"]}
			}
		}
	}
	return out
}
