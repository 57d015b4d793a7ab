// Package rules is renderenv's one rule set: every security invariant of
// the estate as a rule with a stable ID, the ISE controls it serves and a
// function over the cfn model. Rules classify stacks from what the
// assembly says (stack tags, resource tags and types), never from the
// manifests, so they run on any cloud assembly, a customised or
// hand-edited one included.
//
// Rules live in one file per area (network.go, keys.go, storage.go,
// audit.go, render.go, iam.go, tagging.go); each has a compliant and a
// non-compliant fixture under testdata/, side by side.
package rules

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Rule is one security invariant.
type Rule struct {
	ID          string   // stable: RE-<AREA>-<NNN>
	Controls    []string // the ISE controls it serves, e.g. "2.3", "10.8"
	Description string   // one line: what must hold
	Check       func(a *cfn.Assembly, report Reporter)
}

// Reporter records one finding: the resource, the property path (relative
// to Properties, or DeletionPolicy and friends) and a message.
type Reporter func(r *cfn.Resource, path, format string, args ...any)

// Finding is one violation of a rule.
type Finding struct {
	Rule      string   `json:"rule"`
	Controls  []string `json:"controls"`
	Stack     string   `json:"stack"`
	LogicalID string   `json:"logicalId"`
	Type      string   `json:"type"`
	Path      string   `json:"path,omitempty"`
	Message   string   `json:"message"`
}

// String is "stack/LogicalId: RULE-ID: path: message".
func (f Finding) String() string {
	msg := f.Message
	if f.Path != "" {
		msg = f.Path + ": " + msg
	}
	return fmt.Sprintf("%s/%s: %s: %s", f.Stack, f.LogicalID, f.Rule, msg)
}

var registry []Rule

// register adds rules to the rule set; IDs must be unique.
func register(rs ...Rule) {
	for _, r := range rs {
		if _, dup := Lookup(r.ID); dup {
			panic("rules: two rules with ID " + r.ID)
		}
		registry = append(registry, r)
	}
	slices.SortFunc(registry, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
}

// All returns every rule, by ID.
func All() []Rule { return slices.Clone(registry) }

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	for _, r := range registry {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Run runs rules (every rule when none is given) over the assembly and
// returns the findings sorted by stack, logical id, rule and path.
func Run(a *cfn.Assembly, rules ...Rule) []Finding {
	if len(rules) == 0 {
		rules = registry
	}
	var out []Finding
	for _, rule := range rules {
		rule.Check(a, func(r *cfn.Resource, path, format string, args ...any) {
			out = append(out, Finding{Rule: rule.ID, Controls: rule.Controls, Stack: r.Stack.Name, LogicalID: r.ID,
				Type: r.Type, Path: path, Message: fmt.Sprintf(format, args...)})
		})
	}
	slices.SortFunc(out, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Stack, y.Stack), cmp.Compare(x.LogicalID, y.LogicalID),
			cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Path, y.Path), cmp.Compare(x.Message, y.Message))
	})
	return slices.CompactFunc(out, func(x, y Finding) bool { return x.String() == y.String() })
}

// JSON renders findings as an indented JSON array ([] when there is none).
func JSON(findings []Finding) ([]byte, error) {
	if findings == nil {
		findings = []Finding{}
	}
	return json.MarshalIndent(findings, "", "  ")
}

// Table renders the rule set as a Markdown table: ID, controls, description.
func Table() string {
	var b strings.Builder
	b.WriteString("| rule | ISE controls | what must hold |\n| --- | --- | --- |\n")
	for _, r := range registry {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.ID, strings.Join(r.Controls, ", "), r.Description)
	}
	return b.String()
}
