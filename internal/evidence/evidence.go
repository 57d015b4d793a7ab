// Package evidence builds the audit evidence pack of one production: for
// every control of the ISE "Studio Security Controls for VFX/Rendering"
// checklist (1.1 to 10.11) it says whether the synthesized templates
// implement it, which resources and properties prove it, and what the studio
// must still do.
//
// Nothing here is a hand-written list of claims. Each control has checks
// that read the cloud assembly through internal/cfn (and the manifests, for
// what only they know: accounts, tiers, the other productions), and cites
// the rules of internal/rules that serve it (each rule's Controls). The
// rule set runs once over the assembly; where a rule judges what a check
// claims (IMDSv2, rotation, TLS-only buckets, ...), the rule's findings
// decide the check, so each invariant lives in one rule. A control whose
// check or rule fails is not reported as implemented, and the failure names
// the resources.
//
// The package is plain Go: it reads assemblies someone else synthesized
// (renderenv controls, the CDK app, or tests) and needs no Node.js.
package evidence

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
	"github.com/renderenv/renderenv/internal/rules"
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
	How    string        `json:"how"`
	Checks []CheckResult `json:"checks"`
	// Rules are the rules of the rule set (renderenv check) behind the
	// control: those that serve it and those its checks rest on, with their
	// findings in the production's stacks.
	Rules         []RuleResult `json:"rules"`
	Evidence      []Evidence   `json:"evidence"`
	StudioActions []string     `json:"studioActions"`
}

// CheckResult is one check of a control.
type CheckResult struct {
	Check string `json:"check"`
	// Rules are the IDs of the rules that judge the check, if any.
	Rules   []string `json:"rules,omitempty"`
	Outcome Outcome  `json:"outcome"`
	// Detail says what was found; for a failure, which resources fail.
	Detail string `json:"detail"`
	// Matrix is the access matrix report an access check read
	// (<stack>.access.md), and Requests the IDs of the requests of it the
	// check cites: the Unexpected first, those with another decision than
	// expected.
	Matrix     string   `json:"matrix,omitempty"`
	Requests   []string `json:"requests,omitempty"`
	Unexpected int      `json:"unexpected,omitempty"`

	evidence []Evidence
}

