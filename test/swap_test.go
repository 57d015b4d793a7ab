package test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/estategen"
)

// productions/ belongs to the studio: it clones renderenv, replaces
// productions/ with its own manifests, runs the snapshot test once with
// -update and commits. These tests prove that workflow: only the tests
// below read productions/, and they pass over any valid estate once its
// snapshots are written.

// productionsReaders are the only functions of the project's tests that may
// read productions/ (or the app's and the CLI's embedded copy of it). Every
// other test reads the acme fixture (internal/fixtures) or an estate of its
// own. pkg is set for the tests TestSwapInAnotherEstate runs.
var productionsReaders = []struct{ file, fn, pkg string }{
	{"test/snapshot_test.go", "TestSnapshotsMatchGoldenFiles", "./test/"},
	{"bin/app/main_test.go", "TestWithoutManifestsContextSynthesizesProductions", "./bin/app/"},
	{"bin/renderenv/main_test.go", "TestValidateWithoutFolderReadsProductions", "./bin/renderenv/"},
	// bin/app's synth runs synthProductions with the acme fixture unless
	// its caller names a folder.
	{"bin/app/main_test.go", "synth", ""},
}

// swappedStudio is the studio of the estate swapped in: another name, so
// that every stack and snapshot name differs from acme's.
const swappedStudio = "northlight"

