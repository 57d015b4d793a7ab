package test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Golden snapshots of every template of the estate in productions/, the one
// `cdk synth` builds by default, the go/printer idiom: a change to any
// template fails until a reviewer has read the diff and rerun with -update.
// productions/ is the studio's: a studio that replaces it runs -update once
// and from then on reviews the diffs of its own templates (TestSwapInAnotherEstate
// proves this works). The project's own expectations of the acme estate live
// in the tests that read internal/fixtures.
var update = flag.Bool("update", false, "rewrite golden files")

const snapshotDir = "testdata/snapshots"

const snapshotSuffix = ".template.json"

func TestSnapshotsMatchGoldenFiles(t *testing.T) {
	s := synth(t, productionsEstate)
	got := map[string][]byte{}
	// The snapshots are text: the template files as written, normalised
	// and diffed line by line, so they read their bytes, not the cfn model.
	for _, stack := range s.Stacks() {
		norm, err := normalise(s.Raw[stack])
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		got[stack] = norm
	}
	problems, err := checkSnapshots(snapshotDir, got, *update)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if *update {
		t.Logf("rewrote %d snapshots in %s", len(got), snapshotDir)
	}
}

// checkSnapshots compares got (stack name to normalised template) with the
// golden files in dir and returns one problem per stack that differs, has no
// snapshot, or has a snapshot but no longer exists. With update it writes
// every snapshot and deletes those of stacks that no longer exist instead.
func checkSnapshots(dir string, got map[string][]byte, update bool) ([]string, error) {
	const hint = "review the change, then rerun with: go test ./test/ -run TestSnapshotsMatchGoldenFiles -update"
	var problems []string
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	stacks := make([]string, 0, len(got))
	for stack := range got {
		stacks = append(stacks, stack)
	}
	sort.Strings(stacks)
	for _, stack := range stacks {
		path := filepath.Join(dir, stack+snapshotSuffix)
		if update {
			if err := os.WriteFile(path, got[stack], 0o644); err != nil {
				return nil, err
			}
			continue
		}
		want, err := os.ReadFile(path)
		switch {
		case os.IsNotExist(err):
			problems = append(problems, fmt.Sprintf("%s: no snapshot %s for this stack;\n%s", stack, path, hint))
		case err != nil:
			return nil, err
		case !bytes.Equal(want, got[stack]):
			problems = append(problems, fmt.Sprintf("%s: template differs from %s:\n%s\n%s",
				stack, path, lineDiff(path, "synthesized "+stack, string(want), string(got[stack]), 40), hint))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, snapshotSuffix) {
			continue
		}
		if _, ok := got[strings.TrimSuffix(name, snapshotSuffix)]; ok {
			continue
		}
		path := filepath.Join(dir, name)
		if update {
			if err := os.Remove(path); err != nil {
				return nil, err
			}
			continue
		}
		problems = append(problems, fmt.Sprintf("%s: snapshot of a stack the estate no longer synthesizes; delete it if the stack is gone on purpose, or %s", path, hint))
	}
	return problems, nil
}

