package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/renderenv/renderenv/internal/access"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/jsiienv"
	"github.com/renderenv/renderenv/internal/manifest"
)

// app is the CDK app binary, built once by TestMain, and root the
// repository root it runs in (it reads ./cdk.json, as under `cdk synth`).
var app, root string

func TestMain(m *testing.M) {
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "renderenv-app-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if root, err = estate.ProjectRoot(); err != nil {
		return 0, err
	}
	app = filepath.Join(dir, "app")
	build := exec.Command("go", "build", "-o", app, "./bin/app")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building the app: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// result is one run of the app.
type result struct {
	code           int
	stdout, stderr string
	outdir         string
}

// synth runs the app over the acme fixture, or over the folder that the
// manifests context or env (RENDERENV_MANIFESTS=...) names: productions/ is
// the studio's, so no test reads it by accident.
func synth(t *testing.T, context map[string]string, env ...string) result {
	t.Helper()
	named := slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, manifest.EnvManifests+"=") })
	if _, ok := context["manifests"]; !ok && !named {
		context = maps.Clone(context)
		if context == nil {
			context = map[string]string{}
		}
		context["manifests"] = fixtures.AcmeDir()
	}
	return synthProductions(t, context, env...)
}

// synthProductions runs the app as `cdk synth` does: CDK_OUTDIR names the
// cloud assembly folder and CDK_CONTEXT_JSON carries the -c context. env adds
// variables (RENDERENV_MANIFESTS=...). Without either it reads productions/.
func synthProductions(t *testing.T, context map[string]string, env ...string) result {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := contextWithTimeout(t, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, app)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "CDK_OUTDIR", "CDK_CONTEXT_JSON", "RENDERENV_MANIFESTS", "JSII_NODE", "JSII_RUNTIME", jsiienv.KernelEnv:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "CDK_OUTDIR="+out, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	if context != nil {
		data, err := json.Marshal(context)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "CDK_CONTEXT_JSON="+string(data))
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), outdir: out}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running the app: %v\n%s", err, r.stderr)
	}
	if ctx.Err() != nil {
		t.Fatalf("the app did not finish in time:\n%s", r.stderr)
	}
	return r
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) < d {
		return context.WithDeadline(context.Background(), deadline.Add(-5*time.Second))
	}
	return context.WithTimeout(context.Background(), d)
}

// written lists the files of the app's output folder whose names end in
// suffix, at any depth, relative to it.
func (r result) written(t *testing.T, suffix string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(r.outdir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, suffix) {
			rel, _ := filepath.Rel(r.outdir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// noCrash checks that a run printed no Go panic or stack trace.
func (r result) noCrash(t *testing.T) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", "internal error"} {
		if strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) {
			t.Errorf("the app printed %q:\n%s%s", s, r.stdout, r.stderr)
		}
	}
}

