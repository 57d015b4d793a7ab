package evidence

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/names"
)

// The access checks: claims about who may do what (1.3, 5.1, 7.1, 9.2, 9.3,
// 10.1) that the templates' properties only suggest and the access matrix
// proves. The matrix (internal/access, written as <stack>.access.md) is
// every request on a production's resources decided by an IAM policy
// evaluator over the templates; each check selects the requests that bear
// on its claim, by principal kind, action and target, and passes only when
// every one got the decision expected. internal/access converts its rows to
// AccessRow (Matrix.EvidenceRows): this package does not import it, so the
// evidence stays plain Go with no evaluator behind it.

// AccessRow is one request of the access matrix, as the evidence cites it.
type AccessRow struct {
	// ID is the request's ID in the matrix: principal ARN, action,
	// resource and origin.
	ID        string `json:"id"`
	Principal string `json:"principal"` // the role name, or what a modelled principal stands for
	// Kind is the principal's kind: key-admin, data-operator, render, ...,
	// or a modelled kind (management-admin, shared-admin, cfn-exec, ...).
	Kind   string `json:"principalKind"`
	Action string `json:"action"`
	// TargetKind is what the request acts on: assets, key, role or
	// launch-template.
	TargetKind string `json:"targetKind"`
	Target     string `json:"target"` // the bucket, the key's aliases, the role's or template's name
	// TargetRole is a role target's kind, as its name says (key-admin,
	// launcher, ...); "" for other targets.
	TargetRole string `json:"targetRole,omitempty"`
	Resource   string `json:"resource"`
	// Via says where the call comes from; SourceIP and SourceVpce are its
	// aws:SourceIp and aws:SourceVpce, when it has them.
	Via        string `json:"via"`
	SourceIP   string `json:"sourceIp,omitempty"`
	SourceVpce string `json:"sourceVpce,omitempty"`
	Expect     string `json:"expected"` // allow or deny
	// Outside, when not empty, says why no template can decide the
	// request and whose it is: an allow is a residual risk, not a failure.
	Outside string `json:"outsideTheTemplates,omitempty"`
	Why     string `json:"why"`
	// Decision is the evaluator's: Allowed, ExplicitlyDenied,
	// ImplicitlyDenied or Error.
	Decision string `json:"decision"`
}

// allowed reports whether the evaluator allowed the request.
func (r AccessRow) allowed() bool { return r.Decision == "Allowed" }

// unexpected reports whether the decision is not the expected one (an
// evaluator error counts).
func (r AccessRow) unexpected() bool {
	return r.Decision == "Error" || (r.allowed() != (r.Expect == "allow") && !r.residual())
}

// residual reports whether the request is allowed where no template can
// refuse it (Outside says whose it is).
func (r AccessRow) residual() bool { return r.Outside != "" && r.allowed() && r.Expect == "deny" }

func (r AccessRow) String() string {
	got := "denied"
	switch {
	case r.Decision == "Error":
		got = "an evaluator error"
	case r.allowed():
		got = "allowed"
	}
	return fmt.Sprintf("%s (%s) %s on %s, %s: %s, expected %s (%s)", r.Principal, r.Kind, r.Action, r.Target, r.Via, got, r.Expect, r.Why)
}

// AccessMatrix is one production's part of the access matrix: the requests
// on its resources and on its pool's.
type AccessMatrix struct {
	// File is the report the rows were written to, <stack>.access.md.
	File      string      `json:"file"`
	Evaluator string      `json:"evaluator"`
	Rows      []AccessRow `json:"rows"`
}

// SetAccess gives the index the access matrix, by production. A production
// without an entry has no matrix: its access checks are limited. A nil map
// takes the matrix away.
func (ix *Index) SetAccess(m map[string]AccessMatrix) { ix.access = m }

// unproven is the detail of an access check without a matrix.
const unproven = "the claim is unproven until the access matrix is computed: synthesize with RENDERENV_ACCESS_EVALUATOR naming the IAM evaluator's folder (test/access/evaluator, after npm ci there), which writes <stack>.access.md beside this pack and lets these checks cite it; `make access` computes the same matrix in the tests"

// accessCheck makes a check that selects a production's matrix rows and
// passes when every one got its expected decision.
func accessCheck(name string, selects func(v *view, r AccessRow) bool) check {
	return check{name: name, run: func(v *view) result { return v.accessVerdict(selects) }}
}

