// Package cdktest builds test stacks the way the app does and checks their
// templates with the CDK assertions package.
//
// A test builds every stack it needs before the first Template: the App
// synthesizes once, and stacks added after that are not in the assembly.
package cdktest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
)

// Env is a stack's account and region.
type Env struct {
	Account, Region string
}

// Zones are the availability zones seeded for region: the same a and b zones
// the manifests default to.
func Zones(region string) []string {
	return []string{region + "a", region + "b"}
}

// Root is the project root: the nearest folder above the working
// directory that holds cdk.json.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := estate.ProjectRoot()
	if err != nil {
		t.Fatalf("cdktest: %v", err)
	}
	return dir
}

// Main runs a package's tests and exits; see Run.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs a package's tests through one jsii runtime, closed at the end,
// and returns the exit code. Node 20 still runs jsii correctly; its
// end-of-life banner would drown the test output.
func Run(m *testing.M) int {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	defer jsii.Close()
	return m.Run()
}

// NewApp creates an App with cdk.json's feature flags, synthesizing into a
// temporary folder, with the availability zones of every env seeded in its
// context. Context can only be set before the App has children, so every
// env the test's stacks use must be named here.
func NewApp(t testing.TB, envs ...Env) awscdk.App {
	t.Helper()
	app, err := estate.NewApp(Root(t), t.TempDir())
	if err != nil {
		t.Fatalf("cdktest: %v", err)
	}
	for _, e := range envs {
		// Without this a stack with a concrete env looks up its zones at
		// synth (or falls back to dummy1a): synth must need no credentials.
		key := fmt.Sprintf("availability-zones:account=%s:region=%s", e.Account, e.Region)
		app.Node().SetContext(jsii.String(key), Zones(e.Region))
	}
	return app
}

// AddStack adds a stack with an explicit env to app; app must have been
// created by NewApp with env among its envs.
func AddStack(t testing.TB, app awscdk.App, id string, env Env) awscdk.Stack {
	t.Helper()
	return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(env.Account), Region: jsii.String(env.Region)},
	})
}

// NewStack creates an App of its own and one stack in account and region.
func NewStack(t testing.TB, account, region string) awscdk.Stack {
	t.Helper()
	env := Env{Account: account, Region: region}
	return AddStack(t, NewApp(t, env), "Test", env)
}

// Template synthesizes stack's App (once) and returns the stack's template.
func Template(t testing.TB, stack awscdk.Stack) assertions.Template {
	t.Helper()
	var tpl assertions.Template
	Check(t, "synthesizing "+*stack.StackName(), func() {
		tpl = assertions.Template_FromStack(stack, nil)
	})
	if tpl == nil {
		t.FailNow()
	}
	return tpl
}

// WrittenTemplate synthesizes stack's App and returns the template file
// as written, byte for byte: what key order, metadata and overrides the
// CDK writes, which Template's parsed view does not show.
func WrittenTemplate(t testing.TB, stack awscdk.Stack) []byte {
	t.Helper()
	asm := stack.Node().Root().(awscdk.App).Synth(nil)
	raw, err := os.ReadFile(*asm.GetStackArtifact(stack.ArtifactId()).TemplateFullPath())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Check runs one assertion. A failing jsii assertion panics; Check turns the
// panic into a test error that carries the assertion's message only, and
// lets the test go on to its next check.
func Check(t testing.TB, name string, f func()) {
	t.Helper()
	if msg, failed := catch(f); failed {
		t.Errorf("%s:\n%s", name, msg)
	}
}

// catch runs f and returns the message of the panic it raised, if any.
// The error is reported by the caller, outside the deferred function, so
// that the test names the line of the failing check, not the runtime's.
func catch(f func()) (msg string, failed bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, failed = message(r), true
		}
	}()
	f()
	return "", false
}

// message is the text of a jsii panic without the JavaScript stack.
func message(r any) string {
	var s string
	switch v := r.(type) {
	case error:
		s = v.Error()
	case string:
		s = v
	default:
		s = fmt.Sprint(v)
	}
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "at ") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.TrimRight(strings.Join(keep, "\n"), "\n")
}

// HasProperties checks that some resource of typ has properties matching
// props (a map is matched with Match_ObjectLike).
func HasProperties(t testing.TB, tpl assertions.Template, typ string, props any) {
	t.Helper()
	Check(t, "a "+typ+" with the expected properties", func() {
		tpl.HasResourceProperties(jsii.String(typ), props)
	})
}

// HasResource checks that some resource of typ matches props at the
// resource level (Properties, DeletionPolicy, ...).
func HasResource(t testing.TB, tpl assertions.Template, typ string, props any) {
	t.Helper()
	Check(t, "a "+typ+" as expected", func() {
		tpl.HasResource(jsii.String(typ), props)
	})
}

// Count checks that the template has n resources of typ.
func Count(t testing.TB, tpl assertions.Template, typ string, n int) {
	t.Helper()
	Check(t, fmt.Sprintf("%d of %s", n, typ), func() {
		tpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n)))
	})
}

// CountProperties checks that the template has n resources of typ whose
// properties match props.
func CountProperties(t testing.TB, tpl assertions.Template, typ string, props any, n int) {
	t.Helper()
	Check(t, fmt.Sprintf("%d of %s with the given properties", n, typ), func() {
		tpl.ResourcePropertiesCountIs(jsii.String(typ), props, jsii.Number(float64(n)))
	})
}

