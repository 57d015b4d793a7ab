package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/shard"
)

// workersFor is how many processes synthesize the estate: the context key
// workers, else RENDERENV_SYNTH_WORKERS, else one per CPU for a large
// estate (internal/shard). A selective synthesis (only) and a pipeline,
// which must hold every production in one app, take one.
func workersFor(app awscdk.App, e *manifest.Estate, only []string) (int, error) {
	setting := os.Getenv(shard.EnvWorkers)
	if v := app.Node().TryGetContext(jsii.String("workers")); v != nil {
		setting = fmt.Sprint(v)
	}
	n, err := shard.Workers(setting, len(e.Resolved()), shard.CPUs())
	if err != nil {
		return 0, fmt.Errorf("context workers (or %s): %w", shard.EnvWorkers, err)
	}
	if len(only) > 0 || e.Studio.Pipeline.Enabled {
		return 1, nil
	}
	return n, nil
}

// synthesizeSharded builds the shared stacks here while the workers build
// the productions, then merges their assemblies into this one.
func synthesizeSharded(app awscdk.App, e *manifest.Estate, workers int) (*estate.Synthesis, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("renderenv: starting the synthesis workers: %w", err)
	}
	resolved := e.Resolved()
	ws, err := shard.Start(exe, *app.Outdir(), shard.Plan(resolved, workers))
	if err != nil {
		return nil, err
	}
	defer shard.Discard(ws)
	syn, err := estate.Synthesize(app, e, estate.Options{Checks: true, Part: estate.SharedOnly})
	if err != nil {
		return nil, err
	}
	logs, err := shard.Wait(ws)
	fmt.Fprint(os.Stderr, logs)
	if err != nil {
		return nil, fmt.Errorf("renderenv: %w", err)
	}
	order := make([]string, len(resolved))
	for i, r := range resolved {
		order[i] = r.Name
	}
	return syn, shard.Merge(syn.Dir, shard.Dirs(ws), order)
}

// worker synthesizes the productions named by the parent (with their
// pools and links) into its own assembly, and says which stacks each
// production's build created.
func worker(app awscdk.App, e *manifest.Estate, names []string) int {
	syn, err := estate.Synthesize(app, e, estate.Options{Only: names, Checks: true, Part: estate.ProductionsOnly})
	if err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		return 1
	}
	if !reportFindings(syn.Findings) {
		return 1
	}
	var part shard.Part
	for _, n := range names {
		b := shard.Built{Name: n}
		for _, st := range syn.Estate.Made[n] {
			b.Stacks = append(b.Stacks, *st.ArtifactId())
		}
		part.Productions = append(part.Productions, b)
	}
	if err := shard.WritePart(syn.Dir, part); err != nil {
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
