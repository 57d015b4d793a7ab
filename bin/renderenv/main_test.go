package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/fixtures"
)

// runCLI runs the command line and returns its exit status and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateAcmeFixture(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-01-01") // before every end date: no warning
	dir := fixtures.AcmeDir()
	want := fmt.Sprintf("%s: studio acme and %d productions are valid\n", dir, len(fixtures.AcmeProductions))
	code, stdout, stderr := runCLI("validate", dir)
	if code != 0 || stdout != want || stderr != "" {
		t.Errorf("renderenv validate %s = %d\nstdout: %q\nstderr: %q\nwant 0 and stdout %q", dir, code, stdout, stderr, want)
	}
}

// TestValidateWithoutFolderReadsProductions: with no folder, validate checks
// the embedded productions/, whatever estate the studio keeps there (the
// swap test runs this test over another estate). Warnings about ended
// productions may follow on stderr.
func TestValidateWithoutFolderReadsProductions(t *testing.T) {
	code, stdout, stderr := runCLI("validate")
	valid := regexp.MustCompile(`^productions \(embedded\): studio [a-z][a-z0-9-]* and [1-9][0-9]* productions are valid\n$`)
	if code != 0 || !valid.MatchString(stdout) {
		t.Errorf("renderenv validate = %d\nstdout: %q\nstderr: %q\nwant 0 and stdout matching %s", code, stdout, stderr, valid)
	}
}

func TestValidateBrokenFolder(t *testing.T) {
	dir := t.TempDir()
	copyBase(t, dir)
	breakFile(t, filepath.Join(dir, "harbour.yaml"), "tier: 2", "tier: 4")
	breakFile(t, filepath.Join(dir, "studio.yaml"), "studio: acme", "studio: ACME")
	if err := os.WriteFile(filepath.Join(dir, "nightfall.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI("validate", dir)
	want := strings.Join([]string{
		dir + "/harbour.yaml:3: tier: 4 is not a tier: use 1, 2 or 3",
		dir + "/nightfall.yaml: file is empty",
		dir + `/studio.yaml:2: studio: "ACME" must be DNS-safe: lower case letters, digits and hyphens, starting with a letter, at most 12 characters`,
	}, "\n") + "\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("renderenv validate DIR = %d\nstdout: %q\nstderr:\n%s\nwant 1 and stderr:\n%s", code, stdout, stderr, want)
	}
}

func TestValidateMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	code, stdout, stderr := runCLI("validate", dir)
	if want := dir + ": not a manifest folder\n"; code != 1 || stdout != "" || stderr != want {
		t.Errorf("renderenv validate %s = %d\nstdout: %q\nstderr: %q\nwant 1 and stderr %q", dir, code, stdout, stderr, want)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // first line of stderr
	}{
		{"no command", nil, "usage:"},
		{"unknown command", []string{"synth"}, `renderenv: unknown command "synth"`},
		{"two folders", []string{"validate", "a", "b"}, "renderenv validate: one folder at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != 2 || stdout != "" || first != tc.want || !strings.Contains(stderr, "renderenv validate [DIR]") {
				t.Errorf("renderenv %s = %d\nstdout: %q\nstderr: %q\nwant 2, stderr starting %q with the usage", strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, stderr := runCLI("help")
	if code != 0 || !strings.HasPrefix(stdout, "usage:") || stderr != "" {
		t.Errorf("renderenv help = %d\nstdout: %q\nstderr: %q", code, stdout, stderr)
	}
}

// copyBase copies the manifest tests' base estate, a fixed copy of the acme
// fixture, so that editing the fixture moves no pinned line.
func copyBase(t *testing.T, dir string) {
	t.Helper()
	names, err := filepath.Glob("../../internal/manifest/testdata/valid/*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no base estate: %v", err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func breakFile(t *testing.T, name, old, new string) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), old) != 1 {
		t.Fatalf("%s: %q does not occur exactly once", name, old)
	}
	if err := os.WriteFile(name, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every command's --help prints its own usage, flags and examples, and
// exits 0.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	for name := range examples {
		var stdout, stderr bytes.Buffer
		code := run([]string{name, "--help"}, &stdout, &stderr)
		out := stdout.String()
		if code != 0 || !strings.Contains(out, "  renderenv "+name) || !strings.Contains(out, "examples:\n  ") {
			t.Errorf("renderenv %s --help: exit %d\n%s%s", name, code, out, stderr.String())
		}
		for _, other := range []string{"validate", "check", "drift"} {
			if other != name && strings.Contains(out, "  renderenv "+other+" ") {
				t.Errorf("renderenv %s --help prints %s's usage too", name, other)
			}
		}
	}
	for _, line := range strings.Split(usage, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "renderenv" && examples[f[1]] == nil {
			t.Errorf("renderenv %s has no examples", f[1])
		}
	}
}