// manifests copies the acme fixture to a new folder and applies
// breaks: file name to {old, new} text replacements. It returns the folder
// and, for each broken file, the line of the first replacement.
func manifests(t *testing.T, breaks map[string][2]string) (string, map[string]int) {
	t.Helper()
	dir := t.TempDir()
	paths, err := filepath.Glob(filepath.Join(fixtures.AcmeDir(), "*.yaml"))
	if err != nil || len(paths) < 2 {
		t.Fatalf("the acme manifests: %v %v", paths, err)
	}
	lines := map[string]int{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if b, ok := breaks[name]; ok {
			i := bytes.Index(data, []byte(b[0]))
			if i < 0 {
				t.Fatalf("%s has no %q to break", name, b[0])
			}
			lines[name] = bytes.Count(data[:i], []byte("\n")) + 1
			data = bytes.Replace(data, []byte(b[0]), []byte(b[1]), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name := range breaks {
		if _, ok := lines[name]; !ok {
			t.Fatalf("no acme manifest %s", name)
		}
	}
	return dir, lines
}

// errorLine matches one `file:line: field: message` line for field of file.
func errorLine(file string, line int, field string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(fmt.Sprintf("%s:%d: %s: ", file, line, field)) + `\S.*$`)
}

var (
	badVolume   = map[string][2]string{"nightfall.yaml": {"rootVolumeGiB: 100", "rootVolumeGiB: 5"}}
	badPurchase = map[string][2]string{"harbour.yaml": {"purchase: spot", "purchase: always"}}
)

// TestInvalidManifestsExitOneWithTheirErrorsAndWriteNothing: `cdk synth`
// over an invalid folder prints each problem as file:line: field: message,
// exits 1 without a stack trace, and writes no template.
func TestInvalidManifestsExitOneWithTheirErrorsAndWriteNothing(t *testing.T) {
	dir, lines := manifests(t, badVolume)
	start := time.Now()
	r := synth(t, nil, "RENDERENV_MANIFESTS="+dir)
	t.Logf("the invalid run took %s", time.Since(start).Round(time.Millisecond))
	if r.code != 1 {
		t.Errorf("exit code %d, want 1\n%s", r.code, r.stderr)
	}
	file := filepath.Join(dir, "nightfall.yaml")
	if re := errorLine(file, lines["nightfall.yaml"], "render.rootVolumeGiB"); !re.MatchString(r.stderr) {
		t.Errorf("stderr does not name %s:%d: render.rootVolumeGiB:\n%s", file, lines["nightfall.yaml"], r.stderr)
	}
	// Every line is a problem or the closing summary.
	for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
		if !strings.HasPrefix(l, dir+string(filepath.Separator)) && !strings.HasPrefix(l, "renderenv: ") {
			t.Errorf("stderr line %q is neither a manifest problem nor the summary", l)
		}
	}
	if !strings.Contains(r.stderr, "nothing was synthesized") {
		t.Errorf("stderr does not say that nothing was synthesized:\n%s", r.stderr)
	}
	r.noCrash(t)
	if got := r.written(t, ".template.json"); len(got) != 0 {
		t.Errorf("the invalid run wrote templates %v", got)
	}
	if got := r.written(t, ".evidence.md"); len(got) != 0 {
		t.Errorf("the invalid run wrote evidence %v", got)
	}
}

// TestManifestsContextWinsOverTheEnvironment: with both -c manifests=DIR
// and RENDERENV_MANIFESTS set, the app reads the context's folder. Each
// folder is broken differently, so the errors tell which one was read.
func TestManifestsContextWinsOverTheEnvironment(t *testing.T) {
	fromContext, ctxLines := manifests(t, badVolume)
	fromEnv, envLines := manifests(t, badPurchase)
	// The environment's folder alone fails with its own problem.
	alone := synth(t, nil, "RENDERENV_MANIFESTS="+fromEnv)
	envFile := filepath.Join(fromEnv, "harbour.yaml")
	if re := errorLine(envFile, envLines["harbour.yaml"], "render.purchase"); alone.code != 1 || !re.MatchString(alone.stderr) {
		t.Fatalf("RENDERENV_MANIFESTS alone: exit %d, want 1 naming %s: render.purchase:\n%s", alone.code, envFile, alone.stderr)
	}
	r := synth(t, map[string]string{"manifests": fromContext}, "RENDERENV_MANIFESTS="+fromEnv)
	if r.code != 1 {
		t.Errorf("exit code %d, want 1\n%s", r.code, r.stderr)
	}
	file := filepath.Join(fromContext, "nightfall.yaml")
	if re := errorLine(file, ctxLines["nightfall.yaml"], "render.rootVolumeGiB"); !re.MatchString(r.stderr) {
		t.Errorf("stderr does not name the context folder's problem %s: render.rootVolumeGiB:\n%s", file, r.stderr)
	}
	if strings.Contains(r.stderr, fromEnv) || strings.Contains(r.stderr, "render.purchase") {
		t.Errorf("the app read RENDERENV_MANIFESTS %s although the manifests context is set:\n%s", fromEnv, r.stderr)
	}
	r.noCrash(t)
	if got := r.written(t, ".template.json"); len(got) != 0 {
		t.Errorf("the invalid run wrote templates %v", got)
	}
}

// TestOnlyContextSynthesizesTheSharedStacksAndTheNamedProduction: -c
// only=nightfall writes the logging and network stacks, nightfall's stack,
// link, DR and exchange stacks, and nightfall's evidence pack; no other
// production's.
func TestOnlyContextSynthesizesTheSharedStacksAndTheNamedProduction(t *testing.T) {
	r := synth(t, map[string]string{"only": "nightfall"})
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", r.code, r.stderr)
	}
	r.noCrash(t)
	want := []string{"acme-logging.template.json", "acme-network.template.json", "acme-nightfall-dr.template.json", "acme-nightfall-exchange.template.json", "acme-nightfall-link.template.json", "acme-nightfall.template.json"}
	got := r.written(t, ".template.json")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("templates %v, want exactly %v", got, want)
	}
	a, err := cfn.ReadAssembly(r.outdir)
	if err != nil {
		t.Fatalf("reading the assembly: %v", err)
	}
	for _, name := range want {
		stack := a.Stack(strings.TrimSuffix(name, ".template.json"))
		if stack == nil || len(stack.Resources) == 0 {
			t.Errorf("%s: not a template with resources in the assembly", name)
		}
	}
	evidence := append(r.written(t, ".evidence.md"), r.written(t, ".evidence.json")...)
	sort.Strings(evidence)
	if want := []string{"acme-nightfall.evidence.json", "acme-nightfall.evidence.md"}; strings.Join(evidence, ",") != strings.Join(want, ",") {
		t.Errorf("evidence %v, want exactly %v", evidence, want)
	}
	if data, err := os.ReadFile(filepath.Join(r.outdir, "acme-nightfall.evidence.json")); err != nil || !json.Valid(data) {
		t.Errorf("acme-nightfall.evidence.json is not JSON (%v)", err)
	}
	if data, err := os.ReadFile(filepath.Join(r.outdir, "acme-nightfall.evidence.md")); err != nil || !bytes.Contains(data, []byte("nightfall")) {
		t.Errorf("acme-nightfall.evidence.md does not describe nightfall (%v)", err)
	}
}

