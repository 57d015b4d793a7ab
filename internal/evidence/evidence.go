// Package evidence builds the audit evidence pack of one production: for
// every control of the ISE "Studio Security Controls for VFX/Rendering"
// checklist (1.1 to 10.11) it says whether the synthesized templates
// implement it, which resources and properties prove it, and what the studio
// must still do.
//
// Nothing here is a hand-written list of claims. Each control has checks
// that read the parsed CloudFormation templates (and the manifests, for what
// only they know: accounts, tiers, the other productions); the status is
// derived from what the checks find. A control whose check fails is not
// reported as implemented, and the failing check names the resources.
//
// The package is plain Go: it reads templates someone else synthesized
// (renderenv controls, the CDK app, or tests) and needs no Node.js.
package evidence

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// Status is what the templates do for a control.
type Status string

const (
	// Implemented: the templates do what the control recommends, and every
	// check of it passed.
	Implemented Status = "implemented"
	// Partial: the templates do a checked part; the studio does the rest, or
	// a check found a limitation or a failure.
	Partial Status = "partial"
	// Missing: the templates should do this, and the checks found nothing
	// that does.
	Missing Status = "missing"
	// Studio: outside what the templates can do; the studio's
	// responsibility. Evidence, when listed, is what helps.
	Studio Status = "studio"
)

// Outcome is the result of one check.
type Outcome string

const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Limited Outcome = "limited" // allowed (by the tier, by a manifest choice) but less than the control asks
	NotUsed Outcome = "n/a"     // what the check looks at is not deployed
)