// assetHash matches the content hashes of assets (Lambda code, bundles),
// which change with every CDK release.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// normalise removes from a template what varies between machines and CDK
// versions without changing what is deployed: the bootstrap version check,
// the CDK analytics resource and its condition, construct paths, local
// asset paths and cdk-nag suppressions in metadata, and asset hashes. The result is indented JSON with sorted keys.
//
// The snapshot test is the one reader of template JSON outside internal/cfn:
// it rewrites text to diff it, keeping numbers exactly as synthesized, and
// asks no question about what the template means.
func normalise(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers exactly as synthesized
	var tpl map[string]any
	if err := dec.Decode(&tpl); err != nil {
		return nil, err
	}
	dropKey(tpl, "Parameters", "BootstrapVersion")
	dropKey(tpl, "Rules", "CheckBootstrapVersion")
	dropKey(tpl, "Conditions", "CDKMetadataAvailable")
	if rs, ok := tpl["Resources"].(map[string]any); ok {
		for id, r := range rs {
			body, _ := r.(map[string]any)
			if body["Type"] == "AWS::CDK::Metadata" {
				delete(rs, id)
				continue
			}
			dropKey(body, "Metadata", "aws:cdk:path")
			// The reviewed suppressions live in one table and its README
			// list; repeating them on every resource would churn every
			// snapshot when one reason is reworded.
			dropKey(body, "Metadata", "cdk_nag")
			// Asset metadata tells the CLI where the local files are.
			for k := range cfn.AsMap(body["Metadata"]) {
				if strings.HasPrefix(k, "aws:asset:") {
					dropKey(body, "Metadata", k)
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(scrubHashes(tpl)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dropKey deletes m[section][key], and the section when that empties it.
func dropKey(m map[string]any, section, key string) {
	sec, ok := m[section].(map[string]any)
	if !ok {
		return
	}
	delete(sec, key)
	if len(sec) == 0 {
		delete(m, section)
	}
}

func scrubHashes(v any) any {
	switch t := v.(type) {
	case string:
		return assetHash.ReplaceAllString(t, "<asset-hash>")
	case []any:
		for i := range t {
			t[i] = scrubHashes(t[i])
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[assetHash.ReplaceAllString(k, "<asset-hash>")] = scrubHashes(val)
		}
		return out
	}
	return v
}

// lineDiff returns a compact unified-style diff of want and got, showing at
// most max changed lines with two lines of context.
func lineDiff(wantName, gotName, want, got string, max int) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	ops := diffLines(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", wantName, gotName)
	const context = 2
	// Print the first max changes and the unchanged lines around them (an
	// unshown change is never printed as context).
	show := map[int]bool{}
	shown, total := 0, 0
	for i, op := range ops {
		if op.kind == ' ' {
			continue
		}
		total++
		if shown == max {
			continue
		}
		shown++
		for j := i - context; j <= i+context; j++ {
			if j >= 0 && j < len(ops) && (ops[j].kind == ' ' || j == i) {
				show[j] = true
			}
		}
	}
	prev := -2
	for i, op := range ops {
		if !show[i] {
			continue
		}
		if i != prev+1 {
			fmt.Fprintf(&out, "@@ golden line %d, synthesized line %d @@\n", op.a+1, op.b+1)
		}
		fmt.Fprintf(&out, "%c%s\n", op.kind, op.text)
		prev = i
	}
	if total > shown {
		fmt.Fprintf(&out, "... and %d more differing lines\n", total-shown)
	}
	return out.String()
}

// diffOp is one line of an edit script: ' ' kept, '-' only in want, '+'
// only in got; a and b are the line indexes in want and got.
type diffOp struct {
	kind byte
	text string
	a, b int
}

// diffLines is a longest-common-subsequence line diff. The common prefix
// and suffix are trimmed first, so a small change in a large template costs
// little; a middle too large for the table is shown as removed then added.
func diffLines(a, b []string) []diffOp {
	var ops []diffOp
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		ops = append(ops, diffOp{' ', a[pre], pre, pre})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > 16_000_000 {
		for i, l := range ma {
			ops = append(ops, diffOp{'-', l, pre + i, pre})
		}
		for j, l := range mb {
			ops = append(ops, diffOp{'+', l, pre + len(ma), pre + j})
		}
	} else {
		// lcs[i][j] = LCS length of ma[i:] and mb[j:].
		w := len(mb) + 1
		lcs := make([]int32, (len(ma)+1)*w)
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else if lcs[(i+1)*w+j] >= lcs[i*w+j+1] {
					lcs[i*w+j] = lcs[(i+1)*w+j]
				} else {
					lcs[i*w+j] = lcs[i*w+j+1]
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) || j < len(mb) {
			switch {
			case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
				ops = append(ops, diffOp{' ', ma[i], pre + i, pre + j})
				i++
				j++
			case i < len(ma) && (j == len(mb) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
				ops = append(ops, diffOp{'-', ma[i], pre + i, pre + j})
				i++
			default:
				ops = append(ops, diffOp{'+', mb[j], pre + i, pre + j})
				j++
			}
		}
	}
	for k := 0; k < suf; k++ {
		ia, ib := len(a)-suf+k, len(b)-suf+k
		ops = append(ops, diffOp{' ', a[ia], ia, ib})
	}
	return ops
}

func TestSnapshotCheckFailsOnMissingSnapshot(t *testing.T) {
	dir := t.TempDir()
	got := map[string][]byte{"acme-new": []byte("{}\n")}
	problems, err := checkSnapshots(dir, got, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "acme-new: no snapshot") || !strings.Contains(problems[0], "-update") {
		t.Fatalf("a stack without a snapshot must fail with a hint to rerun with -update; got %q", problems)
	}
	// With -update the snapshot is written and the next check passes.
	if problems, err := checkSnapshots(dir, got, true); err != nil || len(problems) != 0 {
		t.Fatalf("update: %v %q", err, problems)
	}
	if problems, err := checkSnapshots(dir, got, false); err != nil || len(problems) != 0 {
		t.Fatalf("after update: %v %q", err, problems)
	}
}

func TestSnapshotCheckFailsOnSnapshotOfRemovedStack(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"acme-kept", "acme-gone"} {
		if err := os.WriteFile(filepath.Join(dir, name+snapshotSuffix), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a snapshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{"acme-kept": []byte("{}\n")}
	problems, err := checkSnapshots(dir, got, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "acme-gone"+snapshotSuffix) || !strings.Contains(problems[0], "no longer") {
		t.Fatalf("a snapshot without a stack must fail; got %q", problems)
	}
	if _, err := checkSnapshots(dir, got, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "acme-gone"+snapshotSuffix)); !os.IsNotExist(err) {
		t.Errorf("-update must delete the snapshot of a removed stack; stat: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("-update must leave other files alone: %v", err)
	}
}

func TestSnapshotCheckShowsTheChangedLines(t *testing.T) {
	dir := t.TempDir()
	var want, got strings.Builder
	want.WriteString("{\n")
	got.WriteString("{\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&want, "  \"Key%03d\": %d,\n", i, i)
		if i == 100 {
			fmt.Fprintf(&got, "  \"Key%03d\": %d,\n", i, 9999)
			continue
		}
		fmt.Fprintf(&got, "  \"Key%03d\": %d,\n", i, i)
	}
	want.WriteString("}\n")
	got.WriteString("}\n")
	if err := os.WriteFile(filepath.Join(dir, "acme-x"+snapshotSuffix), []byte(want.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	problems, err := checkSnapshots(dir, map[string][]byte{"acme-x": []byte(got.String())}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 {
		t.Fatalf("want one problem, got %q", problems)
	}
	p := problems[0]
	for _, line := range []string{"-  \"Key100\": 100,", "+  \"Key100\": 9999,", "   \"Key099\": 99,", "-update"} {
		if !strings.Contains(p, line+"\n") && !strings.HasSuffix(p, line) && !strings.Contains(p, line) {
			t.Errorf("diff lacks %q:\n%s", line, p)
		}
	}
	if strings.Contains(p, "Key050") {
		t.Errorf("diff shows far-away unchanged lines:\n%s", p)
	}
}

func TestLineDiffShowsAtMostMaxChanges(t *testing.T) {
	var a, b []string
	for i := 0; i < 100; i++ {
		a = append(a, fmt.Sprintf("old %d", i))
		b = append(b, fmt.Sprintf("new %d", i))
	}
	d := lineDiff("want", "got", strings.Join(a, "\n"), strings.Join(b, "\n"), 40)
	changed := 0
	for _, l := range strings.Split(d, "\n") {
		if strings.HasPrefix(l, "-old") || strings.HasPrefix(l, "+new") {
			changed++
		}
	}
	if changed != 40 || !strings.Contains(d, "and 160 more differing lines") {
		t.Errorf("want 40 changed lines and a count of the rest, got %d:\n%s", changed, d)
	}
}

func TestNormaliseRemovesMachineAndVersionNoise(t *testing.T) {
	hash := strings.Repeat("ab12", 16)
	raw := []byte(`{
  "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>"}, "Kept": {"Type": "String"}},
  "Rules": {"CheckBootstrapVersion": {}},
  "Conditions": {"CDKMetadataAvailable": {}},
  "Resources": {
    "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Condition": "CDKMetadataAvailable", "Properties": {"Analytics": "v2:x"}},
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "` + hash + `.zip"}, "Timeout": 120},
           "Metadata": {"aws:cdk:path": "s/Fn/Resource", "aws:asset:path": "asset.` + hash + `"}},
    "Topic": {"Type": "AWS::SNS::Topic", "Metadata": {"aws:cdk:path": "s/Kept", "Other": "kept", "hash": "` + hash + `"}},
    "Bucket": {"Type": "AWS::S3::Bucket", "Metadata": {"aws:cdk:path": "s/Bucket/Resource", "cdk_nag": {"rules_to_suppress": [{"id": "X"}]}}}
  }
}`)
	got, err := normalise(raw)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(got, &tpl); err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, gone := range []string{"BootstrapVersion", "CheckBootstrapVersion", "CDKMetadata", "aws:cdk:path", "aws:asset:path", "cdk_nag", hash, `"Rules"`, `"Conditions"`} {
		if strings.Contains(s, gone) {
			t.Errorf("normalised template still contains %q:\n%s", gone, s)
		}
	}
	for _, kept := range []string{`"Kept"`, `"<asset-hash>.zip"`, `"Timeout": 120`, `"Bucket": {`, `"Other": "kept"`} {
		if !strings.Contains(s, kept) {
			t.Errorf("normalised template lacks %q:\n%s", kept, s)
		}
	}
	rs := tpl["Resources"].(map[string]any)
	for _, id := range []string{"Fn", "Bucket"} {
		if _, ok := rs[id].(map[string]any)["Metadata"]; ok {
			t.Errorf("%s: Metadata left empty must be dropped:\n%s", id, s)
		}
	}
	if _, ok := rs["Topic"].(map[string]any)["Metadata"]; !ok {
		t.Errorf("Topic: other Metadata must be kept:\n%s", s)
	}
	// Sorted keys: "Parameters" before "Resources".
	if strings.Index(s, `"Parameters"`) > strings.Index(s, `"Resources"`) {
		t.Errorf("keys are not sorted:\n%s", s)
	}
}
