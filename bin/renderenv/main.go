// Command renderenv checks manifests and reports on the estate without
// synthesizing: it needs no Node.js and no AWS credentials.
//
//	renderenv validate [DIR]
//
// Exit status: 0 when valid, 1 when any manifest is invalid, 2 on bad usage.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage:
  renderenv validate [DIR]   check a manifest folder (default: the shipped examples)
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "renderenv: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
