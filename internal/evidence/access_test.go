package evidence

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/rules"
)

// Unit tests of the access checks over synthetic matrix rows: no synthesis,
// no evaluator. The end-to-end proof, with the real evaluator over edited
// templates, is test/evidence_access_test.go.

// accessControls are the controls whose claims cite the access matrix.
var accessControls = []string{"1.3", "5.1", "7.1", "9.2", "9.3", "10.1"}

const (
	outside = "203.0.113.200"
	admin   = "198.51.100.10"
	vpce    = "vpce-0123456789abcdef0"
)

// syntheticRows are a matrix of nightfall in which every request got its
// expected decision, with at least one row for each access check.
func syntheticRows() []AccessRow {
	row := func(id, principal, kind, action, targetKind, target, targetRole, ip, endpoint, expect, decision string) AccessRow {
		return AccessRow{ID: id, Principal: principal, Kind: kind, Action: action, TargetKind: targetKind, Target: target, TargetRole: targetRole,
			Resource: "arn:" + target, Via: "via " + id, SourceIP: ip, SourceVpce: endpoint, Expect: expect, Why: "because " + id, Decision: decision}
	}
	const allow, deny, allowed, denied = "allow", "deny", "Allowed", "ImplicitlyDenied"
	assets := "acme-nightfall-assets-333333333333-us-west-2"
	key := "alias/acme-nightfall/content-asset"
	return []AccessRow{
		// 1.3: sessions from outside the admin ranges.
		row("mgmt-outside-assume-key-admin", "any admin role of the management account", "management-admin", "sts:AssumeRole", "role", "acme-nightfall-key-admin", "key-admin", outside, "", deny, denied),
		row("operator-outside-get", "acme-nightfall-data-operator", "data-operator", "s3:GetObject", "assets", assets, "", outside, "", deny, "ExplicitlyDenied"),
		// 5.1
		row("operator-get", "acme-nightfall-data-operator", "data-operator", "s3:GetObject", "assets", assets, "", admin, "", allow, allowed),
		row("render-put", "acme-nightfall-render", "render", "s3:PutObject", "assets", assets, "", "", vpce, allow, allowed),
		row("harbour-get", "acme-harbour-data-operator", "data-operator", "s3:GetObject", "assets", assets, "", admin, "", deny, denied),
		// 7.1
		row("scheduler-assume-launcher", "scheduler acme-scheduler", "scheduler", "sts:AssumeRole", "role", "acme-nightfall-launcher", "launcher", "", "", allow, allowed),
		row("mgmt-assume-data-operator", "any admin role of the management account", "management-admin", "sts:AssumeRole", "role", "acme-nightfall-data-operator", "data-operator", admin, "", deny, denied),
		// 9.2 and 9.3
		row("render-decrypt", "acme-nightfall-render", "render", "kms:Decrypt", "key", key, "", "", "", allow, allowed),
		row("harbour-decrypt", "acme-harbour-render", "render", "kms:Decrypt", "key", key, "", "", vpce, deny, denied),
		row("key-admin-decrypt", "acme-nightfall-key-admin", "key-admin", "kms:Decrypt", "key", key, "", admin, "", deny, denied),
		row("key-admin-put-policy", "acme-nightfall-key-admin", "key-admin", "kms:PutKeyPolicy", "key", key, "", admin, "", allow, allowed),
		row("render-put-policy", "acme-nightfall-render", "render", "kms:PutKeyPolicy", "key", key, "", "", vpce, deny, denied),
		// 10.1
		row("launcher-run", "acme-nightfall-launcher", "launcher", "ec2:RunInstances", "launch-template", "acme-nightfall-render-c6i", "", "", vpce, allow, allowed),
		row("harbour-launcher-run", "acme-harbour-launcher", "launcher", "ec2:RunInstances", "launch-template", "acme-nightfall-render-c6i", "", "", vpce, deny, denied),
	}
}

