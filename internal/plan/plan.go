// Package plan compares two synthesized cloud assemblies, the last one
// deployed or committed and the one about to be, and says what the change
// does to each stack: resources added, changed (which properties), replaced
// and removed, by CloudFormation's replacement rules (rules.go), and what it
// does to the estate's fixed monthly cost (cost.go). Replacing or removing
// a stateful resource (a bucket, a key, a VPC, a log group, the trail) is
// flagged, so that a reviewer cannot miss it in a long template diff.
package plan

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Action is what a deployment does to one resource.
type Action int

const (
	Add Action = iota
	Change
	Replace
	Remove
)

// Resource is one resource the change touches.
type Resource struct {
	Action Action
	ID     string // logical id
	Type   string
	// Properties are the top-level properties that change (Change,
	// Replace), sorted; for Replace, Causes are those that force it.
	Properties []string
	Causes     []string
	// Because names the replaced resources whose new physical id forces
	// this replacement (a subnet of a replaced VPC).
	Because []string
	// Stateful: replacing or removing it loses data or what depends on it.
	Stateful bool
	// FixedName is the physical name a replaced resource keeps: CloudFormation
	// cannot create the new one beside the old, and the update fails.
	FixedName string
	// Retained: the resource outlives its removal or replacement
	// (DeletionPolicy or UpdateReplacePolicy Retain): it is orphaned, not
	// deleted.
	Retained bool
}

// Danger is true for the replacement or removal of a stateful resource.
func (r Resource) Danger() bool { return r.Stateful && (r.Action == Replace || r.Action == Remove) }

// Stack is the change to one stack.
type Stack struct {
	Name            string
	Account, Region string
	Added, Removed  bool // the whole stack
	Resources       []Resource
	// Cost before and after, fixed monthly, in dollars.
	Before, After Cost
}

// Plan is the change between two assemblies, stack by stack (sorted by
// name); stacks the change leaves alone are not listed.
type Plan struct {
	Stacks        []*Stack
	Before, After Cost // the whole estate (or the selected stacks)
}

// Dangers counts the stateful resources replaced or removed.
func (p *Plan) Dangers() int {
	n := 0
	for _, s := range p.Stacks {
		for _, r := range s.Resources {
			if r.Danger() {
				n++
			}
		}
	}
	return n
}

// Compare compares the stacks of old and new that keep selects (nil:
// every stack).
func Compare(old, new *cfn.Assembly, prices Prices, keep func(*cfn.Stack) bool) *Plan {
	if keep == nil {
		keep = func(*cfn.Stack) bool { return true }
	}
	stacks := map[string][2]*cfn.Stack{}
	for i, a := range []*cfn.Assembly{old, new} {
		for _, s := range a.Stacks {
			if keep(s) {
				pair := stacks[s.Name]
				pair[i] = s
				stacks[s.Name] = pair
			}
		}
	}
	p := &Plan{}
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		pair := stacks[name]
		st := &Stack{Name: name, Added: pair[0] == nil, Removed: pair[1] == nil}
		if pair[0] != nil {
			st.Before = prices.Stack(pair[0])
			st.Account, st.Region = pair[0].Account, pair[0].Region
		}
		if pair[1] != nil {
			st.After = prices.Stack(pair[1])
			st.Account, st.Region = pair[1].Account, pair[1].Region
		}
		p.Before = p.Before.Plus(st.Before)
		p.After = p.After.Plus(st.After)
		st.Resources = compareStack(pair[0], pair[1])
		if len(st.Resources) > 0 || st.Added || st.Removed {
			p.Stacks = append(p.Stacks, st)
		}
	}
	return p
}