// accessVerdict judges the rows selects picks from the production's matrix.
func (v *view) accessVerdict(selects func(v *view, r AccessRow) bool) result {
	m, ok := v.access[v.r.Name]
	if !ok {
		return result{outcome: Limited, detail: unproven}
	}
	var picked, wrong []AccessRow
	for _, r := range m.Rows {
		if selects(v, r) {
			picked = append(picked, r)
			if r.unexpected() {
				wrong = append(wrong, r)
			}
		}
	}
	res := result{matrix: m.File, unexpected: len(wrong)}
	for _, r := range wrong {
		res.requests = append(res.requests, r.ID)
	}
	if len(picked) == 0 {
		res.outcome, res.detail = Fail, fmt.Sprintf("%s holds no request this check selects, so it proves nothing: the matrix does not try the claim", m.File)
		return res
	}
	allows, denies := 0, 0
	for _, r := range picked {
		if r.Expect == "allow" {
			allows++
		} else {
			denies++
		}
		if !r.unexpected() {
			res.requests = append(res.requests, r.ID)
		}
	}
	if len(wrong) > 0 {
		lines := make([]string, 0, len(wrong))
		for _, r := range wrong {
			lines = append(lines, r.String())
		}
		res.outcome = Fail
		res.detail = fmt.Sprintf("%s of %s of %s got another decision than expected: %s",
			count(len(wrong), "request", "requests"), count(len(picked), "request", "requests"), m.File, strings.Join(lines, "; "))
		return res
	}
	var residual []AccessRow
	for _, r := range picked {
		if r.residual() {
			residual = append(residual, r)
		}
	}
	res.outcome = Pass
	res.detail = fmt.Sprintf("%s of %s, decided by %s: %s, %s",
		count(len(picked), "request", "requests"), m.File, m.Evaluator,
		count(allows, "expected allow allowed", "expected allows allowed"), count(denies-len(residual), "expected deny denied", "expected denies denied"))
	if len(residual) > 0 {
		lines := make([]string, 0, len(residual))
		for _, r := range residual {
			lines = append(lines, r.String())
		}
		res.outcome = Limited
		res.detail += fmt.Sprintf("; %s allowed where no template can refuse them, %s: %s", count(len(residual), "request", "requests"), residual[0].Outside, strings.Join(lines, "; "))
	}
	return res
}

// fromOutside reports whether a request comes from outside the studio's
// admin ranges and not through a VPC endpoint.
func (v *view) fromOutside(r AccessRow) bool {
	if r.SourceVpce != "" || r.SourceIP == "" {
		return false
	}
	ip, err := netip.ParseAddr(r.SourceIP)
	if err != nil {
		return false
	}
	return !slices.ContainsFunc(v.studio.AdminSourceCidrs, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// peopleRoles are the kinds of the roles people assume.
var peopleRoles = []string{names.KeyAdmin, names.DataOperator, names.LogReader}

func isS3Object(action string) bool { return action == "s3:GetObject" || action == "s3:PutObject" }

// The access checks of the catalogue.
var (
	ckAccessOrigins = accessCheck("the access matrix denies people's roles and data from outside the admin ranges", func(v *view, r AccessRow) bool {
		people := r.TargetKind == "role" && r.Action == "sts:AssumeRole" && slices.Contains(peopleRoles, r.TargetRole)
		data := r.Kind == names.DataOperator && strings.HasPrefix(r.Action, "s3:")
		return (people || data) && v.fromOutside(r)
	})
	ckAccessAssets = accessCheck("the access matrix gives the assets to the production's data roles only", func(v *view, r AccessRow) bool {
		return r.TargetKind == "assets" && isS3Object(r.Action)
	})
	ckAccessRoles = accessCheck("the access matrix lets only the intended principals assume the production's roles", func(v *view, r AccessRow) bool {
		return r.TargetKind == "role" && r.Action == "sts:AssumeRole"
	})
	ckAccessKeys = accessCheck("the access matrix gives the production's keys to their intended users only", func(v *view, r AccessRow) bool {
		return r.TargetKind == "key" && strings.HasPrefix(r.Action, "kms:")
	})
	ckAccessKeyAdmin = accessCheck("the access matrix denies key administrators the use of keys, and others their administration", func(v *view, r AccessRow) bool {
		return r.TargetKind == "key" && (r.Kind == names.KeyAdmin && strings.HasPrefix(r.Action, "kms:") || r.Action == "kms:PutKeyPolicy")
	})
	ckAccessLaunch = accessCheck("the access matrix lets only the production's launcher run its launch templates", func(v *view, r AccessRow) bool {
		return r.TargetKind == "launch-template" && r.Action == "ec2:RunInstances"
	})
)
