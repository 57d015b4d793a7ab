package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/plan"
)

// planCommand is `renderenv plan --base OLD [--assembly NEW] [--production
// NAME] [--color auto|always|never]`: what deploying the assembly NEW
// (default cdk.out) does to each stack of the assembly OLD (synthesized
// from the last commit, say), and to the fixed monthly cost. Pure Go.
//
// Exit status: 2 when a stateful resource (bucket, key, volume, VPC, log
// group, trail, Transit Gateway) is replaced or removed, 0 otherwise, 1
// on an assembly it cannot read or bad usage (not 2, which a pipeline
// reads as a destructive change).
func planCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("base", "", "the assembly deployed now (required)")
	assembly := fs.String("assembly", "cdk.out", "the assembly to deploy")
	production := fs.String("production", "", "only the stacks tagged with this production")
	colour := fs.String("color", "auto", "auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	bad := func(msg string) int {
		badUsage(stderr, "plan", msg)
		return 1
	}
	rest, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return min(code, 1)
	}
	switch {
	case len(rest) > 0:
		return bad(fmt.Sprintf("unexpected argument %q: name the assemblies with --base and --assembly", rest[0]))
	case *base == "":
		return bad("--base: name the assembly to compare with (for example one synthesized from the last commit)")
	case *colour != "auto" && *colour != "always" && *colour != "never":
		return bad(fmt.Sprintf("--color %q: use auto, always or never", *colour))
	}
	old, err := cfn.ReadAssembly(*base)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv plan: --base: %v\n", err)
		return 1
	}
	new, err := cfn.ReadAssembly(*assembly)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv plan: --assembly: %v\n", err)
		return 1
	}
	keep := byProduction(*production)
	if keep != nil && !anyStack(old, keep) && !anyStack(new, keep) {
		fmt.Fprintf(stderr, "renderenv plan: no stack of production %q in %s or %s\n", *production, *base, *assembly)
		return 1
	}
	p := plan.Compare(old, new, plan.ListPrices, keep)
	p.Write(stdout, *colour == "always" || *colour == "auto" && isTerminal(stdout) && os.Getenv("NO_COLOR") == "")
	if n := p.Dangers(); n > 0 {
		fmt.Fprintf(stderr, "renderenv plan: %s replaced or removed\n", plural(n, "stateful resource"))
		return 2
	}
	return 0
}

// costCommand is `renderenv cost [--assembly DIR] [--production NAME]`:
// the fixed monthly cost of what the templates create, per stack and in
// total, at the list prices of internal/plan. Pure Go.
//
// Exit status: 0, 1 on an assembly it cannot read, 2 on bad usage.
func costCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	assembly := fs.String("assembly", "cdk.out", "the assembly to price")
	production := fs.String("production", "", "only the stacks tagged with this production")
	rest, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(rest) > 0 {
		return badUsage(stderr, "cost", fmt.Sprintf("unexpected argument %q: name the assembly with --assembly", rest[0]))
	}
	a, err := cfn.ReadAssembly(*assembly)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv cost: %v\n", err)
		return 1
	}
	keep := byProduction(*production)
	if keep != nil && !anyStack(a, keep) {
		fmt.Fprintf(stderr, "renderenv cost: no stack of production %q in %s\n", *production, *assembly)
		return 1
	}
	plan.WriteCost(stdout, a, plan.ListPrices, keep)
	return 0
}

// byProduction selects the stacks tagged Production=name (a production's
// stack and its link stack); nil for every stack. A pooled production's
// network and keys are its pool's, and not counted.
func byProduction(name string) func(*cfn.Stack) bool {
	if name == "" {
		return nil
	}
	return func(s *cfn.Stack) bool { return s.Tags["Production"] == name }
}

func anyStack(a *cfn.Assembly, keep func(*cfn.Stack) bool) bool {
	for _, s := range a.Stacks {
		if keep(s) {
			return true
		}
	}
	return false
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