// accessView is a view of nightfall whose index holds the given matrix
// (none when rows is nil) and nothing else.
func accessView(rows []AccessRow) *view {
	ix := &Index{}
	if rows != nil {
		ix.SetAccess(map[string]AccessMatrix{"nightfall": {File: "acme-nightfall.access.md", Evaluator: "test evaluator", Rows: rows}})
	}
	studio := &manifest.Studio{AdminSourceCidrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	return &view{Index: ix, studio: studio, r: manifest.Resolved{Production: manifest.Production{Name: "nightfall"}}, findings: map[string][]rules.Finding{}}
}

// accessDefinition is a control of the catalogue with only its access
// check, so that its status depends on the matrix alone.
func accessDefinition(t *testing.T, id string) (definition, check) {
	t.Helper()
	for _, d := range catalogue {
		if d.id != id {
			continue
		}
		for _, ch := range d.checks {
			if strings.HasPrefix(ch.name, "the access matrix ") {
				d.checks = []check{ch}
				d.studioFor = nil
				return d, ch
			}
		}
		t.Fatalf("control %s has no access check", id)
	}
	t.Fatalf("no control %s", id)
	return definition{}, check{}
}

// evaluateAccess evaluates a control with only its access check; the rules
// behind the control find nothing (no templates).
func evaluateAccess(t *testing.T, id string, rows []AccessRow) (Control, CheckResult) {
	t.Helper()
	d, _ := accessDefinition(t, id)
	c := d.evaluate(accessView(rows))
	if len(c.Checks) != 1 {
		t.Fatalf("%s: %d checks", id, len(c.Checks))
	}
	return c, c.Checks[0]
}

func TestAccessClaimsPassWhenEveryRequestMatches(t *testing.T) {
	for _, id := range accessControls {
		c, r := evaluateAccess(t, id, syntheticRows())
		if r.Outcome != Pass {
			t.Errorf("%s %q = %s: %s", id, r.Check, r.Outcome, r.Detail)
			continue
		}
		if want := Implemented; c.Scope == scopeShared {
			want = Partial
			if c.Status != want {
				t.Errorf("%s (shared) = %s, want %s", id, c.Status, want)
			}
		} else if c.Status != want {
			t.Errorf("%s = %s, want %s: %v", id, c.Status, want, c.Problems())
		}
		if r.Matrix != "acme-nightfall.access.md" || len(r.Requests) == 0 || r.Unexpected != 0 || !strings.Contains(r.Detail, "of acme-nightfall.access.md") {
			t.Errorf("%s cites %q, %v: %s", id, r.Matrix, r.Requests, r.Detail)
		}
	}
	// Each check selects what its claim is about, and no more.
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{"1.3", []string{"mgmt-outside-assume-key-admin", "operator-outside-get"}},
		{"5.1", []string{"operator-outside-get", "operator-get", "render-put", "harbour-get"}},
		{"7.1", []string{"mgmt-outside-assume-key-admin", "scheduler-assume-launcher", "mgmt-assume-data-operator"}},
		{"9.2", []string{"render-decrypt", "harbour-decrypt", "key-admin-decrypt", "key-admin-put-policy", "render-put-policy"}},
		{"9.3", []string{"key-admin-decrypt", "key-admin-put-policy", "render-put-policy"}},
		{"10.1", []string{"launcher-run", "harbour-launcher-run"}},
	} {
		_, r := evaluateAccess(t, tc.id, syntheticRows())
		if !slices.Equal(r.Requests, tc.want) {
			t.Errorf("%s selects %v, want %v", tc.id, r.Requests, tc.want)
		}
	}
	_, r := evaluateAccess(t, "9.3", syntheticRows())
	if want := "3 requests of acme-nightfall.access.md, decided by test evaluator: 1 expected allow allowed, 2 expected denies denied"; r.Detail != want {
		t.Errorf("9.3's detail = %q, want %q", r.Detail, want)
	}
}

func TestAccessClaimsFailOnAnUnexpectedDecision(t *testing.T) {
	for _, id := range accessControls {
		_, ok := evaluateAccess(t, id, syntheticRows())
		for _, flip := range []struct {
			name   string
			expect string
			to     string
		}{{"unexpected allow", "deny", "Allowed"}, {"unexpected deny", "allow", "ExplicitlyDenied"}} {
			rows := syntheticRows()
			i := slices.IndexFunc(rows, func(r AccessRow) bool { return slices.Contains(ok.Requests, r.ID) && r.Expect == flip.expect })
			if i < 0 {
				// No such request in the selection (1.3 expects only
				// denies): make one of its requests expect the other.
				i = slices.IndexFunc(rows, func(r AccessRow) bool { return r.ID == ok.Requests[0] })
				rows[i].Expect = flip.expect
			}
			rows[i].Decision = flip.to
			c, r := evaluateAccess(t, id, rows)
			if r.Outcome != Fail {
				t.Errorf("%s with an %s: %q = %s: %s", id, flip.name, r.Check, r.Outcome, r.Detail)
			}
			if c.Status == Implemented {
				t.Errorf("%s with an %s is implemented", id, flip.name)
			}
			if len(r.Requests) == 0 || r.Requests[0] != rows[i].ID || r.Unexpected != 1 {
				t.Errorf("%s with an %s does not cite %s first: %v", id, flip.name, rows[i].ID, r.Requests)
			}
			for _, want := range []string{rows[i].Principal, rows[i].Action, rows[i].Target, "expected " + rows[i].Expect, "1 request of "} {
				if !strings.Contains(r.Detail, want) {
					t.Errorf("%s with an %s: the detail does not say %q: %s", id, flip.name, want, r.Detail)
				}
			}
			if !slices.Contains(c.Problems(), r.Detail) {
				t.Errorf("%s with an %s: the problems do not list the failure: %v", id, flip.name, c.Problems())
			}
		}
	}
}

