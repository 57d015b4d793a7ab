package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// baseDir is a copy of the manifest tests' base estate, and how output
// names it in the golden files.
func baseDir(t *testing.T) (dir string, normalise func(string) string) {
	dir = t.TempDir()
	copyBase(t, dir)
	return dir, func(s string) string { return strings.ReplaceAll(s, dir, "DIR") }
}

func TestCloseTier1PrintsTheStepsWithTheRealNames(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-12-20")
	dir, norm := baseDir(t)
	code, stdout, stderr := runCLI("close", "nightfall", "--dir", dir)
	if code != 0 || stderr != "" {
		t.Fatalf("renderenv close nightfall = %d, stderr %q", code, stderr)
	}
	golden(t, filepath.Join("testdata", "close-nightfall.golden"), norm(stdout))
	for _, want := range []string{"s3://acme-nightfall-assets-333333333333-us-west-2", "alias/acme/nightfall/content-asset", "--pending-window-in-days 30", "acme-nightfall-link\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the steps do not name %s", want)
		}
	}
	if strings.Index(stdout, "schedule-key-deletion") > strings.Index(stdout, "npx cdk destroy") {
		t.Error("the keys' deletion is scheduled after the stack that holds their aliases and administrator is destroyed")
	}
}

// A pooled production leaves the pool's keys and link alone.
func TestClosePooledProductionLeavesThePoolAlone(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-12-20")
	dir, norm := baseDir(t)
	code, stdout, stderr := runCLI("close", "--dir", dir, "brightside")
	if code != 0 || stderr != "" {
		t.Fatalf("renderenv close brightside = %d, stderr %q", code, stderr)
	}
	golden(t, filepath.Join("testdata", "close-brightside.golden"), norm(stdout))
	for _, bad := range []string{"disable-key", "schedule-key-deletion", "-link"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("closing a pooled production prints %s", bad)
		}
	}
}

func TestCloseErrors(t *testing.T) {
	dir, _ := baseDir(t)
	if code, _, stderr := runCLI("close", "--dir", dir, "nosuch"); code != 1 || stderr != "renderenv close: "+dir+" has no production \"nosuch\"\n" {
		t.Errorf("renderenv close nosuch = %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCLI("close", "--dir", dir); code != 2 || !strings.HasPrefix(stderr, "renderenv close: name one production\n") {
		t.Errorf("renderenv close without a name = %d, stderr %q", code, stderr)
	}
}

func TestStatusListsEveryProductionAndWarnsAboutEndedActiveOnes(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-10-15")
	dir, norm := baseDir(t)
	breakFile(t, filepath.Join(dir, "lighthouse.yaml"), "endDate: 2026-05-31\n", "endDate: 2026-05-31\nstatus: closing\n")
	code, stdout, stderr := runCLI("status", "--dir", dir)
	if code != 0 {
		t.Fatalf("renderenv status = %d, stderr %q", code, stderr)
	}
	golden(t, filepath.Join("testdata", "status.golden"), norm(stdout))
	// lighthouse has ended too, but is closing: no warning.
	want := "DIR/brightside.yaml:9: endDate: warning: 2026-09-30 has passed and brightside is still active: close it (renderenv close brightside; ISE 6.2, 10.9), or move endDate\n"
	if norm(stderr) != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", norm(stderr), want)
	}
}

func TestStatusRejectsPositionalArguments(t *testing.T) {
	if code, _, stderr := runCLI("status", "productions"); code != 2 || !strings.HasPrefix(stderr, "renderenv status: ") {
		t.Errorf("renderenv status productions = %d, stderr %q", code, stderr)
	}
}

func TestCloseOfAClosingProductionSaysStepOneIsDone(t *testing.T) {
	dir, _ := baseDir(t)
	breakFile(t, filepath.Join(dir, "nightfall.yaml"), "endDate: 2026-12-18\n", "endDate: 2026-12-18\nstatus: closing\n")
	code, stdout, stderr := runCLI("close", "nightfall", "--dir", dir)
	if want := "already says status: closing"; code != 0 || stderr != "" || !strings.Contains(stdout, want) {
		t.Errorf("renderenv close nightfall (closing) = %d, stderr %q; stdout does not say %q:\n%s", code, stderr, want, stdout)
	}
}

// With an assembly, status adds each production's fixed monthly cost (its
// stack and link stack at list prices) before the state; "-" for a
// production the assembly lacks.
func TestStatusWithAnAssemblyShowsTheMonthlyCost(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-10-15")
	dir, _ := baseDir(t)
	tpl := baseEstate()
	tpl["acme-nightfall-link"] = map[string]any{"Resources": map[string]any{
		"Alarm": res("AWS::CloudWatch::Alarm", map[string]any{"AlarmName": "x"}),
	}}
	asm := writeSmallAssembly(t, tpl)
	code, stdout, stderr := runCLI("status", "--dir", dir, "--assembly", asm)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if !strings.Contains(lines[0], "MONTHLY  STATE") {
		t.Errorf("header %q: the cost column goes before the state", lines[0])
	}
	// nightfall: an interface endpoint in 2 zones ($14.60), an attachment
	// ($36.50), a key ($1.00) and the link stack's alarm ($0.10).
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && f[0] == "nightfall" && f[5] != "$52.20":
			t.Errorf("nightfall costs %s, want $52.20: %s", f[5], l)
		case len(f) > 0 && f[0] == "harbour" && f[5] != "-":
			t.Errorf("harbour, which the assembly lacks, costs %s", f[5])
		}
	}
	if code, _, stderr := runCLI("status", "--dir", dir, "--assembly", filepath.Join(t.TempDir(), "none")); code != 1 || !strings.HasPrefix(stderr, "renderenv status: ") {
		t.Errorf("a missing assembly: exit %d, %q", code, stderr)
	}
}

// A production with vendors and ingest loses its exchange stack first and
// its DR stack last, and its replica key is scheduled for deletion in the
// DR region.
func TestCloseDestroysTheExchangeFirstAndTheDRCopyLast(t *testing.T) {
	t.Setenv("RENDERENV_TODAY", "2026-12-20")
	code, stdout, stderr := runCLI("close", "nightfall", "--dir", acmeCopy(t))
	if code != 0 || stderr != "" {
		t.Fatalf("renderenv close nightfall = %d, stderr %q", code, stderr)
	}
	exchange := strings.Index(stdout, "acme-nightfall-exchange\n")
	link := strings.Index(stdout, "acme-nightfall-link\n")
	dr := strings.Index(stdout, "acme-nightfall-dr\n")
	if exchange < 0 || link < 0 || dr < 0 || exchange > link || dr < link {
		t.Errorf("destroy order: exchange at %d, link at %d, DR at %d; want exchange, link, production, DR:\n%s", exchange, link, dr, stdout)
	}
	if !strings.Contains(stdout, "schedule-key-deletion --region us-east-2 --pending-window-in-days 30 --key-id $(aws kms describe-key --region us-east-2 --key-id alias/acme/nightfall/replica") {
		t.Errorf("no deletion of the replica key in us-east-2:\n%s", stdout)
	}
}
