package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/evidence"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/jsiienv"
	"github.com/renderenv/renderenv/internal/manifest"
)

// The controls tests reuse the check tests' one synthesis of the acme
// fixture estate (see writeAssembly) for every run of the command, reading
// it afresh through internal/cfn each time, so that no run sees another's
// changes. Every run names the fixture's folder with --dir: productions/ is
// the studio's.
var synthCalls int

func init() {
	synthesizeEstate = func(*manifest.Estate) (*cfn.Assembly, error) {
		synthCalls++
		dir, err := os.MkdirTemp("", "renderenv-controls-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if err := writeAssembly(dir); err != nil {
			return nil, err
		}
		return cfn.ReadAssembly(dir)
	}
}

// acme is the fixture estate the controls tests report on.
var acme = fixtures.AcmeDir()

// acmeCopy copies the acme fixture into a temporary folder.
func acmeCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range fixtures.AcmeFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestControlsUsageErrors(t *testing.T) {
	calls := synthCalls
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // start of stderr
	}{
		{"bad format", []string{"controls", "--format", "pdf"}, 2, `renderenv controls: --format "pdf": use md or json`},
		{"unknown flag", []string{"controls", "--tier", "1"}, 2, "renderenv controls: flag provided but not defined: -tier"},
		{"positional folder", []string{"controls", "productions"}, 2, `renderenv controls: unexpected argument "productions"`},
		{"unknown production", []string{"controls", "--dir", acme, "--production", "sunrise"}, 2, `renderenv controls: no production named "sunrise" in ` + acme + ` (it has brightside, harbour, lighthouse, nightfall)`},
		{"missing folder", []string{"controls", "--dir", "/nonexistent/manifests"}, 1, "/nonexistent/manifests: not a manifest folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || stdout != "" || !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("renderenv %s = %d\nstdout: %q\nstderr: %q\nwant %d and stderr starting %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.want)
			}
		})
	}
	if synthCalls != calls {
		t.Error("a usage error synthesized the estate")
	}
}

func TestControlsInvalidManifests(t *testing.T) {
	dir := acmeCopy(t)
	for name, change := range map[string][2]string{
		"nightfall.yaml": {"rootVolumeGiB: 100", "rootVolumeGiB: 5"},
		"harbour.yaml":   {"tier: 2", "tier: 7"},
	} {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(b), change[0], change[1], 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls := synthCalls
	code, stdout, stderr := runCLI("controls", "--dir", dir)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || stdout != "" || len(lines) != 2 {
		t.Fatalf("renderenv controls --dir (invalid) = %d\nstdout: %q\nstderr:\n%s\nwant 1 and two error lines", code, stdout, stderr)
	}
	for i, want := range []string{dir + "/harbour.yaml:3: tier: ", dir + "/nightfall.yaml:15: render.rootVolumeGiB: must be between 20 and 16384"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("error line %d = %q, want it to start %q", i+1, lines[i], want)
		}
	}
	if synthCalls != calls {
		t.Error("invalid manifests were synthesized")
	}
}

// progress is what controls says on stderr while it synthesizes acme.
const progress = "renderenv controls: synthesizing studio acme's 4 productions...\n"

func TestControlsReports(t *testing.T) {
	code, md, stderr := runCLI("controls", "--dir", acme, "--production", "nightfall")
	// The one line on stderr says what the long step is doing.
	if code != 0 || stderr != progress {
		t.Fatalf("renderenv controls --production nightfall = %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"# ISE control evidence: acme / nightfall\n", "| Tier | 1 (pre-release, high security) |", "### 10.11 "} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "# ISE control evidence: acme / harbour") {
		t.Error("--production nightfall reported harbour too")
	}

	code, out, stderr := runCLI("controls", "--dir", acme, "--production", "harbour", "--format", "json")
	var one evidence.Pack
	if code != 0 || stderr != progress || json.Unmarshal([]byte(out), &one) != nil || one.Production != "harbour" || len(one.Controls) != len(evidence.ControlIDs()) {
		t.Fatalf("renderenv controls --production harbour --format json = %d, production %q, %d controls\nstderr: %s", code, one.Production, len(one.Controls), stderr)
	}

	code, out, stderr = runCLI("controls", "--dir", acme, "--format=json")
	var all []evidence.Pack
	if code != 0 || stderr != progress || json.Unmarshal([]byte(out), &all) != nil {
		t.Fatalf("renderenv controls --format=json = %d\nstderr: %s", code, stderr)
	}
	var names []string
	for _, p := range all {
		names = append(names, p.Production)
	}
	if strings.Join(names, ",") != "brightside,harbour,lighthouse,nightfall" {
		t.Errorf("the JSON array holds %v", names)
	}

	code, out, _ = runCLI("controls", "--dir", acme)
	if code != 0 || strings.Count(out, "# ISE control evidence: acme / ") != 4 || !strings.Contains(out, "\n---\n") {
		t.Errorf("renderenv controls (all, md) = %d with %d reports", code, strings.Count(out, "# ISE control evidence: acme / "))
	}
}

func TestControlsOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evidence")
	code, stdout, stderr := runCLI("controls", "--dir", acme, "--out", dir)
	if code != 0 || stderr != progress {
		t.Fatalf("renderenv controls --out = %d\nstderr: %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(files)
	var base []string
	for _, f := range files {
		base = append(base, filepath.Base(f))
		if !strings.Contains(stdout, "wrote "+f+"\n") {
			t.Errorf("stdout does not report %s: %q", f, stdout)
		}
	}
	want := "acme-brightside.evidence.md acme-harbour.evidence.md acme-lighthouse.evidence.md acme-nightfall.evidence.md"
	if strings.Join(base, " ") != want {
		t.Errorf("--out wrote %v, want %s", base, want)
	}
	code, _, stderr = runCLI("controls", "--dir", acme, "--out", dir, "--production", "lighthouse", "--format", "json")
	b, err := os.ReadFile(filepath.Join(dir, "acme-lighthouse.evidence.json"))
	var p evidence.Pack
	if code != 0 || err != nil || json.Unmarshal(b, &p) != nil || p.Production != "lighthouse" {
		t.Errorf("--out --format json = %d, %v\nstderr: %s", code, err, stderr)
	}
}

// TestControlsRefusesABadKernelSetting: how the jsii kernel starts is read
// when the program starts, so the test runs its own binary again with a
// bad setting; controls names the setting and its choices, and exits 1
// before it synthesizes anything.
func TestControlsRefusesABadKernelSetting(t *testing.T) {
	if os.Getenv("RENDERENV_TEST_CONTROLS_CHILD") == "1" {
		os.Exit(run([]string{"controls", "--dir", fixtures.AcmeDir()}, os.Stdout, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestControlsRefusesABadKernelSetting$")
	cmd.Env = append(os.Environ(), "RENDERENV_TEST_CONTROLS_CHILD=1", jsiienv.KernelEnv+"=bad")
	out, err := cmd.CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 {
		t.Fatalf("controls with a bad kernel setting: %v, want exit code 1\n%s", err, out)
	}
	if want := `RENDERENV_JSII_KERNEL="bad": want "direct" (the default) or "relay"`; !strings.Contains(string(out), want) {
		t.Errorf("output does not name the setting and its choices (%s):\n%s", want, out)
	}
}