func TestAccessClaimsFailOnAnEmptySelection(t *testing.T) {
	for _, id := range accessControls {
		_, ok := evaluateAccess(t, id, syntheticRows())
		rows := slices.DeleteFunc(syntheticRows(), func(r AccessRow) bool { return slices.Contains(ok.Requests, r.ID) })
		c, r := evaluateAccess(t, id, rows)
		if r.Outcome != Fail || !strings.Contains(r.Detail, "proves nothing") || c.Status == Implemented {
			t.Errorf("%s with no request to judge = %s (%s): %s", id, r.Outcome, c.Status, r.Detail)
		}
		// An empty matrix is a computed one: the same.
		if _, r := evaluateAccess(t, id, []AccessRow{}); r.Outcome != Fail {
			t.Errorf("%s with an empty matrix = %s: %s", id, r.Outcome, r.Detail)
		}
	}
}

func TestAccessClaimsLimitedWithoutAMatrix(t *testing.T) {
	for _, id := range accessControls {
		c, r := evaluateAccess(t, id, nil)
		if r.Outcome != Limited || c.Status != Partial {
			t.Errorf("%s without a matrix = %s, check %s", id, c.Status, r.Outcome)
		}
		for _, want := range []string{"unproven until the access matrix is computed", "RENDERENV_ACCESS_EVALUATOR", "make access"} {
			if !strings.Contains(r.Detail, want) {
				t.Errorf("%s without a matrix: the detail does not say %q: %s", id, want, r.Detail)
			}
		}
		if len(r.Requests) != 0 || r.Matrix != "" {
			t.Errorf("%s without a matrix cites %q %v", id, r.Matrix, r.Requests)
		}
	}
	// Another production's matrix is not this one's.
	v := accessView(syntheticRows())
	v.r.Name = "harbour"
	d, _ := accessDefinition(t, "9.2")
	if c := d.evaluate(v); c.Checks[0].Outcome != Limited {
		t.Errorf("harbour, whose matrix was not computed, = %s", c.Checks[0].Outcome)
	}
}

// Every access control of the catalogue has an access check, and the pack
// renders its cited requests.
func TestAccessCheckRendering(t *testing.T) {
	rows := syntheticRows()
	rows[len(rows)-1].Decision = "Allowed"
	d, _ := accessDefinition(t, "10.1")
	c := d.evaluate(accessView(rows))
	p := Pack{Studio: "acme", Production: "nightfall", Controls: []Control{c}}
	md := p.Markdown()
	for _, want := range []string{"- **FAIL**: the access matrix lets only the production's launcher run its launch templates.",
		"  - unexpected: `harbour-launcher-run`\n", "  - *Cites* 2 requests of `acme-nightfall.access.md` (their IDs are in the JSON pack).\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown does not show %q:\n%s", want, md)
		}
	}
	js, err := p.JSON()
	if strings.Contains(md, "unexpected: `launcher-run`") {
		t.Errorf("the Markdown lists an expected request as unexpected:\n%s", md)
	}
	if err != nil || !strings.Contains(string(js), `"matrix": "acme-nightfall.access.md"`) || !strings.Contains(string(js), `"launcher-run"`) || !strings.Contains(string(js), `"unexpected": 1`) {
		t.Errorf("the JSON does not cite the matrix (%v):\n%s", err, js)
	}
}

// A request no template can refuse (an administrator of a shared account
// running its launch templates) is reported as the studio's residual risk:
// the claim is limited, not passed, and not failed; marking a request
// outside the templates never hides one that should have been allowed.
func TestAccessClaimsLimitedByResidualAllows(t *testing.T) {
	rows := append(syntheticRows(), AccessRow{ID: "shared-admin-run", Principal: "admin of shared account 333333333333", Kind: "shared-admin",
		Action: "ec2:RunInstances", TargetKind: "launch-template", Target: "acme-nightfall-render-c6i", Expect: "deny", Why: "not a principal of nightfall",
		Decision: "Allowed", Outside: "the studio's: an SCP"})
	c, r := evaluateAccess(t, "10.1", rows)
	if r.Outcome != Limited || c.Status == Implemented || !strings.Contains(r.Detail, "1 request allowed where no template can refuse them, the studio's: an SCP") || !strings.Contains(r.Detail, "shared-admin-run") && !strings.Contains(r.Detail, "admin of shared account") {
		t.Errorf("10.1 with a residual allow: %s (%s): %s", r.Outcome, c.Status, r.Detail)
	}
	rows[len(rows)-1].Expect, rows[len(rows)-1].Decision = "allow", "ImplicitlyDenied"
	if _, r := evaluateAccess(t, "10.1", rows); r.Outcome != Fail {
		t.Errorf("an expected allow denied, marked outside the templates: %s: %s", r.Outcome, r.Detail)
	}
}
