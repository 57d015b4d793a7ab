// Command gen writes a generated manifest folder for scale tests:
//
//	go run ./test/gen -n 200 -accounts 5 -out DIR
//
// DIR then works anywhere a manifest folder does, for example
// `cdk synth -c manifests=DIR` or `go run ./bin/renderenv validate DIR`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/renderenv/renderenv/internal/estategen"
)

func main() {
	n := flag.Int("n", 200, "number of productions")
	accounts := flag.Int("accounts", 5, "number of shared accounts for Tier 2 and Tier 3 productions")
	out := flag.String("out", "", "folder to write the manifests to (created if missing)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./test/gen [-n 200] [-accounts 5] -out DIR")
		os.Exit(2)
	}
	if err := run(*n, *accounts, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n, accounts int, out string) (err error) {
	defer func() {
		// Plan panics on an estate that cannot exist; say why, not where.
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	files := estategen.Generate(n, accounts)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d manifests (%d productions, %d shared accounts) to %s\n", len(names), n, accounts, out)
	return nil
}
