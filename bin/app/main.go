// Command app is the CDK app that cdk.json runs. It loads and validates the
// manifests, and synthesizes nothing unless every manifest is valid.
//
// Context: manifests=DIR (or RENDERENV_MANIFESTS=DIR) names the manifest
// folder, default the embedded examples; only=a,b builds the shared stacks
// and only the named productions.
//
// Beside the templates it writes each production's evidence pack,
// <stack>.evidence.md and <stack>.evidence.json: the ISE controls and the
// resources that implement them, derived from the templates just written.
// With RENDERENV_ACCESS_EVALUATOR naming the folder of the IAM evaluator the
// tests pin (test/access/evaluator, after npm ci there; a test tool that is
// not shipped), it also writes each production's access matrix,
// <stack>.access.md and <stack>.access.json, first, and the evidence packs
// cite it for the access claims (which are limited without it).
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/access"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/jsiienv"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/shard"
)

func main() {
	os.Exit(run())
}

func run() (code int) {
	defer jsii.Close()
	defer func() {
		// Constructs receive validated input, so a panic here is a bug in
		// renderenv; say so plainly instead of printing a Go stack trace.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "renderenv: internal error: %v\n", r)
			code = 2
		}
	}()
	if err := jsiienv.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "renderenv:", err)
		fmt.Fprintln(os.Stderr, "renderenv: nothing was synthesized")
		return 1
	}
	// The context is read here, not through a CDK app: a sharded synthesis
	// starts no jsii runtime in this process.
	cdkContext, err := shard.Context(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "renderenv:", err)
		return 1
	}
	dir := os.Getenv(manifest.EnvManifests)
	if v, ok := cdkContext["manifests"].(string); ok && v != "" {
		dir = v
	}
	e, errs := manifest.LoadDir(dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(os.Stderr, err.Error())
		}
		fmt.Fprintf(os.Stderr, "renderenv: %d problem(s) in the manifests; nothing was synthesized\n", len(errs))
		return 1
	}
	if names := os.Getenv(shard.EnvProductions); names != "" {
		return worker(e, strings.Split(names, ","))
	}
	for _, w := range e.Ended(manifest.Today()) {
		fmt.Fprintln(os.Stderr, w.Error())
	}
	only := estate.ParseOnly(cdkContext["only"])
	workers, err := workersFor(cdkContext, e, only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "renderenv:", err)
		fmt.Fprintln(os.Stderr, "renderenv: nothing was synthesized")
		return 1
	}
	var out string
	if workers > 1 {
		out, err = synthesizeSharded(e, workers)
	} else {
		out, err = synthesize(e, only)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		fmt.Fprintln(os.Stderr, "renderenv: nothing was synthesized")
		return 1
	}
	if out == "" {
		return 1 // findings, printed
	}
	// The access matrix comes first: the evidence packs cite it for the
	// claims about who may do what (1.3, 5.1, 7.1, 9.2, 9.3, 10.1), which
	// stay limited without it.
	var matrices map[string]evidence.AccessMatrix
	if dir := os.Getenv(access.EnvEvaluator); dir != "" {
		m, err := access.WriteMatrices(context.Background(), out, e, access.NodeEvaluator{Dir: dir})
		if err != nil {
			fmt.Fprintln(os.Stderr, "renderenv: writing the access matrices:", err)
			return 1
		}
		if n := len(m.Unexpected()); n > 0 {
			fmt.Fprintf(os.Stderr, "renderenv: %d request(s) of the access matrix got another decision than expected; see the <stack>.access.md files\n", n)
		}
		matrices = m.EvidenceRows()
	}
	// The evidence compares each production with all the others, so it is
	// given the whole estate even when only some productions are built.
	built := only
	if len(built) == 0 {
		for _, r := range e.Resolved() {
			built = append(built, r.Name)
		}
	}
	if err := evidence.WritePacks(out, e, slices.Sorted(slices.Values(built)), matrices); err != nil {
		fmt.Fprintln(os.Stderr, "renderenv: writing the evidence packs:", err)
		return 1
	}
	return 0
}
