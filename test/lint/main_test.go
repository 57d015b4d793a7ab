package lint

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cdktest"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

// requireEnv makes a missing linter a failure instead of a skip (CI sets it).
const requireEnv = "RENDERENV_REQUIRE_LINT"

// The cfn-guard package pinned in package.json, under node_modules.
const guardPackage = "node_modules/@cdklabs/cdk-validator-cfnguard"

func TestMain(m *testing.M) {
	code := cdktest.Run(m)
	if shipped != nil {
		os.RemoveAll(shipped.Dir)
	}
	os.Exit(code)
}

// Template is one synthesized stack template.
type Template struct {
	Stack  string
	Region string
	File   string // absolute path of the .template.json
	// Resources by logical id, as internal/cfn reads them.
	Resources map[string]*cfn.Resource
}

// Estate is the synthesized acme estate, shared read-only by every test.
type Estate struct {
	Dir       string
	Templates []*Template // sorted by stack name
	Elapsed   time.Duration
}

// ByFile returns the template written to file.
func (e *Estate) ByFile(file string) *Template {
	for _, t := range e.Templates {
		if t.File == file || filepath.Base(t.File) == filepath.Base(file) {
			return t
		}
	}
	return nil
}

var (
	shippedOnce sync.Once
	shipped     *Estate
	shippedErr  error
)

// shippedEstate synthesizes the acme fixture estate (internal/fixtures) once
// per test binary: guard-exemptions.yaml names its stacks, so the linters
// read the fixture, not the studio's productions/.
func shippedEstate(t *testing.T) *Estate {
	t.Helper()
	shippedOnce.Do(func() {
		start := time.Now()
		shipped, shippedErr = synthesize()
		if shippedErr == nil {
			shipped.Elapsed = time.Since(start)
		}
	})
	if shippedErr != nil {
		t.Fatalf("synthesizing the shipped estate: %v", shippedErr)
	}
	return shipped
}

func synthesize() (_ *Estate, err error) {
	root, err := estate.ProjectRoot()
	if err != nil {
		return nil, err
	}
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		return nil, fmt.Errorf("the acme manifests do not validate:\n%s", errs.Error())
	}
	dir, err := os.MkdirTemp("", "renderenv-lint-")
	if err != nil {
		return nil, err
	}
	defer func() {
		// A failing jsii call panics with the JavaScript error.
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesis panicked: %s", firstLines(fmt.Sprint(r), 12))
		}
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	app, err := estate.NewApp(root, dir)
	if err != nil {
		return nil, err
	}
	// As `cdk synth` does: record each resource's construct path in its
	// Metadata, which the reports print and guard-exemptions.yaml matches.
	app.Node().SetContext(jsii.String("aws:cdk:enable-path-metadata"), true)
	if _, err := estate.Synthesize(app, e, estate.Options{}); err != nil {
		return nil, err
	}
	return readAssembly(dir)
}

// readAssembly reads the stacks of the cloud assembly in dir through
// internal/cfn: the template files and each stack's region.
func readAssembly(dir string) (*Estate, error) {
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return nil, err
	}
	e := &Estate{Dir: dir}
	for _, st := range a.Stacks {
		if st.Region == "" {
			return nil, fmt.Errorf("stack %s has no concrete region", st.Name)
		}
		e.Templates = append(e.Templates, &Template{Stack: st.Name, Region: st.Region,
			File: filepath.Join(dir, st.TemplateFile), Resources: st.Resources})
	}
	return e, nil
}

// readTemplate reads one template file that is not part of an assembly
// (a fixture).
func readTemplate(stack, region, file string) (*Template, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	st, err := cfn.ParseTemplate(stack, data)
	if err != nil {
		return nil, err
	}
	return &Template{Stack: stack, Region: region, File: file, Resources: st.Resources}, nil
}

// CdkPath is a resource's construct path (Metadata aws:cdk:path), "" when
// the template does not record it or has no such resource.
func (t *Template) CdkPath(logicalID string) string {
	if r, ok := t.Resources[logicalID]; ok {
		return r.Path()
	}
	return ""
}

// Describe names a resource for a report: stack/logicalId (cdk path).
func (t *Template) Describe(logicalID string) string {
	if logicalID == "" {
		return t.Stack + " (the template)"
	}
	s := t.Stack + "/" + logicalID
	if p := t.CdkPath(logicalID); p != "" {
		s += " (" + p + ")"
	}
	return s
}

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := estate.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// missingTool skips the test, saying what is missing and how to get it, or
// fails it when RENDERENV_REQUIRE_LINT is set.
func missingTool(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(requireEnv) != "" {
		t.Fatalf("%s (%s is set, so this is a failure)", msg, requireEnv)
	}
	t.Skipf("SKIPPED: %s (set %s=1 to make this a failure)", msg, requireEnv)
}

// cfnLint returns the cfn-lint executable, or skips.
func cfnLint(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("cfn-lint")
	if err != nil {
		missingTool(t, "cfn-lint is not on PATH; install it with `pip install cfn-lint`")
	}
	return p
}

// cfnGuard returns the cfn-guard binary and the Control Tower rules folder
// shipped by the pinned npm package, or skips.
func cfnGuard(t *testing.T, root string) (bin, rules string) {
	t.Helper()
	platform := map[string]string{"linux": "ubuntu", "darwin": "macos"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	pkg := filepath.Join(root, guardPackage)
	if _, err := os.Stat(pkg); err != nil {
		missingTool(t, "%s is not installed; run `make cli` (npm ci)", guardPackage)
	}
	if platform == "" || arch == "" {
		missingTool(t, "%s ships no cfn-guard binary for %s/%s", guardPackage, runtime.GOOS, runtime.GOARCH)
	}
	bin = filepath.Join(pkg, "bin", platform, arch, "cfn-guard")
	rules = filepath.Join(pkg, "rules", "control-tower", "cfn-guard")
	for _, p := range []string{bin, rules} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v (has the package layout changed?)", guardPackage, err)
		}
	}
	return bin, rules
}

// parallelism bounds the linter processes run at once.
func parallelism() int {
	n := runtime.NumCPU()
	if n < 1 {
		n = 1
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
