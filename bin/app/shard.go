package main

import (
	"fmt"
	"os"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/shard"
)

// workersFor is how many processes synthesize the estate: the context key
// workers, else RENDERENV_SYNTH_WORKERS, else one per CPU for a large
// estate (internal/shard). A selective synthesis (only), a pipeline, which
// must hold every production in one app, and a run without CDK_OUTDIR (the
// CLI always sets it) take one.
func workersFor(cdkContext map[string]any, e *manifest.Estate, only []string) (int, error) {
	setting := os.Getenv(shard.EnvWorkers)
	if v, ok := cdkContext["workers"]; ok && v != nil {
		setting = fmt.Sprint(v)
	}
	n, err := shard.Workers(setting, len(e.Resolved()), shard.CPUs())
	if err != nil {
		return 0, fmt.Errorf("context workers (or %s): %w", shard.EnvWorkers, err)
	}
	if len(only) > 0 || e.Studio.Pipeline.Enabled || os.Getenv(shard.EnvOutdir) == "" {
		return 1, nil
	}
	return n, nil
}

// synthesize builds and synthesizes the estate in this process, and
// returns the assembly's folder, or "" after printing cdk-nag's findings.
func synthesize(e *manifest.Estate, only []string) (string, error) {
	app, err := estate.NewApp(".", "")
	if err != nil {
		return "", fmt.Errorf("renderenv: %w", err)
	}
	syn, err := estate.Synthesize(app, e, estate.Options{Only: only, Checks: true})
	if err != nil {
		return "", err
	}
	if !reportFindings(syn.Findings) {
		return "", nil
	}
	return syn.Dir, nil
}

// synthesizeSharded has the workers synthesize the estate, the first one
// the shared stacks too, into the CLI's assembly folder, and merges the
// others' assemblies into it. This process starts no jsii runtime.
func synthesizeSharded(e *manifest.Estate, workers int) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("renderenv: starting the synthesis workers: %w", err)
	}
	outdir := os.Getenv(shard.EnvOutdir)
	resolved := e.Resolved()
	ws, err := shard.Start(exe, outdir, shard.Plan(resolved, workers))
	if err != nil {
		return "", err
	}
	defer shard.Discard(ws)
	logs, err := shard.Wait(ws)
	fmt.Fprint(os.Stderr, logs)
	if err != nil {
		return "", fmt.Errorf("renderenv: %w", err)
	}
	order := make([]string, len(resolved))
	for i, r := range resolved {
		order[i] = r.Name
	}
	return outdir, shard.Merge(outdir, shard.Dirs(ws[1:]), order)
}

// worker synthesizes the productions named by the parent (with their
// pools and links; the first worker the shared stacks too) into its
// assembly folder, and says which stacks each production's build created.
func worker(e *manifest.Estate, names []string) int {
	app, err := estate.NewApp(".", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "renderenv:", err)
		return 1
	}
	part := estate.ProductionsOnly
	if os.Getenv(shard.EnvShared) != "" {
		part = estate.Whole
	}
	syn, err := estate.Synthesize(app, e, estate.Options{Only: names, Checks: true, Part: part})
	if err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		return 1
	}
	if !reportFindings(syn.Findings) {
		return 1
	}
	var p shard.Part
	for _, n := range names {
		b := shard.Built{Name: n}
		for _, st := range syn.Estate.Made[n] {
			b.Stacks = append(b.Stacks, *st.ArtifactId())
		}
		p.Productions = append(p.Productions, b)
	}
	if err := shard.WritePart(syn.Dir, p); err != nil {
		fmt.Fprintln(os.Stderr, "renderenv:", err)
		return 1
	}
	return 0
}

// reportFindings prints cdk-nag's unsuppressed findings and says whether
// there were none.
func reportFindings(findings []estate.Finding) bool {
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, f.String())
	}
	if len(findings) > 0 {
		fmt.Fprintf(os.Stderr, "renderenv: %d unsuppressed cdk-nag finding(s); fix them or add a reviewed suppression in internal/estate/suppressions.go\n", len(findings))
	}
	return len(findings) == 0
}
