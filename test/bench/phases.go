package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Phases is how long each step of bin/app's work took in one process.
type Phases struct {
	// Start is estate.NewApp: starting the jsii kernel (node) and loading
	// aws-cdk-lib, constructs and cdk-nag into it.
	Start time.Duration `json:"start"`
	// Load is manifest.LoadDir: decoding and validation, pure Go.
	Load time.Duration `json:"load"`
	// Build is estate.BuildWith: creating every construct through jsii.
	Build time.Duration `json:"build"`
	// Synth is app.Synth: aspects (cdk-nag), preparation, templates and
	// the built-in CloudFormation validation, all inside node.
	Synth time.Duration `json:"synth"`
	// Errors is estate.Errors: reading every stack's messages back.
	Errors time.Duration `json:"errors"`
	// Evidence is evidence.WritePacks: every production's evidence pack,
	// pure Go over the written templates.
	Evidence time.Duration `json:"evidence"`
	// Close is jsii.Close: ending the node child.
	Close time.Duration `json:"close"`
}

// Total is the sum of the phases.
func (p Phases) Total() time.Duration {
	return p.Start + p.Load + p.Build + p.Synth + p.Errors + p.Evidence + p.Close
}

// runPhases does in this process what bin/app does, timing each step, and
// prints the timings as JSON on standard output. It is the child side of
// -phases; the parent runs one child per measurement so that no jsii kernel
// is reused.
func runPhases(repo, manifests, outdir string, only []string, checks bool) error {
	var p Phases
	t := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d = now.Sub(t)
		t = now
	}
	app, err := estate.NewApp(repo, outdir)
	if err != nil {
		return err
	}
	// Make sure the kernel is up before the clock moves on: NewApp's call
	// is the first one through jsii.
	_ = app.Node().Path()
	lap(&p.Start)
	e, errs := manifest.LoadDir(manifests)
	if len(errs) > 0 {
		return errs
	}
	lap(&p.Load)
	syn, err := estate.Synthesize(app, e, estate.Options{Only: only, Checks: checks})
	if err != nil {
		return err
	}
	p.Build, p.Synth, p.Errors = syn.Build, syn.Synth, syn.Read
	if f := syn.Findings; len(f) > 0 {
		return fmt.Errorf("%d unsuppressed finding(s), first: %s", len(f), f[0])
	}
	t = time.Now()
	if err := evidence.WritePacks(syn.Dir, e, slices.Sorted(maps.Keys(syn.Estate.Productions)), nil); err != nil {
		return err
	}
	lap(&p.Evidence)
	jsii.Close()
	lap(&p.Close)
	return json.NewEncoder(os.Stdout).Encode(p)
}
