package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
)

var update = flag.Bool("update", false, "rewrite the findings pinned in testdata/<RULE>.json")

// A fixture, testdata/<RULE>.json, holds two small assemblies side by side:
// a compliant one, on which the rule finds nothing, and a non-compliant one,
// on which it finds exactly the pinned findings. Each assembly maps stack
// names to a template plus the stack's "account", "region" and "tags", as
// a cloud assembly's manifest would give them.
type fixture struct {
	Note         string                    `json:"note"`
	Compliant    map[string]map[string]any `json:"compliant"`
	NonCompliant map[string]map[string]any `json:"noncompliant"`
	Findings     []string                  `json:"findings"`
}

func fixturePath(id string) string { return filepath.Join("testdata", id+".json") }

func loadFixture(t *testing.T, id string) fixture {
	t.Helper()
	b, err := os.ReadFile(fixturePath(id))
	if err != nil {
		t.Fatalf("%s has no fixture: %v", id, err)
	}
	var f fixture
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", fixturePath(id), err)
	}
	return f
}

// assembly builds the model of one side of a fixture.
func assembly(t *testing.T, stacks map[string]map[string]any) *cfn.Assembly {
	t.Helper()
	var list []*cfn.Stack
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		raw := maps.Clone(stacks[name])
		s := cfn.TemplateFromMap(name, raw)
		s.Account, s.Region = cfn.Str(raw["account"]), cfn.Str(raw["region"])
		s.Tags = map[string]string{}
		for k, v := range cfn.AsMap(raw["tags"]) {
			s.Tags[k] = cfn.Str(v)
		}
		list = append(list, s)
	}
	a, err := cfn.NewAssembly(list...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func lines(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

// Like cdk-nag's rule tests: every rule passes its compliant fixture and
// fails its non-compliant one with the findings pinned beside it. A rule
// without fixtures fails here.
func TestEveryRulePassesItsCompliantFixtureAndFailsItsNonCompliantOne(t *testing.T) {
	for _, rule := range All() {
		t.Run(rule.ID, func(t *testing.T) {
			f := loadFixture(t, rule.ID)
			if len(f.Compliant) == 0 || len(f.NonCompliant) == 0 || f.Note == "" {
				t.Fatalf("%s needs a compliant and a non-compliant assembly and a note saying what breaks", fixturePath(rule.ID))
			}
			if got := Run(assembly(t, f.Compliant), rule); len(got) > 0 {
				t.Errorf("the compliant fixture has findings:\n%s", strings.Join(lines(got), "\n"))
			}
			got := lines(Run(assembly(t, f.NonCompliant), rule))
			if len(got) == 0 {
				t.Fatalf("the non-compliant fixture has no finding: the rule cannot fail")
			}
			if *update {
				f.Findings = got
				writeFixture(t, rule.ID, f)
				return
			}
			if !slices.Equal(got, f.Findings) {
				t.Errorf("non-compliant findings:\n%s\nwant (go test -update to accept):\n%s", strings.Join(got, "\n"), strings.Join(f.Findings, "\n"))
			}
			for _, line := range got {
				if !strings.Contains(line, ": "+rule.ID+": ") {
					t.Errorf("finding %q does not read stack/LogicalId: %s: message", line, rule.ID)
				}
			}
		})
	}
}

func writeFixture(t *testing.T, id string, f fixture) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixturePath(id), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEveryFixtureBelongsToARule(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if _, ok := Lookup(strings.TrimSuffix(filepath.Base(file), ".json")); !ok {
			t.Errorf("%s names no rule", file)
		}
	}
}

func TestRulesAreDescribed(t *testing.T) {
	areas := []string{"NET", "KEY", "STO", "AUD", "RND", "IAM", "TAG", "XCH"}
	for _, r := range All() {
		parts := strings.Split(r.ID, "-")
		if len(parts) != 3 || parts[0] != "RE" || !slices.Contains(areas, parts[1]) || len(parts[2]) != 3 {
			t.Errorf("%s: want RE-<AREA>-<NNN>, AREA one of %v", r.ID, areas)
		}
		if len(r.Controls) == 0 || r.Description == "" || r.Check == nil || strings.Contains(r.Description, "\n") {
			t.Errorf("%s: needs controls, a one-line description and a check", r.ID)
		}
	}
}

func TestFindingsPrintAndMarshal(t *testing.T) {
	f := Finding{Rule: "RE-KEY-003", Controls: []string{"9.2"}, Stack: "acme-nightfall", LogicalID: "Key", Type: "AWS::KMS::Key", Path: "KeyPolicy.Statement[1]", Message: "lets * use the key"}
	if got, want := f.String(), "acme-nightfall/Key: RE-KEY-003: KeyPolicy.Statement[1]: lets * use the key"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	b, err := JSON([]Finding{f})
	if err != nil {
		t.Fatal(err)
	}
	var back []Finding
	if err := json.Unmarshal(b, &back); err != nil || len(back) != 1 || !slices.Equal(back[0].Controls, f.Controls) || back[0].String() != f.String() {
		t.Errorf("JSON round trip: %s -> %+v (%v)", b, back, err)
	}
	if b, _ := JSON(nil); string(b) != "[]" {
		t.Errorf("no findings marshal as %s, want []", b)
	}
}

// The README documents the rule set; the table there is Table's.
func TestTheReadmeListsEveryRule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		// The table runs from its header to the first line that is not a row.
		text := string(b)
		start := strings.Index(text, "| rule | ISE controls | what must hold |\n")
		if start < 0 {
			t.Fatal("README.md has no rule table to update")
		}
		end := start
		for end < len(text) && strings.HasPrefix(text[end:], "|") {
			end += strings.IndexByte(text[end:], '\n') + 1
		}
		b = []byte(text[:start] + Table() + text[end:])
		if err := os.WriteFile(filepath.Join("..", "..", "README.md"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(string(b), Table()) {
		t.Errorf("README.md does not hold the rule table; put this under \"Checking a synthesized assembly\" (or go test -update):\n%s", Table())
	}
}
