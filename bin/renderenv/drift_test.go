package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/manifest"
)

// describeStacks writes what `aws cloudformation describe-stacks` prints
// for the given stacks (name, status, Studio tag) and returns its path.
func describeStacks(t *testing.T, stacks ...[3]string) string {
	t.Helper()
	type tag struct{ Key, Value string }
	type stack struct {
		StackName, StackStatus string
		Tags                   []tag
	}
	var out struct{ Stacks []stack }
	out.Stacks = []stack{}
	for _, s := range stacks {
		st := stack{StackName: s[0], StackStatus: s[1]}
		if s[2] != "" {
			st.Tags = []tag{{"Studio", s[2]}, {"Owner", "someone"}}
		}
		out.Stacks = append(out.Stacks, st)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stacks.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A production removed from the manifests leaves its stack and link
// deployed: drift names both (and says the retired one's steps), exits 1,
// and ignores other studios' stacks, deleted stacks and untagged ones.
func TestDriftListsDeployedStacksTheManifestsNoLongerProduce(t *testing.T) {
	dir := acmeCopy(t)
	studio := filepath.Join(dir, "studio.yaml")
	b, err := os.ReadFile(studio)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "retired:\n  - name: oldshow\n    account: \"666666666666\"\n    vpcCidr: 10.60.0.0/16\n    closed: 2026-06-30\n"...)
	if err := os.WriteFile(studio, b, 0o644); err != nil {
		t.Fatal(err)
	}
	production := describeStacks(t,
		[3]string{"acme-nightfall", "UPDATE_COMPLETE", "acme"},
		[3]string{"acme-nightfall-link", "CREATE_COMPLETE", "acme"},
		[3]string{"acme-oldshow", "UPDATE_COMPLETE", "acme"},
		[3]string{"acme-oldshow-link", "CREATE_COMPLETE", "acme"},
		[3]string{"acme-forgotten", "CREATE_COMPLETE", "acme"},
		[3]string{"acme-gone", "DELETE_COMPLETE", "acme"},
		[3]string{"other-nightfall", "CREATE_COMPLETE", "other"},
		[3]string{"CDKToolkit", "CREATE_COMPLETE", ""},
	)
	shared := describeStacks(t, [3]string{"acme-network", "UPDATE_COMPLETE", "acme"}, [3]string{"acme-logging", "UPDATE_COMPLETE", "acme"})
	var stdout, stderr bytes.Buffer
	code := run([]string{"drift", "--dir", dir, production, shared}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s%s", code, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d stacks reported, want acme-forgotten, acme-oldshow and acme-oldshow-link:\n%s", len(lines), stdout.String())
	}
	for i, want := range []string{"acme-forgotten (CREATE_COMPLETE)", "acme-oldshow (UPDATE_COMPLETE)", "acme-oldshow-link (CREATE_COMPLETE)"} {
		if !strings.Contains(lines[i], production+": "+want+" is deployed and tagged Studio=acme, but the manifests no longer produce it") {
			t.Errorf("line %d: %s\nwant %s", i, lines[i], want)
		}
		if retired := strings.Contains(lines[i], "retired production oldshow"); retired != strings.Contains(want, "oldshow") {
			t.Errorf("line %d says retired %v: %s", i, retired, lines[i])
		}
	}
	if want := "renderenv drift: 3 deployed stacks of studio acme no longer in the manifests\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"drift", "--dir", dir, shared}, &stdout, &stderr); code != 0 || stdout.Len() != 0 {
		t.Errorf("no drift: exit %d, %q", code, stdout.String())
	}
}

func TestDriftRefusesWhatIsNotDescribeStacksOutput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "a.txt")
	noStacks := filepath.Join(dir, "b.json")
	os.WriteFile(notJSON, []byte("hello"), 0o644)
	os.WriteFile(noStacks, []byte(`{"StackSummaries": []}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"drift", "--dir", acme}, 2, "renderenv drift: name at least one file"},
		{[]string{"drift", "--dir", acme, notJSON}, 2, "renderenv drift: " + notJSON + ": not the output of `aws cloudformation describe-stacks`"},
		{[]string{"drift", "--dir", acme, noStacks}, 2, "renderenv drift: " + noStacks + ": not the output of `aws cloudformation describe-stacks` (no Stacks list)"},
		{[]string{"drift", "--dir", acme, filepath.Join(dir, "missing.json")}, 2, "renderenv drift: open "},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args[3:], code, stderr.String(), tc.code, tc.want)
		}
	}
}

// The names drift expects cover every stack the app synthesizes from the
// acme estate (test/ checks the same against a synthesized assembly).
func TestStackNamesCoverTheEstate(t *testing.T) {
	e, errs := manifest.LoadDir(acme)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := e.StackNames()
	for _, name := range []string{"acme-logging", "acme-network", "acme-pool-555555555555", "acme-pool-555555555555-link", "acme-brightside",
		"acme-harbour", "acme-harbour-link", "acme-lighthouse", "acme-lighthouse-link", "acme-nightfall", "acme-nightfall-link"} {
		if !got[name] {
			t.Errorf("StackNames lacks %s", name)
		}
	}
}