// Obj is shorthand for Match_ObjectLike.
func Obj(m map[string]any) assertions.Matcher { return assertions.Match_ObjectLike(&m) }

// ArrayWith is shorthand for Match_ArrayWith.
func ArrayWith(v ...any) assertions.Matcher { return assertions.Match_ArrayWith(&v) }

// Resource is one resource of a template as plain Go values.
type Resource struct {
	ID         string
	Properties map[string]any
	Raw        map[string]any // Type, Properties, DeletionPolicy, ...
}

// Find returns the resources of type that match props (nil for all),
// sorted by logical id. It never fails: an empty result is for the caller
// to judge.
func Find(t testing.TB, tpl assertions.Template, typ string, props any) []Resource {
	t.Helper()
	var found *map[string]*map[string]any
	Check(t, "finding "+typ, func() { found = tpl.FindResources(jsii.String(typ), props) })
	if found == nil {
		return nil
	}
	var out []Resource
	for id, r := range *found {
		raw := plain(*r)
		props, _ := raw["Properties"].(map[string]any)
		out = append(out, Resource{ID: id, Properties: props, Raw: raw})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// One returns the single resource of type that matches props, or fails the
// test.
func One(t testing.TB, tpl assertions.Template, typ string, props any) Resource {
	t.Helper()
	rs := Find(t, tpl, typ, props)
	if len(rs) != 1 {
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		t.Fatalf("want exactly one %s matching, found %d: %v", typ, len(rs), ids)
	}
	return rs[0]
}

// JSON is the whole template as plain Go values.
func JSON(tpl assertions.Template) map[string]any {
	return plain(*tpl.ToJSON())
}

// plain deep-copies what jsii returns into the usual map[string]any, []any,
// string, float64 and bool (cfn.Clone), so that nested values read the way
// internal/cfn reads templates.
func plain(v map[string]any) map[string]any { return cfn.Clone(v) }

// Ref is the CloudFormation reference to a logical id.
func Ref(id string) map[string]any { return map[string]any{"Ref": id} }

// GetAtt is the CloudFormation attribute of a logical id.
func GetAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// Strings reads a policy field that is a string or a list of strings.
func Strings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, Strings(e)...)
		}
		return out
	default:
		return []string{Text(x)}
	}
}

// Text renders a value as a string: intrinsic functions become their JSON,
// and Fn::Join of literal parts becomes the joined text, so that an ARN built
// with a partition reference reads arn:${AWS::Partition}:...
func Text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			var s []string
			for _, p := range parts {
				s = append(s, Text(p))
			}
			return strings.Join(s, sep)
		}
		if r, ok := x["Ref"].(string); ok {
			return "${" + r + "}"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			return fmt.Sprintf("${%v.%v}", g[0], g[1])
		}
	}
	return cfn.Compact(v)
}

// Statement is one IAM policy statement.
type Statement map[string]any

// Statements are the statements of a policy document.
func Statements(doc any) []Statement {
	d, _ := doc.(map[string]any)
	list, _ := d["Statement"].([]any)
	var out []Statement
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			out = append(out, Statement(m))
		}
	}
	return out
}

// Sid is the statement's Sid, or "".
func (s Statement) Sid() string { v, _ := s["Sid"].(string); return v }

// Effect is Allow or Deny.
func (s Statement) Effect() string { v, _ := s["Effect"].(string); return v }

// Actions are the statement's actions.
func (s Statement) Actions() []string { return Strings(s["Action"]) }

// Resources are the statement's resources, rendered with Text.
func (s Statement) Resources() []string { return Strings(s["Resource"]) }

// Principals are the statement's principals of kind (AWS, Service, ...),
// rendered with Text; "*" for a bare wildcard principal.
func (s Statement) Principals(kind string) []string {
	switch p := s["Principal"].(type) {
	case string:
		return []string{p}
	case map[string]any:
		return Strings(p[kind])
	}
	return nil
}

// Condition returns the values of the statement's condition operator and
// key, and whether the condition is present.
func (s Statement) Condition(operator, key string) ([]string, bool) {
	c, _ := s["Condition"].(map[string]any)
	op, ok := c[operator].(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := op[key]
	if !ok {
		return nil, false
	}
	return Strings(v), true
}

// Has reports whether the statement lists action (exactly).
func (s Statement) Has(action string) bool {
	for _, a := range s.Actions() {
		if a == action {
			return true
		}
	}
	return false
}

// SameSet reports whether got and want hold the same strings, ignoring
// order and duplicates.
func SameSet(got, want []string) bool {
	g, w := set(got), set(want)
	if len(g) != len(w) {
		return false
	}
	for k := range w {
		if !g[k] {
			return false
		}
	}
	return true
}

func set(v []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range v {
		out[s] = true
	}
	return out
}

// Sorted returns a sorted copy of v, for messages.
func Sorted(v []string) []string {
	out := append([]string(nil), v...)
	sort.Strings(out)
	return out
}

// Once builds a package's test fixture a single time, for every test that
// asks (the App synthesizes once, so one App serves them all). When the
// build fails, the first test reports why and every later one fails with a
// pointer to it.
type Once[T any] struct {
	once sync.Once
	v    *T
}

// Get returns the fixture, building it with build on first use.
func (o *Once[T]) Get(t testing.TB, build func() T) T {
	t.Helper()
	o.once.Do(func() {
		v := build()
		o.v = &v
	})
	if o.v == nil {
		t.Fatal("building the test stacks failed (see the first test)")
	}
	return *o.v
}
