// Command bench is renderenv's scale benchmark: `make bench`, or
//
//	go run ./test/bench [-sizes 1,50,200,500] [-ts-sizes 1,50,200,500] [-o FILE]
//
// It prints a Markdown report, on this machine, of:
//
//   - full synthesis of generated estates (internal/estategen) by the real
//     app: bin/app is built once and run as a process with
//     RENDERENV_MANIFESTS and CDK_OUTDIR, as `cdk synth` runs it (cdk-nag
//     and the suppressions included); wall clock, CPU time and the peak
//     resident memory of the whole process tree (the Go binary and its node
//     jsii child), plus stack, resource and construct counts;
//   - selective synthesis: only=<one production> in the -only-size estate
//     next to an estate that holds just that production (the requirement is
//     at most 1.3 times);
//   - validation of 1,000 manifests (manifest.Load, pure Go);
//   - the native TypeScript reference app (test/tsref) at -ts-sizes, so
//     that the cost of the Go/jsii route is visible;
//   - with -phases, where bin/app's time goes (start, load, build, synth)
//     at the given sizes, with and without cdk-nag and CloudFormation
//     validation; with -jsii also the jsii kernel requests and callbacks
//     per production, and with -pprof a CPU profile of the Go side.
//
// Nothing of this runs in `make test`; `go test ./test/bench` only checks
// the harness, and `go test -bench . ./test/bench` runs the Go benchmarks.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/estategen"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/shard"
)

// Requirement: selective synthesis of one production in a large estate
// takes at most this many times the synthesis of an estate of just it.
const selectiveLimit = 1.3

type config struct {
	repo      string
	sizes     []int
	tsSizes   []int
	onlySize  int
	repeat    int
	accounts  int
	validateN int
	phases    []int
	variants  []phaseVariant
	tsNag     bool
	workers   []int
	jsii      bool
	pprof     string
	appBinary string
	timeout   time.Duration
	keep      bool
	out       string
}

func main() {
	// The child side of -phases.
	if len(os.Args) > 1 && os.Args[1] == "-phase-child" {
		if err := phaseChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	var sizes, tsSizes, phases, variants, workersList string
	flag.StringVar(&sizes, "sizes", "1,50,200,500", "estate sizes (productions) for the full synth of bin/app; empty for none")
	flag.StringVar(&tsSizes, "ts-sizes", "1,50,200,500", "sizes for the TypeScript reference app; empty for none")
	flag.IntVar(&c.onlySize, "only-size", 200, "estate size for the selective synth (only=p0001); 0 for none")
	flag.IntVar(&c.repeat, "repeat", 3, "runs of each side of the selective comparison (the median is reported)")
	flag.IntVar(&c.accounts, "accounts", 5, "shared accounts of the generated estates")
	flag.IntVar(&c.validateN, "validate", 1000, "manifests to validate; 0 for none")
	flag.StringVar(&phases, "phases", "", "sizes at which to time bin/app's phases in-process, e.g. 1,50,200")
	flag.StringVar(&variants, "phase-variants", "full,nonag,novalidate,ts", "what -phases measures: full (as cdk synth), nonag (without cdk-nag), novalidate (CDK_VALIDATION=false), ts (the TypeScript reference app, with cdk-nag, timed by itself)")
	flag.BoolVar(&c.tsNag, "ts-nag", true, "run cdk-nag in the TypeScript reference app, as renderenv does")
	flag.StringVar(&workersList, "workers", "1,2", "worker processes of bin/app's full synthesis (RENDERENV_SYNTH_WORKERS), each measured at every -sizes")
	flag.BoolVar(&c.jsii, "jsii", false, "with -phases, run each row once more with JSII_DEBUG=1 and report the kernel requests and callbacks per production (that run is not timed)")
	flag.StringVar(&c.appBinary, "app", "", "a built bin/app to measure in the full and selective synthesis instead of building this tree's (to compare two commits)")
	flag.StringVar(&c.pprof, "pprof", "", "with -phases, write a CPU profile of the Go side of each (timed) row to this folder: phases-N-VARIANT.pprof")
	flag.DurationVar(&c.timeout, "timeout", 40*time.Minute, "limit for one synth run")
	flag.BoolVar(&c.keep, "keep", false, "keep the generated manifests and cloud assemblies")
	flag.StringVar(&c.out, "o", "", "also write the report to this file")
	flag.Parse()
	var err error
	if c.sizes, err = parseSizes(sizes); err == nil {
		if c.tsSizes, err = parseSizes(tsSizes); err == nil {
			if c.phases, err = parseSizes(phases); err == nil {
				if c.variants, err = parseVariants(variants); err == nil {
					c.workers, err = parseSizes(workersList)
				}
			}
		}
	}
	if err != nil || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./test/bench [flags]; see -h")
		os.Exit(2)
	}
	if c.repo, err = estate.ProjectRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("size %q: want a positive number", f)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}

