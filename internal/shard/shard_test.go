package shard

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/manifest"
)

func TestWorkers(t *testing.T) {
	for _, c := range []struct {
		setting     string
		productions int
		cpus        int
		want        int
		err         string
	}{
		{"", MinProductions - 1, 8, 1, ""},
		{"", MinProductions, 2, 2, ""},
		{"", 200, 8, 8, ""},
		{"3", 4, 2, 3, ""},
		{"1", 500, 8, 1, ""},
		{"6", 4, 2, 4, ""}, // never more workers than productions
		{"0", 10, 2, 0, "want a whole number from 1 to 64"},
		{"two", 10, 2, 0, `workers is "two"`},
		{"65", 100, 2, 0, "from 1 to 64"},
	} {
		got, err := Workers(c.setting, c.productions, c.cpus)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Workers(%q, %d, %d): error %v, want one saying %q", c.setting, c.productions, c.cpus, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Workers(%q, %d, %d) = %d, %v; want %d", c.setting, c.productions, c.cpus, got, err, c.want)
		}
	}
}

// A pool's members go to one part, parts stay balanced, and each part
// lists its productions in manifest order.
func TestPlanKeepsPoolsTogetherAndBalancesParts(t *testing.T) {
	pool := func(acct string) *manifest.Pool { return &manifest.Pool{Account: acct, Region: "us-west-2"} }
	a, b := pool("400000000001"), pool("400000000002")
	var resolved []manifest.Resolved
	add := func(name string, p *manifest.Pool, pooled bool) {
		r := manifest.Resolved{Pool: p, PooledVpc: pooled}
		r.Name = name
		resolved = append(resolved, r)
	}
	add("p1", nil, false)
	add("p2", a, true)
	add("p3", b, false) // a pool's account, but nothing pooled: on its own
	add("p4", a, true)
	add("p5", nil, false)
	add("p6", a, true)
	add("p7", nil, false)
	parts := Plan(resolved, 2)
	if len(parts) != 2 {
		t.Fatalf("Plan made %d parts, want 2: %v", len(parts), parts)
	}
	var all []string
	for _, p := range parts {
		all = append(all, p...)
		if !slices.IsSortedFunc(p, func(x, y string) int { return strings.Compare(x, y) }) {
			t.Errorf("part %v is not in manifest order", p)
		}
		if slices.Contains(p, "p2") && !(slices.Contains(p, "p4") && slices.Contains(p, "p6")) {
			t.Errorf("pool 400000000001's members are split: %v", parts)
		}
	}
	if slices.Sort(all); !slices.Equal(all, []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"}) {
		t.Errorf("the parts hold %v, want every production once", all)
	}
	if d := len(parts[0]) - len(parts[1]); d > 1 || d < -1 {
		t.Errorf("parts of %d and %d productions: want them balanced", len(parts[0]), len(parts[1]))
	}
	if got := Plan(resolved[:1], 4); len(got) != 1 {
		t.Errorf("one production in %d parts, want 1", len(got))
	}
}

// The merged manifest.json and tree.json keep the formatting of the CDK's
// JSON.stringify: members in file order, two-space indent or none, no
// final newline.
func TestOrderedJSONRoundTripsTheCDKsFormatting(t *testing.T) {
	dir := t.TempDir()
	indented := "{\n  \"version\": \"55.0.0\",\n  \"artifacts\": {\n    \"z\": {\n      \"type\": \"cdk:tree\",\n      \"properties\": {\n        \"file\": \"tree.json\",\n        \"empty\": {},\n        \"list\": []\n      }\n    },\n    \"a\": {\n      \"type\": \"<&>\"\n    }\n  },\n  \"minimumCliVersion\": \"2.1145.0\"\n}"
	compact := `{"version":"tree-0.1","tree":{"id":"App","path":"","children":{"z":{"id":"z"},"a":{"id":"a"},"Tree":{"id":"Tree"}}}}`
	for name, c := range map[string]struct {
		body, indent string
		path         []string
	}{"manifest.json": {indented, "  ", []string{"artifacts"}}, "tree.json": {compact, "", []string{"tree", "children"}}} {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := readNested(file, c.path...)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.write(file, c.indent); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(file); string(got) != c.body {
			t.Errorf("%s changed on a round trip:\n%s\nwant\n%s", name, got, c.body)
		}
	}
	n, _ := readNested(filepath.Join(dir, "tree.json"), "tree", "children")
	n.inner.insertBefore([]member{{"m", []byte(`{"id":"m"}`)}}, func(m member) bool { return m.key == treeChild })
	if err := n.write(filepath.Join(dir, "tree.json"), ""); err != nil {
		t.Fatal(err)
	}
	want := `{"version":"tree-0.1","tree":{"id":"App","path":"","children":{"z":{"id":"z"},"a":{"id":"a"},"m":{"id":"m"},"Tree":{"id":"Tree"}}}}`
	if got, _ := os.ReadFile(filepath.Join(dir, "tree.json")); string(got) != want {
		t.Errorf("inserting before Tree gave\n%s\nwant\n%s", got, want)
	}
}