// TestSwapInAnotherEstate copies the repository, replaces productions/ with
// a generated estate of another studio, rewrites the snapshots with -update
// as a studio would, and runs every test that reads productions/ there. It
// costs about 45 seconds of CPU (four test binaries and the app to link,
// three small syntheses): under 50 seconds on two busy cores. So it is left
// out of -short runs, like every test that synthesizes.
func TestSwapInAnotherEstate(t *testing.T) {
	if testing.Short() {
		t.Skip("links three test binaries and synthesizes in a copy of the repository; not with -short")
	}
	root, err := estate.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	repo := filepath.Join(t.TempDir(), "repo")
	for _, name := range repoFiles(t, root) {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The studio's own estate replaces the examples.
	old, _ := filepath.Glob(filepath.Join(repo, "productions", "*.yaml"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	files := estategen.Generate(2, 1)
	files["studio.yaml"] = regexp.MustCompile(`(?m)^studio: .*$`).ReplaceAll(files["studio.yaml"], []byte("studio: "+swappedStudio))
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(repo, "productions", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	gotest := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-count=1"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go test %s in the swapped copy: %v\n%s", strings.Join(args, " "), err, firstLines(string(out), 40))
		}
		t.Logf("%5.1fs  go test %s", time.Since(start).Seconds(), strings.Join(args, " "))
		return string(out), nil
	}
	readers := func(snapshots bool) []string {
		var pkgs, names []string
		for _, r := range productionsReaders {
			if r.pkg != "" && (r.pkg == "./test/") == snapshots {
				pkgs, names = append(pkgs, r.pkg), append(names, r.fn)
			}
		}
		return append([]string{"-v", "-run", "^(" + strings.Join(names, "|") + ")$"}, pkgs...)
	}

	// The readers outside test/ need no snapshots: they run meanwhile.
	type result struct {
		out string
		err error
	}
	others := make(chan result, 1)
	go func() {
		out, err := gotest(readers(false)...)
		others <- result{out, err}
	}()
	t.Cleanup(func() { cancel(); <-others }) // before the copy is removed

	if _, err := gotest("./test/", "-run", "^TestSnapshotsMatchGoldenFiles$", "-update"); err != nil {
		t.Fatal(err)
	}
	snapshots, _ := filepath.Glob(filepath.Join(repo, "test", snapshotDir, "*"+snapshotSuffix))
	if len(snapshots) == 0 {
		t.Fatal("-update wrote no snapshots")
	}
	for _, s := range snapshots {
		if !strings.HasPrefix(filepath.Base(s), swappedStudio+"-") {
			t.Errorf("-update left %s, which is not a stack of %s", filepath.Base(s), swappedStudio)
		}
	}

	// From then on CI compares: every test that reads productions/ passes.
	out, err := gotest(readers(true)...)
	if err != nil {
		t.Fatal(err)
	}
	r := <-others
	others <- r // for the cleanup
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, reader := range productionsReaders {
		if reader.pkg != "" && !strings.Contains(out+r.out, "--- PASS: "+reader.fn+" ") {
			t.Errorf("%s did not run and pass in the swapped copy:\n%s%s", reader.fn, firstLines(out, 20), firstLines(r.out, 20))
		}
	}
	t.Logf("the swap took %s", time.Since(start).Round(time.Second))
}

// repoFiles lists the repository's files as git knows them: tracked, plus
// new files not ignored, that exist in the working tree.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v (these tests need the git checkout)", err)
	}
	var names []string
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if st, err := os.Lstat(filepath.Join(root, name)); err == nil && st.Mode().IsRegular() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestNoTestReadsProductions is the static half of the swap: no test outside
// productionsReaders reads productions/, so replacing it cannot break one.
// It reads every test file for the ways a test reaches the folder: the
// productions package, a path to the folder, manifest.LoadDir(""), the CLI's
// "productions (embedded)" label, and the test helpers that read it.
func TestNoTestReadsProductions(t *testing.T) {
	root, err := estate.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, r := range productionsReaders {
		allowed[r.file+":"+r.fn] = true
	}
	checked := 0
	for _, name := range repoFiles(t, root) {
		if !strings.HasSuffix(name, "_test.go") || name == "test/swap_test.go" {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		found, err := productionsReads(name, src)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, f := range found {
			if !allowed[name+":"+f.fn] {
				t.Errorf("%s: %s reads productions/, which is the studio's: use the acme fixture (internal/fixtures), or add it to productionsReaders so that TestSwapInAnotherEstate runs it", f.pos, f.what)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d test files; the listing is wrong", checked)
	}
}

func TestProductionsReadsAreFound(t *testing.T) {
	src := `package p
import "github.com/renderenv/renderenv/productions"
func a() { filepath.Glob(filepath.Join(root, "productions", "*.yaml")) }
func b() { os.ReadDir("../../productions") }
func c() { manifest.LoadDir("") }
func d() { want := "productions (embedded): studio acme" }
func e() { regexp.MustCompile(` + "`^productions \\(embedded\\)`" + `) }
func f() { synth(t, productionsEstate) }
func g() { synthProductions(t, nil) }
func fine() {
	_ = []string{"controls", "productions"}
	_ = "productions/nightfall.yaml:4: account: is required"
	manifest.LoadDir(fixtures.AcmeDir())
}
var productionsEstate = estateSpec{name: "productions"}
func synthProductions() {}
`
	found, err := productionsReads("x_test.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var fns []string
	for _, f := range found {
		fns = append(fns, f.fn)
	}
	if want := []string{"", "a", "b", "c", "d", "e", "f", "g"}; !slices.Equal(fns, want) {
		t.Errorf("found reads in %q, want %q:\n%v", fns, want, found)
	}
}

// productionsRead is one place where a test file reaches productions/.
type productionsRead struct {
	pos  token.Position
	fn   string // the top-level function, "" outside one
	what string
}

var (
	// A path up to the repository root and into productions/.
	productionsUp = regexp.MustCompile(`^(\.\./)+productions(/.*)?$`)
	// The folder, or a file or pattern in it, as given to a file function.
	productionsPath = regexp.MustCompile(`^productions(/[^\s:]*)?$`)
	// Packages whose functions take file paths.
	pathPackages = []string{"exec", "filepath", "fs", "os", "path"}
	// Test helpers that read productions/.
	productionsHelpers = []string{"productionsEstate", "synthProductions"}
)

// productionsReads parses one test file and returns where it reaches
// productions/, in source order.
func productionsReads(name string, src []byte) ([]productionsRead, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var found []productionsRead
	add := func(n ast.Node, fn, format string, args ...any) {
		found = append(found, productionsRead{fset.Position(n.Pos()), fn, fmt.Sprintf(format, args...)})
	}
	for _, imp := range file.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/renderenv/renderenv/productions" {
			add(imp, "", "importing the productions package")
		}
	}
	for _, decl := range file.Decls {
		fn, declared := "", map[*ast.Ident]bool{}
		switch d := decl.(type) {
		case *ast.FuncDecl:
			fn = d.Name.Name
			declared[d.Name] = true
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok {
					for _, id := range vs.Names {
						declared[id] = true
					}
				}
			}
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.Ident:
				if slices.Contains(productionsHelpers, x.Name) && !declared[x] {
					add(x, fn, "%s", x.Name)
				}
			case *ast.BasicLit:
				if x.Kind != token.STRING {
					break
				}
				v, err := strconv.Unquote(x.Value)
				if err != nil {
					break
				}
				if productionsUp.MatchString(v) {
					add(x, fn, "the path %q", v)
				}
				if strings.Contains(strings.ReplaceAll(v, `\`, ""), "productions (embedded)") {
					add(x, fn, "expecting the CLI's embedded productions/ (%q)", v)
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					break
				}
				pkg, _ := sel.X.(*ast.Ident)
				for _, arg := range x.Args {
					lit, ok := arg.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					switch {
					case sel.Sel.Name == "LoadDir" && v == "":
						add(x, fn, `manifest.LoadDir(""), the embedded productions/`)
					case pkg != nil && slices.Contains(pathPackages, pkg.Name) && productionsPath.MatchString(v):
						add(x, fn, "%s.%s with %q", pkg.Name, sel.Sel.Name, v)
					}
				}
			}
			return true
		})
	}
	slices.SortStableFunc(found, func(a, b productionsRead) int { return a.pos.Offset - b.pos.Offset })
	return found, nil
}