func parseVariants(s string) ([]phaseVariant, error) {
	var out []phaseVariant
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		found := false
		for _, v := range phaseVariants {
			if v.Key == f {
				out = append(out, v)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("phase variant %q: want full, nonag, novalidate or ts", f)
		}
	}
	return out, nil
}

// Synth is one measured synthesis.
type Synth struct {
	N int
	// Workers is the number of worker processes of a bin/app run.
	Workers int
	Run
	Count
	LoadStart, LoadEnd string
}

type bench struct {
	config
	tmp     string
	app     string // the built bin/app
	estates map[int]string
	log     io.Writer
}

func run(c config) error {
	tmp, err := os.MkdirTemp("", "renderenv-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	b := &bench{config: c, tmp: tmp, estates: map[int]string{}, log: os.Stderr}
	r := &Report{Machine: describeMachine(c.repo), Started: time.Now(), LoadStart: loadAverage(), Accounts: c.accounts}
	b.logf("machine: %s", r.Machine)

	if c.validateN > 0 {
		b.logf("validating %d generated manifests", c.validateN)
		if r.Validation, err = measureValidation(c.validateN, c.accounts, 10); err != nil {
			return err
		}
	}
	needGo := len(c.sizes) > 0 || c.onlySize > 0 || len(c.phases) > 0
	if needGo {
		if err := b.buildApp(); err != nil {
			return err
		}
	}
	tsPhases := len(c.phases) > 0 && slices.ContainsFunc(c.variants, func(v phaseVariant) bool { return v.TS })
	if len(c.tsSizes) > 0 || tsPhases {
		if err := b.buildTSRef(); err != nil {
			return err
		}
	}
	// Go and TypeScript alternate size by size, so that both see the same
	// machine (other load on a shared machine drifts).
	all := map[int]bool{}
	for _, n := range c.sizes {
		all[n] = true
	}
	for _, n := range c.tsSizes {
		all[n] = true
	}
	for _, n := range sortedInts(all) {
		if contains(c.sizes, n) {
			for _, w := range c.workers {
				s, err := b.synthGo(n, "", w)
				if err != nil {
					return err
				}
				r.Go = append(r.Go, s)
			}
		}
		if contains(c.tsSizes, n) {
			s, err := b.synthTS(n)
			if err != nil {
				return err
			}
			r.TS = append(r.TS, s)
		}
	}
	if c.onlySize > 0 {
		sel := &Selective{Size: c.onlySize, Production: estategen.Name(0), Limit: selectiveLimit}
		for i := 0; i < c.repeat; i++ {
			s, err := b.synthGo(c.onlySize, sel.Production, 1)
			if err != nil {
				return err
			}
			sel.Only = append(sel.Only, s)
			s, err = b.synthGo(1, "", 1)
			if err != nil {
				return err
			}
			sel.Alone = append(sel.Alone, s)
		}
		r.Selective = sel
	}
	for _, n := range c.phases {
		for _, v := range c.variants {
			p, err := b.phases(n, v)
			if err != nil {
				return err
			}
			r.Phases = append(r.Phases, p)
		}
	}
	r.LoadEnd = loadAverage()
	r.Took = time.Since(r.Started)
	text := r.Markdown()
	fmt.Print(text)
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(text), 0o644); err != nil {
			return err
		}
	}
	if shape := r.ShapeErrors(); len(shape) > 0 {
		return fmt.Errorf("test/tsref no longer builds the same shape of estate as renderenv:\n  %s", strings.Join(shape, "\n  "))
	}
	return nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bench) buildApp() error {
	if b.appBinary != "" {
		var err error
		b.app, err = filepath.Abs(b.appBinary)
		b.logf("measuring %s", b.app)
		return err
	}
	b.app = filepath.Join(b.tmp, "app")
	b.logf("go build ./bin/app")
	cmd := command(b.repo, nil, "go", "build", "-o", b.app, "./bin/app")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// estate writes the generated estate of n productions once.
func (b *bench) estate(n int) (string, error) {
	if dir, ok := b.estates[n]; ok {
		return dir, nil
	}
	dir := filepath.Join(b.tmp, fmt.Sprintf("manifests-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, data := range estategen.Generate(n, b.accounts) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	b.estates[n] = dir
	return dir, nil
}

// outdir returns a fresh, empty cloud assembly folder.
func (b *bench) outdir(label string) (string, error) {
	dir, err := os.MkdirTemp(b.tmp, label+"-")
	return dir, err
}

// finish counts what a run wrote and, unless -keep, removes it.
func (b *bench) finish(out string) (Count, error) {
	c, err := countAssembly(out)
	if !b.keep {
		os.RemoveAll(out)
	}
	return c, err
}

// synthGo runs the built bin/app on the estate of n productions in that
// many worker processes, with only set when not empty.
func (b *bench) synthGo(n int, only string, workers int) (Synth, error) {
	dir, err := b.estate(n)
	if err != nil {
		return Synth{}, err
	}
	out, err := b.outdir(fmt.Sprintf("go-%d", n))
	if err != nil {
		return Synth{}, err
	}
	env := []string{
		manifest.EnvManifests + "=" + dir,
		"CDK_OUTDIR=" + out,
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20",
		fmt.Sprintf("%s=%d", shard.EnvWorkers, workers),
	}
	what := fmt.Sprintf("go synth n=%d workers=%d", n, workers)
	if only != "" {
		// What `cdk synth -c only=...` hands the app.
		ctx, _ := json.Marshal(map[string]string{"only": only})
		env = append(env, "CDK_CONTEXT_JSON="+string(ctx))
		what += " only=" + only
	}
	s, err := b.synth(what, n, out, command(b.repo, env, b.app))
	s.Workers = workers
	return s, err
}

func (b *bench) synth(what string, n int, out string, cmd *exec.Cmd) (Synth, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	s := Synth{N: n, LoadStart: loadAverage()}
	b.logf("%s (load %s)", what, s.LoadStart)
	var err error
	s.Run, err = measure(ctx, cmd)
	s.LoadEnd = loadAverage()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return s, fmt.Errorf("%s exceeded -timeout %s", what, b.timeout)
		}
		return s, fmt.Errorf("%s: %w", what, err)
	}
	if s.Count, err = b.finish(out); err != nil {
		return s, err
	}
	b.logf("%s: %s wall, %s CPU, %s peak RSS, %d stacks, %d resources", what,
		secs(s.Wall), secs(s.CPU), mib(s.PeakTreeRSS), s.Stacks, s.Resources)
	return s, nil
}

// buildTSRef installs the reference app's pinned packages when they are
// missing or older than its lock file, and compiles it.
func (b *bench) buildTSRef() error {
	dir := filepath.Join(b.repo, "test", "tsref")
	lock := filepath.Join(dir, "node_modules", ".package-lock.json")
	if newer(filepath.Join(dir, "package-lock.json"), lock) {
		b.logf("npm ci in test/tsref")
		cmd := command(dir, nil, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("npm ci in test/tsref: %w", err)
		}
	}
	// Keep ./... of the Go module out of node_modules, as the Makefile
	// does for the CLI's.
	if err := os.WriteFile(filepath.Join(dir, "node_modules", "go.mod"), []byte("module tsrefnodemodules\n"), 0o644); err != nil {
		return err
	}
	if newer(filepath.Join(dir, "src", "app.ts"), filepath.Join(dir, "dist", "app.js")) ||
		newer(filepath.Join(dir, "tsconfig.json"), filepath.Join(dir, "dist", "app.js")) {
		b.logf("tsc -p test/tsref")
		cmd := command(dir, nil, filepath.Join("node_modules", ".bin", "tsc"), "-p", ".")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("compiling test/tsref: %w", err)
		}
	}
	return nil
}