// TestWithoutManifestsContextSynthesizesProductions: with neither the
// manifests context nor RENDERENV_MANIFESTS, the app synthesizes the
// embedded productions/, whatever estate the studio keeps there (the swap
// test runs this over another estate). One production keeps it short.
func TestWithoutManifestsContextSynthesizesProductions(t *testing.T) {
	e, errs := manifest.LoadDir("")
	if len(errs) > 0 {
		t.Fatalf("productions/ does not validate:\n%s", errs.Error())
	}
	studio, first := e.Studio.Studio, e.Productions[0].Name
	r := synthProductions(t, map[string]string{"only": first})
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", r.code, r.stderr)
	}
	r.noCrash(t)
	got := r.written(t, ".template.json")
	for _, stack := range []string{"logging", "network", first} {
		if name := studio + "-" + stack + ".template.json"; !slices.Contains(got, name) {
			t.Errorf("templates %v lack %s", got, name)
		}
	}
	for _, name := range got {
		if !strings.HasPrefix(name, studio+"-") {
			t.Errorf("template %s is not one of studio %s", name, studio)
		}
	}
	if want := []string{studio + "-" + first + ".evidence.md"}; !slices.Equal(r.written(t, ".evidence.md"), want) {
		t.Errorf("evidence %v, want exactly %v", r.written(t, ".evidence.md"), want)
	}
}

