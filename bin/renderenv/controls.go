package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/manifest"
)

// controls is `renderenv controls`: it synthesizes the estate in-process
// (through jsii, so Node.js must be installed; no AWS credentials are
// needed) into a temporary folder and prints the ISE evidence pack of one
// production, or of every production, derived from the templates.
//
// Exit status: 0 on success, 1 when a manifest is invalid or synthesis
// fails, 2 on bad usage (an unknown flag or format, an unknown production).
func controls(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("controls", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "manifest folder (default: the shipped examples)")
	production := fs.String("production", "", "one production (default: every production)")
	format := fs.String("format", "md", "md or json")
	out := fs.String("out", "", "write <studio>-<production>.evidence.<format> files into this folder instead of printing")
	bad := func(msg string) int { return badUsage(stderr, "controls", msg) }
	positional, code, done := parseFlags(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(positional) > 0 {
		return bad(fmt.Sprintf("unexpected argument %q (the manifest folder is --dir DIR)", positional[0]))
	}
	if *format != "md" && *format != "json" {
		return bad(fmt.Sprintf("--format %q: use md or json", *format))
	}

	e, errs := manifest.LoadDir(*dir)
	if len(errs) > 0 {
		for _, err := range errs {
			fmt.Fprintln(stderr, err.Error())
		}
		return 1
	}
	var names []string
	for _, p := range e.Productions {
		names = append(names, p.Name)
	}
	selected := names
	if *production != "" {
		found := false
		for _, n := range names {
			found = found || n == *production
		}
		if !found {
			fmt.Fprintf(stderr, "renderenv controls: no production named %q in %s (it has %s)\n", *production, label(*dir), strings.Join(names, ", "))
			return 2
		}
		selected = []string{*production}
	}

	// Synthesis through jsii takes about half a second a production.
	fmt.Fprintf(stderr, "renderenv controls: synthesizing studio %s's %s...\n", e.Studio.Studio, plural(len(e.Productions), "production"))
	a, err := synthesizeEstate(e)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
		return 1
	}
	// One index for every production: the rule set runs once.
	ix, err := evidence.NewIndex(a, e)
	if err != nil {
		fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
		return 1
	}
	var packs []evidence.Pack
	for _, name := range selected {
		p, err := ix.Report(name)
		if err != nil {
			fmt.Fprintf(stderr, "renderenv controls: %s: %v\n", name, err)
			return 1
		}
		packs = append(packs, p)
	}

	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
			return 1
		}
		for _, p := range packs {
			body, err := render(p, *format)
			if err != nil {
				fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
				return 1
			}
			path := filepath.Join(*out, fmt.Sprintf("%s-%s.evidence.%s", p.Studio, p.Production, *format))
			if err := os.WriteFile(path, body, 0o644); err != nil {
				fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
		return 0
	}

	switch {
	case *format == "json" && *production == "":
		b, err := json.MarshalIndent(packs, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
	default:
		for i, p := range packs {
			body, err := render(p, *format)
			if err != nil {
				fmt.Fprintf(stderr, "renderenv controls: %v\n", err)
				return 1
			}
			if i > 0 {
				fmt.Fprint(stdout, "\n---\n\n")
			}
			stdout.Write(body)
		}
	}
	return 0
}

func render(p evidence.Pack, format string) ([]byte, error) {
	if format == "json" {
		return p.JSON()
	}
	return []byte(p.Markdown()), nil
}

// synthesizeEstate synthesizes e into a temporary folder and reads the
// cloud assembly back. Tests replace it to synthesize once.
var synthesizeEstate = synthesize

func synthesize(e *manifest.Estate) (*cfn.Assembly, error) {
	out, err := os.MkdirTemp("", "renderenv-controls-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	if err := synthesizeInto(e, out); err != nil {
		return nil, err
	}
	return cfn.ReadAssembly(out)
}

// synthesizeInto synthesizes e's cloud assembly into the folder out.
func synthesizeInto(e *manifest.Estate, out string) (err error) {
	root, err := estate.ProjectRoot()
	if err != nil {
		return err
	}
	// Node 20 still runs jsii correctly; its end-of-life banner would drown
	// the report. The jsii client is created (with the environment of the
	// moment) when the CDK packages register their types at start-up, and
	// its Node.js process starts on first use: closing it makes the next use
	// start one that sees the setting.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
		jsii.Close()
	}
	defer jsii.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synthesis failed (renderenv controls runs the CDK through jsii and needs Node.js 20 or later): %v", r)
		}
	}()
	app, err := estate.NewApp(root, out)
	if err != nil {
		return err
	}
	_, err = estate.Synthesize(app, e, estate.Options{})
	return err
}
