package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/renderenv/renderenv/internal/manifest"
)

func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		printHelp(stdout, flag.NewFlagSet("validate", flag.ContinueOnError))
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "renderenv validate: one folder at most\n%s", usage)
		return 2
	}
	dir := ""
	if len(args) == 1 {
		dir = args[0]
	}
	e, errs := manifest.LoadDir(dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: studio %s and %d productions are valid\n", label(dir), e.Studio.Studio, len(e.Productions))
	for _, w := range e.Ended(manifest.Today()) {
		fmt.Fprintln(stderr, w.Error())
	}
	return 0
}

func label(dir string) string {
	if dir == "" {
		return "productions (embedded)"
	}
	return dir
}