// TestEvaluatorMatrixIsCitedByTheEvidence: with RENDERENV_ACCESS_EVALUATOR,
// the app computes the access matrix before the evidence packs, and the
// pack's access claims cite it instead of being limited for want of it.
func TestEvaluatorMatrixIsCitedByTheEvidence(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("the IAM evaluator needs Node.js")
	}
	dir := filepath.Join(root, "test", "access", "evaluator")
	if err := access.Install(dir); err != nil {
		t.Fatal(err)
	}
	r := synth(t, map[string]string{"only": "nightfall"}, access.EnvEvaluator+"="+dir)
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", r.code, r.stderr)
	}
	r.noCrash(t)
	if got := r.written(t, ".access.md"); !slices.Equal(got, []string{"acme-nightfall.access.md"}) {
		t.Errorf("access matrices %v, want acme-nightfall.access.md", got)
	}
	data, err := os.ReadFile(filepath.Join(r.outdir, "acme-nightfall.evidence.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pack evidence.Pack
	if err := json.Unmarshal(data, &pack); err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, c := range pack.Controls {
		for _, ch := range c.Checks {
			if !strings.HasPrefix(ch.Check, "the access matrix ") {
				continue
			}
			cited++
			if ch.Outcome == evidence.Limited || ch.Matrix != "acme-nightfall.access.md" || len(ch.Requests) == 0 {
				t.Errorf("%s %q = %s, citing %q %d requests: %s", c.ID, ch.Check, ch.Outcome, ch.Matrix, len(ch.Requests), ch.Detail)
			}
		}
	}
	if cited != 6 {
		t.Errorf("%d access checks in the pack, want 6 (1.3, 5.1, 7.1, 9.2, 9.3, 10.1)", cited)
	}
}

// A workers setting that is not a number from 1 to 64 is refused before
// anything is built, naming the setting.
func TestBadWorkersSettingExitsOneAndWritesNothing(t *testing.T) {
	for _, run := range []func() result{
		func() result { return synth(t, map[string]string{"workers": "two"}) },
		func() result { return synth(t, nil, "RENDERENV_SYNTH_WORKERS=0") },
	} {
		r := run()
		if r.code != 1 {
			t.Errorf("exit code %d, want 1\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "context workers (or RENDERENV_SYNTH_WORKERS)") || !strings.Contains(r.stderr, "want a whole number from 1 to 64") ||
			!strings.Contains(r.stderr, "nothing was synthesized") {
			t.Errorf("stderr does not name the workers setting and its range:\n%s", r.stderr)
		}
		r.noCrash(t)
		if got := r.written(t, ".template.json"); len(got) != 0 {
			t.Errorf("the refused run wrote templates %v", got)
		}
	}
}

func TestBadKernelSettingExitsOneAndWritesNothing(t *testing.T) {
	r := synth(t, nil, jsiienv.KernelEnv+"=fast")
	if r.code != 1 {
		t.Errorf("exit code %d, want 1\n%s", r.code, r.stderr)
	}
	want := `RENDERENV_JSII_KERNEL="fast": want "direct" (the default) or "relay"`
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "nothing was synthesized") {
		t.Errorf("stderr does not name the setting and its choices (%s):\n%s", want, r.stderr)
	}
	r.noCrash(t)
	if got := r.written(t, ".json"); len(got) != 0 {
		t.Errorf("the refused run wrote %v", got)
	}
}

// TestKernelWithoutRelayWritesTheRelaysAssembly: the acme estate through
// the jsii kernel without its relay (the default, internal/jsiienv) and
// through the runtime's own two processes gives the same cloud assembly,
// byte for byte; the default run installed its launcher in the user's
// cache folder.
func TestKernelWithoutRelayWritesTheRelaysAssembly(t *testing.T) {
	cache := t.TempDir()
	direct := synth(t, nil, "XDG_CACHE_HOME="+cache)
	relay := synth(t, nil, jsiienv.KernelEnv+"="+jsiienv.KernelRelay)
	for _, r := range []result{direct, relay} {
		if r.code != 0 {
			t.Fatalf("exit code %d\n%s", r.code, r.stderr)
		}
	}
	launchers, err := filepath.Glob(filepath.Join(cache, "renderenv", "jsii-kernel-*", "node"))
	if err != nil || len(launchers) != 1 {
		t.Errorf("the default run installed launchers %v (%v), want one", launchers, err)
	}
	a, b := direct.written(t, ""), relay.written(t, "")
	if !slices.Equal(a, b) || len(a) == 0 {
		t.Fatalf("the assemblies hold different files:\nwithout the relay: %v\nwith it: %v", a, b)
	}
	for _, name := range a {
		x, err := os.ReadFile(filepath.Join(direct.outdir, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(relay.outdir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the kernel without the relay and with it", name)
		}
	}
}