// compareStack compares one stack's two templates (either may be nil).
// A logical id that changes is a removal plus an addition, as
// CloudFormation deploys it.
func compareStack(old, new *cfn.Stack) []Resource {
	var olds, news map[string]*cfn.Resource
	if old != nil {
		olds = old.Resources
	}
	if new != nil {
		news = new.Resources
	}
	var out []Resource
	replaced := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(olds)) {
		o, n := olds[id], news[id]
		if n == nil {
			out = append(out, Resource{Action: Remove, ID: id, Type: o.Type, Stateful: stateful[o.Type], Retained: o.DeletionPolicy == "Retain" || o.DeletionPolicy == "RetainExceptOnCreate"})
			continue
		}
		r := Resource{Action: Change, ID: id, Type: n.Type, Stateful: stateful[n.Type]}
		if o.Type != n.Type {
			r.Action, r.Causes = Replace, []string{"Type"}
		}
		for _, k := range slices.Sorted(maps.Keys(union(o.Properties, n.Properties))) {
			if !reflect.DeepEqual(o.Properties[k], n.Properties[k]) {
				r.Properties = append(r.Properties, k)
				if slices.Contains(replacing[n.Type], k) {
					r.Action, r.Causes = Replace, append(r.Causes, k)
				}
			}
		}
		for _, attr := range []struct{ name, o, n string }{
			{"DeletionPolicy", o.DeletionPolicy, n.DeletionPolicy},
			{"UpdateReplacePolicy", o.UpdateReplacePolicy, n.UpdateReplacePolicy},
			{"Condition", o.Condition, n.Condition},
		} {
			if attr.o != attr.n {
				r.Properties = append(r.Properties, attr.name)
			}
		}
		if len(r.Properties) == 0 && r.Action != Replace {
			continue
		}
		if r.Action == Replace {
			replaced[id] = true
			r.Retained = o.UpdateReplacePolicy == "Retain"
		}
		out = append(out, r)
	}
	for _, id := range slices.Sorted(maps.Keys(news)) {
		if olds[id] == nil {
			out = append(out, Resource{Action: Add, ID: id, Type: news[id].Type, Stateful: stateful[news[id].Type]})
		}
	}
	out = cascade(out, olds, news, replaced)
	for i, r := range out {
		if r.Action == Replace {
			if name := news[r.ID].Name(); name != "" && name == olds[r.ID].Name() {
				out[i].FixedName = name
			}
		}
	}
	slices.SortStableFunc(out, func(x, y Resource) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// cascade replaces the resources whose replacing properties refer (Ref,
// Fn::GetAtt) to a replaced resource, changed in the template or not: the
// reference resolves to the new resource's id at deploy time, so a subnet
// of a replaced VPC is replaced too, and so on down.
func cascade(out []Resource, olds, news map[string]*cfn.Resource, replaced map[string]bool) []Resource {
	for grew := true; grew; {
		grew = false
		for _, id := range slices.Sorted(maps.Keys(news)) {
			n := news[id]
			if olds[id] == nil || replaced[id] {
				continue
			}
			var because, causes []string
			for _, k := range replacing[n.Type] {
				for _, ref := range refs(n.Properties[k]) {
					if replaced[ref] && !slices.Contains(because, ref) {
						because = append(because, ref)
						if !slices.Contains(causes, k) {
							causes = append(causes, k)
						}
					}
				}
			}
			if len(because) == 0 {
				continue
			}
			replaced[id], grew = true, true
			i := slices.IndexFunc(out, func(r Resource) bool { return r.ID == id })
			if i < 0 {
				out = append(out, Resource{Action: Change, ID: id, Type: n.Type, Stateful: stateful[n.Type]})
				i = len(out) - 1
			}
			r := &out[i]
			r.Action, r.Because, r.Retained = Replace, because, olds[id].UpdateReplacePolicy == "Retain"
			for _, k := range causes {
				if !slices.Contains(r.Causes, k) {
					r.Causes = append(r.Causes, k)
				}
			}
		}
	}
	return out
}

// refs are the logical ids a value refers to with Ref or Fn::GetAtt.
func refs(v any) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		if s, ok := t["Ref"].(string); ok && len(t) == 1 {
			return []string{s}
		}
		if l, ok := t["Fn::GetAtt"].([]any); ok && len(l) > 0 {
			if s, ok := l[0].(string); ok {
				return []string{s}
			}
		}
		if s, ok := t["Fn::GetAtt"].(string); ok {
			id, _, _ := strings.Cut(s, ".")
			return []string{id}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = append(out, refs(t[k])...)
		}
	case []any:
		for _, e := range t {
			out = append(out, refs(e)...)
		}
	}
	return out
}

func union(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, b)
	return out
}

// Summary counts a stack's resources by action: "2 added, 1 changed".
func (s *Stack) Summary() string {
	var n [4]int
	for _, r := range s.Resources {
		n[r.Action]++
	}
	var parts []string
	for i, word := range []string{"added", "changed", "replaced", "removed"} {
		if n[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[i], word))
		}
	}
	if len(parts) == 0 {
		return "no resource changes"
	}
	return strings.Join(parts, ", ")
}
