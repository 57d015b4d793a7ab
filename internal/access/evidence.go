package access

import (
	"fmt"

	"github.com/renderenv/renderenv/internal/evidence"
)

// EvidenceRows returns the matrix as the evidence packs cite it: for each
// production the matrix covers, the rows on its resources and its pool's
// (For) and the report they are written to (<stack>.access.md). A
// production the options left out has no entry: its access checks are
// limited, not failed.
func (m *Matrix) EvidenceRows() map[string]evidence.AccessMatrix {
	out := map[string]evidence.AccessMatrix{}
	for _, p := range m.Estate.Productions() {
		if !m.Estate.covers(m.Options, p) {
			continue
		}
		rep := m.Report(p)
		am := evidence.AccessMatrix{File: rep.Stack + ".access.md", Evaluator: m.Evaluator, Rows: make([]evidence.AccessRow, 0, len(rep.Rows))}
		for _, r := range rep.Rows {
			am.Rows = append(am.Rows, evidence.AccessRow{
				ID: r.Request.ID, Principal: r.Principal.Label, Kind: r.Principal.Kind, Action: r.Action,
				TargetKind: r.Target.Kind, Target: r.Target.Label, TargetRole: m.Estate.roleKindOf(r.Target), Resource: r.Resource,
				Via: r.Via, SourceIP: text(r.Context["aws:SourceIp"]), SourceVpce: text(r.Context["aws:SourceVpce"]),
				Expect: string(r.Expect), Why: r.Why, Decision: r.Decision.Decision, Outside: r.Outside,
			})
		}
		out[p] = am
	}
	return out
}

// roleKindOf is a role target's kind as its name says (key-admin,
// launcher, ...), "" for other targets.
func (e *Estate) roleKindOf(t *Target) string {
	if t.Kind != "role" || t.Resource == nil {
		return ""
	}
	scope := t.Pool
	if len(t.Owners) > 0 {
		scope = t.Owners[0]
	}
	return roleKind(e.Studio, scope, t.Resource)
}

func text(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
