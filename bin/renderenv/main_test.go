package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line and returns its exit status and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateShippedExamples(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-01-01") // before every end date: no warning
	files, err := filepath.Glob("../../productions/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("no shipped examples: %v", err)
	}
	valid := fmt.Sprintf("studio acme and %d productions are valid\n", len(files)-1)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"embedded", []string{"validate"}, "productions (embedded): " + valid},
		{"folder", []string{"validate", "../../productions"}, "../../productions: " + valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != 0 || stdout != tc.want || stderr != "" {
				t.Errorf("renderenv %s = %d\nstdout: %q\nstderr: %q\nwant 0 and stdout %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
			}
		})
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

// copyBase copies the manifest tests' base estate, a fixed copy of the
// shipped examples, so that editing the examples moves no pinned line.
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