// newer reports whether a is newer than b or b is missing.
func newer(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return true
	}
	sb, err := os.Stat(b)
	return err != nil || sa.ModTime().After(sb.ModTime())
}

func (b *bench) synthTS(n int) (Synth, error) {
	out, err := b.outdir(fmt.Sprintf("ts-%d", n))
	if err != nil {
		return Synth{}, err
	}
	env := []string{
		"TSREF_PRODUCTIONS=" + strconv.Itoa(n),
		"CDK_OUTDIR=" + out,
		"TSREF_CDK_JSON=" + filepath.Join(b.repo, "cdk.json"),
	}
	if !b.tsNag {
		env = append(env, "TSREF_NAG=0")
	}
	script := filepath.Join(b.repo, "test", "tsref", "dist", "app.js")
	return b.synth(fmt.Sprintf("ts synth n=%d", n), n, out, command(b.repo, env, "node", script))
}

// A phase variant turns off one part of synthesis to show its cost.
type phaseVariant struct {
	Key    string // for -phase-variants
	Name   string
	Checks bool     // cdk-nag and suppressions
	Env    []string // e.g. CDK_VALIDATION=false
	TS     bool     // the TypeScript reference app instead of bin/app
}

var phaseVariants = []phaseVariant{
	{Key: "full", Name: "as cdk synth", Checks: true},
	{Key: "nonag", Name: "without cdk-nag", Checks: false},
	// CDK_VALIDATION=false turns off the CloudFormation validation that
	// aws-cdk-lib (since 2.262) runs over every template at synthesis.
	{Key: "novalidate", Name: "without CloudFormation validation", Checks: true, Env: []string{"CDK_VALIDATION=false"}},
	// The reference app times its own start, build and synth: what the
	// same steps cost without jsii, for an estate of the same shape.
	{Key: "ts", Name: "TypeScript reference", Checks: true, TS: true},
}

