package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/diagram"
	"github.com/renderenv/renderenv/internal/manifest"
)

// diagramCommand is `renderenv diagram [--dir DIR] [--assembly DIR]
// [--production NAME] [--format svg|png|dot] [--out FILE]`: a picture of
// the estate, or of one production, drawn from the synthesized templates.
// Pure Go: Graphviz runs as WebAssembly.
//
// Exit status: 0 when drawn, 1 on invalid manifests or an assembly that
// lacks the stacks, 2 on bad usage.
func diagramCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the manifest folder (default: the shipped examples)")
	assembly := fs.String("assembly", "cdk.out", "the synthesized cloud assembly")
	production := fs.String("production", "", "draw this production (default: the whole estate)")
	format := fs.String("format", "svg", "svg, png or dot")
	out := fs.String("out", "", "write to this file (default: standard output)")
	rest, code, done := parseFlags(fs, args, stdout, stderr)
	switch {
	case done:
		return code
	case len(rest) > 0:
		return badUsage(stderr, "diagram", "no positional arguments")
	case *format != "svg" && *format != "png" && *format != "dot":
		return badUsage(stderr, "diagram", fmt.Sprintf("--format %q: use svg, png or dot", *format))
	}
	e, errs := manifest.LoadDir(*dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	a, err := cfn.ReadAssembly(*assembly)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv diagram: %v\n", err)
		return 1
	}
	var dot string
	if *production != "" {
		dot, err = diagram.Production(a, e, *production)
	} else {
		dot, err = diagram.Estate(a, e)
	}
	if err != nil {
		fmt.Fprintf(stderr, "renderenv diagram: %v\n", err)
		return 1
	}
	b, err := diagram.Render(context.Background(), dot, *format)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv diagram: %v\n", err)
		return 1
	}
	if *out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "renderenv diagram: %v\n", err)
		return 1
	}
	return 0
}
