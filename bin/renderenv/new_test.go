package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/manifest"
)

func runNew(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"new"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// Each kind of production comes out valid with the folder: Tier 1 with the
// first free /16, a pooled Tier 3 without a range, a Tier 3 of an account
// without a pool with a VPC of its own; the folder then validates.
func TestNewWritesAManifestThatValidates(t *testing.T) {
	t.Setenv(manifest.EnvToday, "2026-12-02")
	dir := acmeCopy(t)
	for _, tc := range []struct {
		args []string
		want []string // lines of the written manifest
		not  []string
	}{
		{[]string{"skyfall", "--tier", "1", "--account", "777777777777", "--cost-centre", "CC-1010", "--owner", "vfx@example.com"},
			[]string{"name: skyfall", "tier: 1", `account: "777777777777"`, "region: us-west-2", "vpcCidr: 10.1.0.0/16", "costCentre: CC-1010", "owner: vfx@example.com", "startDate: 2026-12-02", "endDate: 2027-12-02", "  ami: ssm:/acme/render/ami"},
			[]string{"isolation:"}},
		{[]string{"kiosk", "--tier", "3", "--account", "555555555555", "--cost-centre", "CC-3100", "--owner", "ads@example.com"},
			[]string{"name: kiosk", "tier: 3", "  instanceTypes: [c6i.8xlarge]"},
			[]string{"vpcCidr:", "isolation:"}},
		{[]string{"shorts", "--tier", "3", "--account", "888888888888", "--cost-centre", "CC-3101", "--owner", "ads@example.com", "--size", "/22", "--ami", "ami-0123456789abcdef0"},
			[]string{"vpcCidr: 10.2.0.0/22", "isolation:", "  dedicatedVpc: true", "  ami: ami-0123456789abcdef0"},
			nil},
	} {
		name := tc.args[0]
		code, stdout, stderr := runNew(t, append(tc.args, "--dir", dir)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		if !strings.HasPrefix(stdout, filepath.Join(dir, name+".yaml")+": Tier ") {
			t.Errorf("%s: stdout %q", name, stdout)
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for _, w := range tc.want {
			if !contains(lines, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, b)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(string(b), w) {
				t.Errorf("%s has %q:\n%s", name, w, b)
			}
		}
	}
	if _, errs := manifest.LoadDir(dir); len(errs) > 0 {
		t.Errorf("the folder does not validate after new: %v", errs)
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// What would not validate is not written, and the reason names the file
// and field; an existing name is refused.
func TestNewWritesNothingInvalid(t *testing.T) {
	dir := acmeCopy(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"tier 1 in a used account", []string{"skyfall", "--tier", "1", "--account", "444444444444", "--cost-centre", "CC-1", "--owner", "a@example.com"},
			filepath.Join(dir, "skyfall.yaml") + ":7: account: 444444444444 is also used by"},
		{"existing production", []string{"harbour", "--tier", "2", "--account", "444444444444", "--cost-centre", "CC-1", "--owner", "a@example.com"},
			"renderenv new: " + filepath.Join(dir, "harbour.yaml") + " already exists"},
		{"no owner to start from", []string{"skyfall", "--tier", "2", "--account", "777777777777", "--cost-centre", "CC-1"},
			"renderenv new: --owner is required"},
	} {
		code, _, stderr := runNew(t, append(tc.args, "--dir", dir)...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tc.name, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "skyfall.yaml")); err == nil {
		t.Error("skyfall.yaml was written")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tier", "1"}, "renderenv new: name one production"},
		{[]string{"x", "--tier", "4", "--account", "777777777777"}, "renderenv new: --tier: use 1, 2 or 3"},
		{[]string{"x", "--tier", "1"}, "renderenv new: --account is required"},
		{[]string{"x", "--tier", "1", "--account", "777777777777"}, "renderenv new: --cost-centre is required"},
		{[]string{"x", "--tier", "1", "--account", "777777777777", "--cost-centre", "C", "--size", "/24"}, `renderenv new: --size "/24": use /16 to /22`},
	} {
		if code, _, stderr := runNew(t, tc.args...); code != 2 || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
