package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// examples are each command's examples, which `renderenv CMD --help` prints
// after the command's usage and flags.
var examples = map[string][]string{
	"validate":  {"renderenv validate productions", "renderenv validate   # the shipped examples"},
	"controls":  {"renderenv controls --production nightfall", "renderenv controls --format json --out evidence/"},
	"check":     {"renderenv check", "renderenv check --format json cdk.out", "renderenv check --rules"},
	"new":       {"renderenv new skyfall --tier 1 --account 777777777777 --cost-centre CC-1010 --owner vfx@example.com", "renderenv new kiosk --tier 3 --account 555555555555 --cost-centre CC-3100 --size /22"},
	"diagram":   {"renderenv diagram --production nightfall --out nightfall.svg", "renderenv diagram --format png --out estate.png", "renderenv diagram --production harbour --format dot | dot -Tpdf > harbour.pdf"},
	"drift":     {"aws cloudformation describe-stacks --profile nightfall > nightfall.json", "renderenv drift nightfall.json management.json"},
	"plan":      {"git stash && make synth && mv cdk.out base.out && git stash pop && make synth", "renderenv plan --base base.out", "renderenv plan --base base.out --production nightfall --color always"},
	"cost":      {"renderenv cost", "renderenv cost --production nightfall"},
	"status":    {"renderenv status", "renderenv status --assembly cdk.out"},
	"close":     {"renderenv close nightfall", "renderenv close brightside --dir productions"},
	"bootstrap": {"renderenv bootstrap productions", "renderenv bootstrap --apply productions"},
}

// printHelp prints a command's usage (its entry of the global usage), its
// flags and its examples.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	name := fs.Name()
	fmt.Fprintf(w, "usage:\n%s", commandUsage(name))
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", flags.String())
	}
	if ex := examples[name]; len(ex) > 0 {
		fmt.Fprintf(w, "\nexamples:\n  %s\n", strings.Join(ex, "\n  "))
	}
}

// commandUsage is the command's entry of the global usage: its line and
// the indented lines that follow it.
func commandUsage(name string) string {
	var out []string
	in := false
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  renderenv "+name+" ") || line == "  renderenv "+name:
			in = true
		case in && !strings.HasPrefix(line, "     "):
			in = false
		}
		if in {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n"
}