// writeAssembly writes a minimal assembly: the stacks given, their
// templates, the tree and, for a part, the part file.
func writeAssembly(t *testing.T, dir string, stacks []string, part *Part) {
	t.Helper()
	var arts, nodes []string
	for _, s := range stacks {
		arts = append(arts, `"`+s+`":{"type":"aws:cloudformation:stack","properties":{"templateFile":"`+s+`.template.json"}}`)
		nodes = append(nodes, `"`+s+`":{"id":"`+s+`"}`)
		if err := os.WriteFile(filepath.Join(dir, s+".template.json"), []byte(`{"Resources":{}}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	arts = append(arts, `"Tree":{"type":"cdk:tree","properties":{"file":"tree.json"}}`)
	nodes = append(nodes, `"Tree":{"id":"Tree"}`)
	files := map[string]string{
		manifestFile: `{"version":"55.0.0","artifacts":{` + strings.Join(arts, ",") + `}}`,
		treeFile:     `{"version":"tree-0.1","tree":{"id":"App","path":"","children":{` + strings.Join(nodes, ",") + `}}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if part != nil {
		if err := WritePart(dir, *part); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMergeOrdersProductionsAndRefusesGapsAndDoubles(t *testing.T) {
	dst, one, two := t.TempDir(), t.TempDir(), t.TempDir()
	writeAssembly(t, dst, []string{"s-logging", "s-network"}, nil)
	writeAssembly(t, one, []string{"s-logging", "s-network", "s-b", "s-b-link"}, &Part{Productions: []Built{{"b", []string{"s-b", "s-b-link"}}}})
	writeAssembly(t, two, []string{"s-logging", "s-network", "s-a", "s-c"}, &Part{Productions: []Built{{"a", []string{"s-a"}}, {"c", []string{"s-c"}}}})
	if err := Merge(dst, []string{one, two}, []string{"a", "b", "c", "d"}); err == nil || !strings.Contains(err.Error(), "no worker built production d") {
		t.Errorf("a production no worker built: error %v", err)
	}
	if err := Merge(dst, []string{one, one}, []string{"b"}); err == nil || !strings.Contains(err.Error(), "built by two workers") {
		t.Errorf("a production two workers built: error %v", err)
	}
	stray := t.TempDir()
	writeAssembly(t, stray, []string{"s-logging", "s-e", "s-e-extra"}, &Part{Productions: []Built{{"e", []string{"s-e"}}}})
	if err := Merge(dst, []string{stray}, []string{"e"}); err == nil || !strings.Contains(err.Error(), "stack s-e-extra belongs to no production") {
		t.Errorf("a stack no production listed: error %v", err)
	}
	// dst holds the shared stacks and production b, built first.
	writeAssembly(t, dst, []string{"s-logging", "s-network", "s-b", "s-b-link"}, &Part{Productions: []Built{{"b", []string{"s-b", "s-b-link"}}}})
	if err := Merge(dst, []string{two}, []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, PartFile)); err == nil {
		t.Errorf("the merged assembly keeps %s", PartFile)
	}
	man, _ := readNested(filepath.Join(dst, manifestFile), "artifacts")
	var ids []string
	for _, m := range man.inner.members {
		ids = append(ids, m.key)
	}
	if want := []string{"s-logging", "s-network", "s-a", "s-b", "s-b-link", "s-c", "Tree"}; !slices.Equal(ids, want) {
		t.Errorf("merged artifacts %v, want %v", ids, want)
	}
	for _, s := range []string{"s-a", "s-c"} {
		if _, err := os.Stat(filepath.Join(dst, s+".template.json")); err != nil {
			t.Errorf("%s's template was not moved: %v", s, err)
		}
	}
}
