package test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/estategen"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// Synthesized is one estate after synthesis. Tests must not modify it: it is
// shared by every test of the binary (see draft for a modified copy).
type Synthesized struct {
	Name string
	// Assembly is the cloud assembly as internal/cfn reads it: every stack
	// with its account, region, tags and dependencies from manifest.json.
	Assembly *cfn.Assembly
	// Raw are the template files as written, by stack name, for the tests
	// that compare them as text: the snapshots (normalised and diffed) and
	// selective synthesis (byte for byte).
	Raw       map[string][]byte
	Manifests *manifest.Estate // the input, for what only manifests know
	Elapsed   time.Duration
	// Findings are the unsuppressed cdk-nag findings (with estateSpec.nag):
	// the app refuses to synthesize when there is one.
	Findings []estate.Finding
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

// generated is the one generated estate with an organization that the
// tests of the binary share: every tier and isolation shape across three
// shared accounts (three pools). It is synthesized once per test binary.
var generated = generatedEstate(30, 3)

// checkedEstates are the estates the rule, completeness and reachability
// tests all read.
var checkedEstates = []estateSpec{acmeEstate, generated}

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
			t.Logf("synthesized the %s estate: %d stacks in %s", spec.name, len(e.result.Assembly.Stacks), e.result.Elapsed.Round(time.Millisecond))
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
		syn, err := estate.Synthesize(app, e, estate.Options{Only: spec.only, Checks: spec.nag})
		if err != nil {
			return err
		}
		findings = syn.Findings
		return nil
	})
	if err != nil {
		return nil, err
	}
	a, err := cfn.ReadAssembly(out)
	if err != nil {
		return nil, err
	}
	raw, err := templateFiles(out)
	if err != nil {
		return nil, err
	}
	// Manifests is the whole estate, also when spec.only narrows what is built.
	s := &Synthesized{Name: spec.name, Assembly: a, Raw: map[string][]byte{}, Manifests: e, Findings: findings}
	for _, st := range a.Stacks {
		s.Raw[st.Name] = raw[filepath.Base(st.TemplateFile)]
	}
	return s, nil
}

// templateFiles reads every template file of the cloud assembly in dir and
// of the assemblies nested in it (a pipeline's stages), by file name. The
// bytes are for the tests that compare templates as text; everything else
// reads the cfn model.
func templateFiles(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".template.json") {
			return err
		}
		if _, dup := out[d.Name()]; dup {
			return fmt.Errorf("two template files are named %s", d.Name())
		}
		out[d.Name()], err = os.ReadFile(path)
		return err
	})
	return out, err
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

func (s *Synthesized) studio() string { return s.Manifests.Studio.Studio }

// names are the estate's fixed names (stacks, roles, buckets).
func (s *Synthesized) names() names.Names {
	st := &s.Manifests.Studio
	return names.Names{Studio: st.Studio, Region: st.Region, LogArchive: st.LogArchive()}
}

// IsProduction reports whether stack is a production's own stack.
func (s *Synthesized) IsProduction(stack string) bool {
	for _, p := range s.Manifests.Productions {
		if stack == s.names().ProductionStack(p.Name) {
			return true
		}
	}
	return false
}

// NetworkStack is the management account's hub stack.
func (s *Synthesized) NetworkStack() string { return s.names().NetworkStack() }

// Stacks returns the stack names, sorted.
func (s *Synthesized) Stacks() []string {
	out := make([]string, 0, len(s.Assembly.Stacks))
	for _, st := range s.Assembly.Stacks {
		out = append(out, st.Name)
	}
	return out
}

// Has reports whether the estate has a stack named name.
func (s *Synthesized) Has(name string) bool { return s.Assembly.Stack(name) != nil }

// In returns the resources of one stack of the given types (every resource
// when none is given); none when there is no such stack.
func (s *Synthesized) In(stack string, types ...string) []*cfn.Resource {
	st := s.Assembly.Stack(stack)
	switch {
	case st == nil:
		return nil
	case len(types) == 0:
		return st.All()
	}
	return st.OfType(types...)
}

// draft is a copy of an assembly that a test may break: its resources'
// properties may be changed in place (the model shares them with the
// templates), and resources added to or deleted from a stack's template
// (cfn.Stack.Raw) or their DeletionPolicy changed through body. assemble
// reads the edited templates back into a model for the rules.
type draft struct{ *cfn.Assembly }

// newDraft deep-copies every template of a.
func newDraft(t testing.TB, a *cfn.Assembly) draft {
	t.Helper()
	return draft{reassemble(t, a, cfn.Clone[map[string]any])}
}

// assemble reads the draft's templates, as edited, into a new assembly.
func (d draft) assemble(t testing.TB) *cfn.Assembly {
	t.Helper()
	return reassemble(t, d.Assembly, func(raw map[string]any) map[string]any { return raw })
}

// reassemble parses the templates of a, passed through copy, into a new
// assembly with the accounts, regions, tags and dependencies of a's stacks.
func reassemble(t testing.TB, a *cfn.Assembly, copy func(map[string]any) map[string]any) *cfn.Assembly {
	t.Helper()
	var stacks []*cfn.Stack
	for _, st := range a.Stacks {
		c := cfn.TemplateFromMap(st.Name, copy(st.Raw))
		c.Account, c.Region, c.Tags, c.Dependencies, c.TemplateFile, c.Size = st.Account, st.Region, st.Tags, st.Dependencies, st.TemplateFile, st.Size
		stacks = append(stacks, c)
	}
	out, err := cfn.NewAssembly(stacks...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// body is the resource's entry in its stack's template: Type, Properties,
// DeletionPolicy...
func body(r *cfn.Resource) map[string]any {
	return cfn.AsMap(cfn.AsMap(r.Stack.Raw["Resources"])[r.ID])
}

// add adds a resource to a stack's template.
func (d draft) add(stack, id string, resource map[string]any) {
	cfn.AsMap(d.Stack(stack).Raw["Resources"])[id] = resource
}