// Pack is the evidence pack of one production.
type Pack struct {
	Studio     string `json:"studio"`
	Production string `json:"production"`
	Tier       int64  `json:"tier"`
	TierLabel  string `json:"tierLabel"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	// Note says how the pack was made.
	Note string `json:"note"`
	// Stacks are the stacks whose templates were read, by role.
	Stacks   []StackRef `json:"stacks"`
	Summary  Summary    `json:"summary"`
	Controls []Control  `json:"controls"`
}

// StackRef is one stack the pack read.
type StackRef struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Summary counts controls by status.
type Summary struct {
	Implemented int `json:"implemented"`
	Partial     int `json:"partial"`
	Missing     int `json:"missing"`
	Studio      int `json:"studio"`
}

// Control is one ISE control and what the templates do for it.
type Control struct {
	ID    string `json:"id"`
	Area  string `json:"area"`
	Title string `json:"title"`
	// Scope is who the control belongs to by design: "templates" (renderenv
	// implements it), "shared" (renderenv implements a part) or "studio".
	Scope  string `json:"scope"`
	Status Status `json:"status"`
	// How says in a sentence what renderenv does for the control.
	How           string        `json:"how"`
	Checks        []CheckResult `json:"checks"`
	Evidence      []Evidence    `json:"evidence"`
	StudioActions []string      `json:"studioActions"`
}

// CheckResult is one check of a control.
type CheckResult struct {
	Check   string  `json:"check"`
	Outcome Outcome `json:"outcome"`
	// Detail says what was found; for a failure, which resources fail.
	Detail string `json:"detail"`
}

// Evidence is one resource property that supports a control.
type Evidence struct {
	Stack     string `json:"stack"`
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	Property  string `json:"property"`
	Value     string `json:"value,omitempty"`
}

func (e Evidence) String() string {
	s := fmt.Sprintf("%s / %s (%s): %s", e.Stack, e.LogicalID, e.Type, e.Property)
	if e.Value != "" {
		s += " = " + e.Value
	}
	return s
}

// Problems are the details of the checks that failed or were limited: why
// the control is not implemented by the templates.
func (c Control) Problems() []string {
	var out []string
	for _, r := range c.Checks {
		if r.Outcome == Fail || r.Outcome == Limited {
			out = append(out, r.Detail)
		}
	}
	return out
}

// Report evaluates every control for one production of e against the
// synthesized templates of e's stacks (stack name to parsed template, as
// encoding/json decodes it). The templates must include the production's
// stack, its link stack (and pool, if it uses one) and the shared logging
// and network stacks; other productions' stacks are optional.
//
// Pass the estate as loaded, with every production: the checks compare the
// production with the others (network ranges, shared accounts). For the
// packs of many productions, build one Index and ask it for each.
func Report(templates map[string]map[string]any, e *manifest.Estate, production string) (Pack, error) {
	ix, err := NewIndex(templates, e)
	if err != nil {
		return Pack{}, err
	}
	return ix.Report(production)
}

// Index is an estate's templates parsed once, with the look-ups that every
// production's checks share, so that the packs of n productions cost n
// times one pack, not n times the estate.
type Index struct {
	est    *manifest.Estate
	all    []manifest.Resolved
	tpls   map[string]*template
	byType map[string][]*resource // by stack name, then logical id
	// params and aliases are the SSM parameters and KMS aliases of every
	// stack by name, the first in stack order.
	params, aliases map[string]*resource
}

// NewIndex parses the templates of e's stacks (see Report).
func NewIndex(templates map[string]map[string]any, e *manifest.Estate) (*Index, error) {
	if e == nil {
		return nil, fmt.Errorf("evidence: no manifests")
	}
	ix := &Index{est: e, all: e.Resolved(), tpls: map[string]*template{}, byType: map[string][]*resource{}}
	for name, t := range templates {
		ix.tpls[name] = parseTemplate(name, t)
	}
	for _, name := range slices.Sorted(maps.Keys(ix.tpls)) {
		for _, r := range ix.tpls[name].all() {
			ix.byType[r.Type] = append(ix.byType[r.Type], r)
		}
	}
	ix.params, ix.aliases = byName(ix.byType["AWS::SSM::Parameter"], "Name"), byName(ix.byType["AWS::KMS::Alias"], "AliasName")
	return ix, nil
}

// byName maps resources by the string value of a property, keeping the first.
func byName(rs []*resource, prop string) map[string]*resource {
	out := map[string]*resource{}
	for _, r := range rs {
		if n := str(r.Props[prop]); n != "" && out[n] == nil {
			out[n] = r
		}
	}
	return out
}

// ofType returns the resources of the given types in every stack, by stack
// name and logical id within each type.
func (ix *Index) ofType(types ...string) []*resource {
	var out []*resource
	for _, t := range types {
		out = append(out, ix.byType[t]...)
	}
	return out
}

// types returns the resource types present whose names start with prefix.
func (ix *Index) types(prefix string) []string {
	var out []string
	for t := range ix.byType {
		if strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Report evaluates every control for one production (see the function Report).
func (ix *Index) Report(production string) (Pack, error) {
	e := ix.est
	v, err := newView(ix, production)
	if err != nil {
		return Pack{}, err
	}
	p := Pack{
		Studio:     e.Studio.Studio,
		Production: v.r.Name,
		Tier:       v.r.Tier,
		TierLabel:  v.r.Policy.Label,
		Account:    v.r.Account,
		Region:     v.r.Region,
		Note:       "Derived from the synthesized templates: every status below is the result of checks over the CloudFormation resources renderenv generates for this production (and the manifests, for accounts, tiers and the other productions). Nothing here was observed in a deployed account.",
		Stacks:     v.stackRefs(),
	}
	for _, def := range catalogue {
		c := def.evaluate(v)
		p.Controls = append(p.Controls, c)
		switch c.Status {
		case Implemented:
			p.Summary.Implemented++
		case Partial:
			p.Summary.Partial++
		case Missing:
			p.Summary.Missing++
		case Studio:
			p.Summary.Studio++
		}
	}
	return p, nil
}

// ControlIDs lists the ids of every control the pack covers, in order.
func ControlIDs() []string {
	out := make([]string, len(catalogue))
	for i, d := range catalogue {
		out[i] = d.id
	}
	return out
}

// Control returns the control with id, if the pack has it.
func (p Pack) Control(id string) (Control, bool) {
	for _, c := range p.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}

// scope values. A shared control is at most partial: the checklist also asks
// for what no template of a production can do (GuardDuty and AWS Config
// across the organization, the identity provider's settings), which its
// studio actions name.
const (
	scopeTemplates = "templates"
	scopeShared    = "shared"
	scopeStudio    = "studio"
)

// definition is one control of the catalogue.
type definition struct {
	id, area, title string
	scope           string
	how             string
	checks          []check
	studio          []string
	// studioFor adds actions that depend on the production or on what the
	// checks found.
	studioFor func(v *view) []string
}

// check is one named test over the templates.
type check struct {
	name string
	run  func(v *view) result
}

// result is what a check found.
type result struct {
	outcome  Outcome
	detail   string
	evidence []Evidence
}

func (d definition) evaluate(v *view) Control {
	c := Control{ID: d.id, Area: d.area, Title: d.title, Scope: d.scope, How: d.how}
	var pass, fail, limited, positive int
	seen := map[Evidence]bool{}
	for _, ch := range d.checks {
		r := ch.run(v)
		if r.outcome == "" {
			r.outcome = Pass
		}
		c.Checks = append(c.Checks, CheckResult{Check: ch.name, Outcome: r.outcome, Detail: r.detail})
		switch r.outcome {
		case Pass:
			pass++
		case Fail:
			fail++
		case Limited:
			limited++
		}
		if len(r.evidence) > 0 && r.outcome != NotUsed {
			positive++
		}
		for _, e := range r.evidence {
			if !seen[e] {
				seen[e] = true
				c.Evidence = append(c.Evidence, e)
			}
		}
	}
	switch {
	case d.scope == scopeStudio:
		c.Status = Studio
	case pass+fail+limited == 0:
		// Every check found its subject not deployed (a VPN, say): the
		// studio's responsibility for this estate.
		c.Status = Studio
	case fail > 0 && pass+limited == 0 && positive == 0:
		c.Status = Missing
	case fail > 0 || limited > 0 || d.scope == scopeShared:
		c.Status = Partial
	default:
		c.Status = Implemented
	}
	c.StudioActions = append(c.StudioActions, d.studio...)
	if d.studioFor != nil {
		c.StudioActions = append(c.StudioActions, d.studioFor(v)...)
	}
	if c.Checks == nil {
		c.Checks = []CheckResult{}
	}
	if c.Evidence == nil {
		c.Evidence = []Evidence{}
	}
	if c.StudioActions == nil {
		c.StudioActions = []string{}
	}
	return c
}

// view is one production's stacks and manifests, as the checks see them.
type view struct {
	*Index
	studio *manifest.Studio
	r      manifest.Resolved

	prod, link, pool, network, logging string // stack names; pool may be ""
}

func newView(ix *Index, production string) (*view, error) {
	e := ix.est
	v := &view{Index: ix, studio: &e.Studio}
	found := false
	var known []string
	for _, r := range v.all {
		known = append(known, r.Name)
		if r.Name == production {
			v.r, found = r, true
		}
	}
	if !found {
		return nil, fmt.Errorf("no production named %q (the manifests have %s)", production, strings.Join(known, ", "))
	}
	n := names.Names{Studio: e.Studio.Studio, Region: e.Studio.Region, LogArchive: e.Studio.LogArchive()}
	v.prod = n.ProductionStack(v.r.Name)
	v.logging = n.LoggingStack()
	v.network = n.NetworkStack()
	if v.r.Pool != nil && (v.r.PooledVpc || v.r.PooledRootKey || v.r.PooledAssetKey || v.r.PooledLoggingKey) {
		v.pool = n.PoolStack(v.r.Pool.Account)
	}
	if v.r.PooledVpc {
		v.link = n.LinkStack(v.pool)
	} else {
		v.link = n.LinkStack(v.prod)
	}
	var missing []string
	for _, n := range []string{v.prod, v.link, v.pool, v.network, v.logging} {
		if n != "" && v.tpls[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the templates of %s are missing: synthesize the whole estate, or at least this production and the shared stacks", strings.Join(missing, ", "))
	}
	return v, nil
}

func (v *view) stackRefs() []StackRef {
	refs := []StackRef{{v.prod, "production: VPC, keys, roles, asset bucket, launch templates"}}
	if v.pool != "" {
		refs = append(refs, StackRef{v.pool, "pool: the shared VPC and keys this production uses"})
	}
	refs = append(refs,
		StackRef{v.link, "link: Transit Gateway association and scheduler access (management account)"},
		StackRef{v.network, "network: management VPC and Transit Gateway"},
		StackRef{v.logging, "logging: central trail, its bucket, key and alarms"},
	)
	return refs
}

func (v *view) t(name string) *template { return v.tpls[name] }

// own are the stacks in the production's account that serve it: its stack,
// and its pool when it uses one.
func (v *view) own() []*template {
	out := []*template{v.t(v.prod)}
	if v.pool != "" {
		out = append(out, v.t(v.pool))
	}
	return out
}

// ownOfType collects resources of the given types across own().
func (v *view) ownOfType(types ...string) []*resource {
	var out []*resource
	for _, t := range v.own() {
		out = append(out, t.ofType(types...)...)
	}
	return out
}

// resolve follows a Ref or Fn::GetAtt in stack to the resource it names. A
// Ref to an SSM parameter the stack reads at deploy time is followed to the
// AWS::SSM::Parameter of that name in another stack of the estate (how
// pooled productions and link stacks reach the pool's and the hub's
// resources).
func (v *view) resolve(stack string, val any) *resource {
	return v.resolveDepth(stack, val, 0)
}

func (v *view) resolveDepth(stack string, val any, depth int) *resource {
	if depth > 4 {
		return nil
	}
	t := v.t(stack)
	id := refID(val)
	if t == nil || id == "" {
		return nil
	}
	if r := t.Resources[id]; r != nil {
		return r
	}
	p := t.Parameters[id]
	if p == nil || !strings.HasPrefix(str(p["Type"]), "AWS::SSM::Parameter::Value") {
		return nil
	}
	path := str(p["Default"])
	if r := v.params[path]; r != nil {
		return v.resolveDepth(r.Stack, r.Props["Value"], depth+1)
	}
	return nil
}

// literal resolves a value to the string it will have at deploy time when
// the templates fix it: a plain string, or a Ref to an SSM parameter another
// stack publishes with a literal value (a pool's storage ranges, say).
func (v *view) literal(stack string, val any) string {
	for depth := 0; depth < 4; depth++ {
		if s, ok := val.(string); ok {
			return s
		}
		t := v.t(stack)
		id := refID(val)
		if t == nil || id == "" {
			return ""
		}
		p := t.Parameters[id]
		if p == nil || !strings.HasPrefix(str(p["Type"]), "AWS::SSM::Parameter::Value") {
			return ""
		}
		r := v.params[str(p["Default"])]
		if r == nil {
			return ""
		}
		stack, val = r.Stack, r.Props["Value"]
	}
	return ""
}

// ev makes an evidence line.
func ev(r *resource, property string, value any) Evidence {
	e := Evidence{Stack: r.Stack, LogicalID: r.ID, Type: r.Type, Property: property}
	if value != nil {
		e.Value = compact(value)
	}
	return e
}

// cite names a resource in a check's detail.
func cite(r *resource) string { return r.Stack + " / " + r.ID + " (" + r.Type + ")" }

// tierText is "Tier 1" and the like.
func (v *view) tierText() string { return "Tier " + strconv.FormatInt(v.r.Tier, 10) }

// others are the other productions of the estate.
func (v *view) others() []manifest.Resolved {
	var out []manifest.Resolved
	for _, r := range v.all {
		if r.Name != v.r.Name {
			out = append(out, r)
		}
	}
	return out
}

// results helpers.

func passed(detail string, evidence ...Evidence) result {
	return result{outcome: Pass, detail: detail, evidence: evidence}
}

func failed(detail string, evidence ...Evidence) result {
	return result{outcome: Fail, detail: detail, evidence: evidence}
}

// verdict passes when problems is empty and fails listing them otherwise.
func verdict(ok string, problems []string, evidence []Evidence) result {
	if len(problems) == 0 {
		return passed(ok, evidence...)
	}
	sort.Strings(problems)
	return failed(strings.Join(problems, "; "), evidence...)
}

// count formats "3 keys" style counts.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