// PhaseRun is one -phases measurement.
type PhaseRun struct {
	N       int
	Variant string
	Phases
	// Kernel is the traffic of a second, untimed run with JSII_DEBUG=1
	// (with -jsii), or nil.
	Kernel *KernelTraffic
	// TS marks the TypeScript reference app's row: start, build and synth
	// only.
	TS bool
}

func (b *bench) phases(n int, v phaseVariant) (PhaseRun, error) {
	p := PhaseRun{N: n, Variant: v.Name, TS: v.TS}
	b.logf("phases n=%d %s (load %s)", n, v.Name, loadAverage())
	if v.TS {
		return p, b.tsPhases(n, &p.Phases)
	}
	var stdout strings.Builder
	var args []string
	if b.pprof != "" {
		args = []string{"-cpuprofile", filepath.Join(b.pprof, fmt.Sprintf("phases-%d-%s.pprof", n, v.Key))}
	}
	if err := b.phaseChild(n, v, nil, &stdout, nil, args...); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(stdout.String()), &p.Phases); err != nil {
		return p, fmt.Errorf("phases n=%d: %w: %q", n, err, stdout.String())
	}
	b.logf("phases n=%d %s: start %s, load %s, build %s, synth %s, errors %s", n, v.Name,
		secs(p.Start), secs(p.Load), secs(p.Build), secs(p.Synth), secs(p.Errors))
	if !b.jsii {
		return p, nil
	}
	b.logf("phases n=%d %s with JSII_DEBUG=1, counting kernel traffic", n, v.Name)
	var k kernelCounter
	if err := b.phaseChild(n, v, []string{"JSII_DEBUG=1"}, io.Discard, &k); err != nil {
		return p, fmt.Errorf("%w\n%s", err, tail(string(k.tail), 40))
	}
	p.Kernel = &k.KernelTraffic
	b.logf("phases n=%d %s: %d kernel requests, %d callbacks", n, v.Name, k.Requests, k.Callbacks)
	return p, nil
}

