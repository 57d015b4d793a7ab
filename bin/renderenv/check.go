package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/rules"
)

// check is `renderenv check [--format text|json] [--rules] [ASSEMBLY_DIR]`:
// it runs every rule of the rule set (internal/rules) over a synthesized
// cloud assembly, cdk.out unless named, whoever built or edited it. Pure Go:
// no Node.js, no AWS credentials.
//
// Exit status: 0 when no rule finds anything, 1 on a finding, 2 on bad
// usage or an assembly that cannot be read.
func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "text or json")
	list := fs.Bool("rules", false, "list the rules with their ISE controls and descriptions")
	bad := func(msg string) int { return badUsage(stderr, "check", msg) }
	dirs, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if *format != "text" && *format != "json" {
		return bad(fmt.Sprintf("--format %q: use text or json", *format))
	}
	if len(dirs) > 1 {
		return bad("one assembly folder at most")
	}
	if *list {
		for _, r := range rules.All() {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", r.ID, strings.Join(r.Controls, ", "), r.Description)
		}
		return 0
	}
	dir := "cdk.out"
	if len(dirs) == 1 {
		dir = dirs[0]
	}
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv check: %v\n", err)
		return 2
	}
	findings := rules.Run(a)
	if *format == "json" {
		b, err := rules.JSON(findings)
		if err != nil {
			fmt.Fprintf(stderr, "renderenv check: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		for _, f := range findings {
			fmt.Fprintln(stdout, f.String())
		}
	}
	fmt.Fprintf(stderr, "renderenv check: %s in %s\n", plural(len(findings), "finding"), plural(len(a.Stacks), "stack"))
	if len(findings) > 0 {
		return 1
	}
	return 0
}

// parseFlags parses args with fs, flags before or after the positional
// arguments, and returns those. done is true when the command should stop
// with code: after printing the usage for -h, or the usage error.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (positional []string, code int, done bool) {
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(stdout, fs)
				return nil, 0, true
			}
			return nil, badUsage(stderr, fs.Name(), err.Error()), true
		}
		if fs.NArg() == 0 {
			return positional, 0, false
		}
		positional, rest = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
}

// badUsage reports a usage error of a command, with the usage, and returns
// the exit status 2.
func badUsage(stderr io.Writer, command, msg string) int {
	fmt.Fprintf(stderr, "renderenv %s: %s\n%s", command, msg, usage)
	return 2
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