// RuleResult is one rule behind a control: pass when it finds nothing in
// the production's stacks (its own, its pool's, its link's and the shared
// ones), fail with its findings otherwise.
type RuleResult struct {
	ID          string          `json:"id"`
	Description string          `json:"description"`
	Outcome     Outcome         `json:"outcome"`
	Findings    []rules.Finding `json:"findings"`
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

// Problems are the details of the checks that failed or were limited, and
// the findings of the failing rules no failing check already reports: why
// the control is not implemented by the templates.
func (c Control) Problems() []string {
	var out []string
	reported := map[string]bool{}
	for _, r := range c.Checks {
		if r.Outcome == Fail || r.Outcome == Limited {
			out = append(out, r.Detail)
			for _, id := range r.Rules {
				reported[id] = reported[id] || r.Outcome == Fail
			}
		}
	}
	for _, r := range c.Rules {
		if r.Outcome != Fail || reported[r.ID] {
			continue
		}
		for _, f := range r.Findings {
			out = append(out, f.String())
		}
	}
	return out
}

// Report evaluates every control for one production of e against the
// synthesized cloud assembly a (cfn.ReadAssembly). The assembly must hold
// the production's stack, its link stack (and pool, if it uses one) and the
// shared logging and network stacks; other productions' stacks are optional.
//
// Pass the estate as loaded, with every production: the checks compare the
// production with the others (network ranges, shared accounts). For the
// packs of many productions, build one Index and ask it for each.
func Report(a *cfn.Assembly, e *manifest.Estate, production string) (Pack, error) {
	ix, err := NewIndex(a, e)
	if err != nil {
		return Pack{}, err
	}
	return ix.Report(production)
}

// Index is an assembly with what every production's checks share, computed
// once: the rule set's findings by stack and the identity policies by role,
// so that the packs of n productions cost n times one pack, not n times the
// estate.
type Index struct {
	est *manifest.Estate
	all []manifest.Resolved
	a   *cfn.Assembly
	// findings are the rule set's findings by stack name.
	findings map[string][]rules.Finding
	// rolePolicies are the identity policies that apply to each role.
	rolePolicies map[*cfn.Resource][]*cfn.Policy
	// overlaps are the VPCs whose ranges overlap each VPC's.
	overlaps map[*cfn.Resource][]*cfn.Resource
	// intoTable are the findings on Transit Gateway routes, propagations
	// and associations, by the route table they write to: another
	// production's link stack that propagates into a shared route table
	// concerns every production associated with it.
	intoTable map[*cfn.Resource][]rules.Finding
	// shapes are the production stacks by shape (see checkGenerated).
	shapes map[string]*shape
	// access is the access matrix by production (see SetAccess); nil when
	// it was not computed.
	access map[string]AccessMatrix
}

// NewIndex runs the rule set over a once and indexes it (see Report).
func NewIndex(a *cfn.Assembly, e *manifest.Estate) (*Index, error) {
	if e == nil {
		return nil, fmt.Errorf("evidence: no manifests")
	}
	if a == nil {
		return nil, fmt.Errorf("evidence: no cloud assembly")
	}
	ix := &Index{est: e, all: e.Resolved(), a: a, findings: map[string][]rules.Finding{}, rolePolicies: map[*cfn.Resource][]*cfn.Policy{}}
	ix.overlaps = vpcOverlaps(a)
	ix.shapes = shapes(a, e.Studio.Studio, ix.all)
	ix.intoTable = map[*cfn.Resource][]rules.Finding{}
	for _, f := range rules.Run(a) {
		ix.findings[f.Stack] = append(ix.findings[f.Stack], f)
		if r := a.Stack(f.Stack).Resource(f.LogicalID); r != nil && strings.HasPrefix(r.Type, "AWS::EC2::TransitGatewayRoute") {
			if rt := r.Resolve("TransitGatewayRouteTableId"); rt != nil {
				ix.intoTable[rt] = append(ix.intoTable[rt], f)
			}
		}
	}
	for _, p := range a.Policies() {
		if p.Kind != cfn.Identity {
			continue
		}
		for _, role := range p.Roles {
			ix.rolePolicies[role] = append(ix.rolePolicies[role], p)
		}
	}
	return ix, nil
}

// ofType returns the resources of the given types in every stack.
func (ix *Index) ofType(types ...string) []*cfn.Resource {
	if len(types) == 0 {
		return nil
	}
	return ix.a.Resources(types...)
}

// types returns the resource types present whose names start with prefix.
func (ix *Index) types(prefix string) []string {
	var out []string
	for _, t := range ix.a.Types() {
		if strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
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
		Note:       "Derived from the synthesized templates: every status below is the result of checks over the CloudFormation resources renderenv generates for this production (and the manifests, for accounts, tiers and the other productions) and of the rules of renderenv check that serve the control, whose IDs each control cites. Nothing here was observed in a deployed account.",
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
	// rules are the rules of internal/rules that judge what the check
	// claims. Their findings in the production's stacks fail the check;
	// run then only cites the evidence and adds what only the manifests
	// can tell (which production a key belongs to, say).
	rules []string
}

// result is what a check found.
type result struct {
	outcome  Outcome
	detail   string
	evidence []Evidence
	// matrix, requests and unexpected: the access matrix report, the IDs
	// of its requests an access check cites, and how many of the first
	// are unexpected.
	matrix     string
	requests   []string
	unexpected int
}

// controlRules are the rules that serve each control, from the rules' own
// Controls: the rule set says which controls a rule serves, the catalogue
// does not repeat it.
var controlRules = func() map[string][]rules.Rule {
	out := map[string][]rules.Rule{}
	for _, r := range rules.All() {
		for _, c := range r.Controls {
			out[c] = append(out[c], r)
		}
	}
	return out
}()

// ruleIDs are the rules behind a control: those that serve it, and those its
// checks rest on, by ID.
func (d definition) ruleIDs() []string {
	var ids []string
	for _, r := range controlRules[d.id] {
		ids = append(ids, r.ID)
	}
	for _, ch := range d.checks {
		ids = append(ids, ch.rules...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// computeChecks are the checks of render compute: launch templates, the
// launcher and the render nodes. A closing production has none, by design,
// so they do not apply to it; the rules still judge whatever remains.
var computeChecks = map[string]bool{
	ckNoPublicIP.name: true, ckNoKeyPair.name: true, ckSsmRole.name: true, ckImage.name: true,
	ckImds.name: true, ckVolumesEncrypted.name: true, ckLauncher.name: true, ckBoundary.name: true,
	ckRenderEgress.name: true, ckDeleteVolumes.name: true, ckNodesTerminate.name: true, ckRenderLogs.name: true,
}

// runCheck runs a check and lets its rules' findings decide: a finding fails
// it, and the evidence of a resource with a finding is left out.
func (v *view) runCheck(ch check) CheckResult {
	var r result
	if v.r.Closing() && computeChecks[ch.name] {
		r = result{outcome: NotUsed, detail: fmt.Sprintf("%s is %s: its launch templates and launcher role are removed, so it has no render compute (ISE 6.2)", v.r.Name, v.r.State())}
	} else {
		r = ch.run(v)
	}
	if r.outcome == "" {
		r.outcome = Pass
	}
	if found := v.findingsOf(ch.rules...); len(found) > 0 {
		failing := map[[2]string]bool{}
		var lines []string
		for _, f := range found {
			failing[[2]string{f.Stack, f.LogicalID}] = true
			lines = append(lines, f.String())
		}
		if r.outcome == Fail || r.outcome == Limited {
			lines = append(lines, r.detail)
		}
		r.outcome, r.detail = Fail, strings.Join(lines, "; ")
		r.evidence = slices.DeleteFunc(r.evidence, func(e Evidence) bool { return failing[[2]string{e.Stack, e.LogicalID}] })
	}
	return CheckResult{Check: ch.name, Rules: ch.rules, Outcome: r.outcome, Detail: r.detail, Matrix: r.matrix, Requests: r.requests, Unexpected: r.unexpected, evidence: r.evidence}
}

func (d definition) evaluate(v *view) Control {
	c := Control{ID: d.id, Area: d.area, Title: d.title, Scope: d.scope, How: d.how, Rules: []RuleResult{}}
	var pass, fail, limited, positive int
	seen := map[Evidence]bool{}
	for _, ch := range d.checks {
		r := v.runCheck(ch)
		c.Checks = append(c.Checks, r)
		switch r.Outcome {
		case Pass:
			pass++
		case Fail:
			fail++
		case Limited:
			limited++
		}
		if len(r.evidence) > 0 && r.Outcome != NotUsed {
			positive++
		}
		for _, e := range r.evidence {
			if !seen[e] {
				seen[e] = true
				c.Evidence = append(c.Evidence, e)
			}
		}
	}
	// A rule that fails in the production's stacks keeps the control from
	// being implemented, whether or not a check rests on it. A rule that
	// holds proves nothing by itself here (it holds, too, where there is
	// nothing to check): the checks say what is there.
	for _, id := range d.ruleIDs() {
		rule, _ := rules.Lookup(id)
		rr := RuleResult{ID: id, Description: rule.Description, Outcome: Pass, Findings: v.findingsOf(id)}
		if len(rr.Findings) > 0 {
			rr.Outcome = Fail
			fail++
		} else {
			rr.Findings = []rules.Finding{}
		}
		c.Rules = append(c.Rules, rr)
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
	// dr and exchange are its data path stacks, "" without ingest or vendors.
	dr, exchange string
	// findings are the rule set's findings in those stacks, by rule.
	findings map[string][]rules.Finding
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
	scope := map[string]bool{}
	v.findings = map[string][]rules.Finding{}
	if v.r.Ingest != nil {
		v.dr = n.DrStack(v.r.Name)
	}
	if len(v.r.Vendors) > 0 {
		v.exchange = n.ExchangeStack(v.r.Name)
	}
	for _, n := range []string{v.prod, v.link, v.pool, v.network, v.logging, v.dr, v.exchange} {
		if n == "" {
			continue
		}
		if v.t(n) == nil {
			missing = append(missing, n)
		}
		scope[n] = true
		for _, f := range ix.findings[n] {
			v.findings[f.Rule] = append(v.findings[f.Rule], f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the templates of %s are missing: synthesize the whole estate, or at least this production and the shared stacks", strings.Join(missing, ", "))
	}
	// What other stacks write into the route tables the production's
	// attachment is associated with.
	tables := map[*cfn.Resource]bool{}
	for _, as := range v.t(v.link).OfType("AWS::EC2::TransitGatewayRouteTableAssociation") {
		rt := as.Resolve("TransitGatewayRouteTableId")
		if tables[rt] {
			continue
		}
		tables[rt] = true
		for _, f := range ix.intoTable[rt] {
			if !scope[f.Stack] {
				v.findings[f.Rule] = append(v.findings[f.Rule], f)
			}
		}
	}
	return v, nil
}

// findingsOf returns the findings of the given rules in the production's
// stacks.
func (v *view) findingsOf(ids ...string) []rules.Finding {
	var out []rules.Finding
	for _, id := range ids {
		out = append(out, v.findings[id]...)
	}
	return out
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
	if v.dr != "" {
		refs = append(refs, StackRef{v.dr, "DR: the asset bucket's replica and its key, in the ingest.drRegion"})
	}
	if v.exchange != "" {
		refs = append(refs, StackRef{v.exchange, "exchange: the vendors' bucket, its key and the vendor roles (exchange account)"})
	}
	return refs
}

// t returns the stack named name, or nil.
func (v *view) t(name string) *cfn.Stack { return v.a.Stack(name) }

// own are the stacks in the production's account that serve it: its stack,
// and its pool when it uses one.
func (v *view) own() []*cfn.Stack {
	out := []*cfn.Stack{v.t(v.prod)}
	if v.pool != "" {
		out = append(out, v.t(v.pool))
	}
	return out
}

// ownOfType collects resources of the given types across own().
func (v *view) ownOfType(types ...string) []*cfn.Resource {
	var out []*cfn.Resource
	for _, t := range v.own() {
		out = append(out, t.OfType(types...)...)
	}
	return out
}

// literal is the text a value will have at deploy time when the templates
// fix it (a plain string, or an SSM parameter another stack publishes with
// a literal value, such as a pool's storage ranges), else "".
func literal(s *cfn.Stack, val any) string {
	if text, ok := s.Literal(val); ok {
		return text
	}
	return ""
}

// ev makes an evidence line.
func ev(r *cfn.Resource, property string, value any) Evidence {
	e := Evidence{Stack: r.Stack.Name, LogicalID: r.ID, Type: r.Type, Property: property}
	if value != nil {
		e.Value = cfn.Compact(value)
	}
	return e
}

// cite names a resource in a check's detail.
func cite(r *cfn.Resource) string { return r.Stack.Name + " / " + r.ID + " (" + r.Type + ")" }

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