// tsPhases runs the TypeScript reference app on n productions and reads
// the steps it timed.
func (b *bench) tsPhases(n int, into *Phases) error {
	out, err := b.outdir(fmt.Sprintf("ts-phases-%d", n))
	if err != nil {
		return err
	}
	defer func() {
		if !b.keep {
			os.RemoveAll(out)
		}
	}()
	file := filepath.Join(out, "phases.json")
	env := []string{"TSREF_PRODUCTIONS=" + strconv.Itoa(n), "CDK_OUTDIR=" + out,
		"TSREF_CDK_JSON=" + filepath.Join(b.repo, "cdk.json"), "TSREF_PHASES=" + file}
	cmd := command(b.repo, env, "node", filepath.Join(b.repo, "test", "tsref", "dist", "app.js"))
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if _, err := measure(ctx, cmd); err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	b.logf("phases n=%d TypeScript: start %s, build %s, synth %s", n, secs(into.Start), secs(into.Build), secs(into.Synth))
	return nil
}

// phaseChild runs this program as -phase-child on the estate of n
// productions, with the variant's environment and env.
func (b *bench) phaseChild(n int, v phaseVariant, env []string, stdout, stderr io.Writer, args ...string) error {
	dir, err := b.estate(n)
	if err != nil {
		return err
	}
	out, err := b.outdir(fmt.Sprintf("phases-%d", n))
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env = append(append([]string{"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20"}, v.Env...), env...)
	cmd := command(b.repo, env, self, "-phase-child", "-repo", b.repo, "-manifests", dir, "-outdir", out,
		"-checks="+strconv.FormatBool(v.Checks))
	cmd.Args = append(cmd.Args, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	_, err = measure(ctx, cmd)
	if !b.keep {
		os.RemoveAll(out)
	}
	return err
}

func phaseChild(args []string) error {
	fs := flag.NewFlagSet("phase-child", flag.ContinueOnError)
	repo := fs.String("repo", ".", "")
	dir := fs.String("manifests", "", "")
	out := fs.String("outdir", "", "")
	only := fs.String("only", "", "")
	checks := fs.Bool("checks", true, "")
	profile := fs.String("cpuprofile", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return runPhases(*repo, *dir, *out, estate.ParseOnly(*only), *checks)
}

// Validation is the timing of manifest.Load over a generated estate.
type Validation struct {
	Manifests   int // files: studio.yaml and one per production
	Productions int
	Accounts    int // shared accounts
	Bytes       int // total size of the manifests
	Runs        int
	Min, Median time.Duration
}

// generatedFS returns the generated estate of n productions as an fs.FS.
func generatedFS(n, accounts int) (fstest.MapFS, int) {
	fsys := fstest.MapFS{}
	size := 0
	for name, data := range estategen.Generate(n, accounts) {
		fsys[name] = &fstest.MapFile{Data: data, Mode: 0o644}
		size += len(data)
	}
	return fsys, size
}

// measureValidation loads (decodes and validates) the generated estate of
// n productions runs times and reports the fastest and the median.
func measureValidation(n, accounts, runs int) (Validation, error) {
	fsys, size := generatedFS(n, accounts)
	v := Validation{Manifests: len(fsys), Productions: n, Accounts: accounts, Bytes: size, Runs: runs}
	times := make([]time.Duration, 0, runs)
	for i := 0; i < runs; i++ {
		t := time.Now()
		e, errs := manifest.Load(fsys, "generated")
		d := time.Since(t)
		if len(errs) > 0 {
			return v, fmt.Errorf("the generated estate of %d productions is invalid: %v", n, errs[0])
		}
		if len(e.Productions) != n {
			return v, fmt.Errorf("loaded %d productions, want %d", len(e.Productions), n)
		}
		times = append(times, d)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	v.Min, v.Median = times[0], times[len(times)/2]
	return v, nil
}

func sortedInts(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

func contains(s []int, n int) bool {
	for _, v := range s {
		if v == n {
			return true
		}
	}
	return false
}
