package test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renderenv/renderenv/internal/access"
	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
)

// The access matrix: every request of internal/access (each production's
// roles, the pools', the link stacks' look-ups, and the modelled management
// admin, shared-account admin, look-alike role and CDK deploy role, on every
// production's assets, keys, roles and launch templates) decided by a real
// IAM policy evaluator, @cloud-copilot/iam-simulate, pinned in
// test/access/evaluator/package-lock.json and installed there by npm ci.
// Every cross-production request must be denied and every request a
// production's own roles need allowed.

// accessEstates are the acme fixture (the shipped example's shape) and one
// generated estate: the ones the rule, completeness and reachability tests
// read, so no synthesis of their own.
var accessEstates = checkedEstates

// knownOpen are unexpected allows of today's templates, each a finding
// waiting for its fix. A row matches an entry
// when its principal kind, action, target and origin match the entry's
// patterns (IAM wildcards). An entry no row matches any more is stale: the
// test then asks for its removal, so the list only shrinks. Unexpected
// denies (a production's own role refused what it needs) are never listed.
var knownOpen = []struct {
	finding                   string
	kind, action, target, via string
}{}

// knownIndex returns the knownOpen entry a row matches, or -1.
func knownIndex(r access.Row) int {
	if !r.Allowed() || r.Expect != access.Deny {
		return -1
	}
	for i, k := range knownOpen {
		if r.Principal.Kind == k.kind && cfn.Glob(k.action, r.Action) && cfn.Glob(k.target, r.Target.Label) && cfn.Glob(k.via, r.Via) {
			return i
		}
	}
	return -1
}

var accessEvaluatorOnce struct {
	sync.Once
	ev  access.Evaluator
	err error
}

// accessEvaluator installs the pinned evaluator (npm ci, once) and returns it.
func accessEvaluator(t testing.TB) access.Evaluator {
	t.Helper()
	e := &accessEvaluatorOnce
	e.Do(func() {
		root, err := estate.ProjectRoot()
		if err != nil {
			e.err = err
			return
		}
		if _, err := exec.LookPath("node"); err != nil {
			e.err = fmt.Errorf("the access matrix needs Node.js: %w", err)
			return
		}
		dir := filepath.Join(root, "test", "access", "evaluator")
		if e.err = access.Install(dir); e.err == nil {
			e.ev = access.NodeEvaluator{Dir: dir}
		}
	})
	if e.err != nil {
		t.Fatal(e.err)
	}
	return e.ev
}

// accessOptions are the acme estate in full; of a generated estate, one
// production of each tier and pooling (in the accounts they come in), each
// tried against one neighbour besides its pool's productions (the modelled
// principals against all of them).
func accessOptions(s *Synthesized, e *access.Estate) access.Options {
	if s.Name == acmeEstate.name {
		return access.Options{}
	}
	seen := map[string]bool{}
	var only []string
	for _, p := range s.Manifests.Productions {
		sc := e.Scopes[p.Name]
		if sc == nil {
			continue
		}
		class := fmt.Sprintf("%d/%t", p.Tier, sc.Pool != "")
		if !seen[class] {
			seen[class] = true
			only = append(only, p.Name)
		}
	}
	return access.Options{Neighbours: 1, Only: only}
}

// matrixOf evaluates an estate's matrix, the templates changed by edit
// first when it is not nil, over only some productions when only names any.
func matrixOf(t *testing.T, s *Synthesized, edit func(stack string, template map[string]any), only ...string) *access.Matrix {
	t.Helper()
	e, err := access.Build(s.Assembly, s.Manifests, edit)
	if err != nil {
		t.Fatal(err)
	}
	opt := accessOptions(s, e)
	if len(only) > 0 {
		opt = access.Options{Only: only}
	}
	m, err := access.Evaluate(context.Background(), e, accessEvaluator(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Every cross-production request is denied and every request a
// production's own roles need is allowed, on the acme estate and a
// generated one. The matrices are written to test/out/access/<estate>/.
func TestAccessMatrix(t *testing.T) {
	matched := make([]int, len(knownOpen))
	for _, spec := range accessEstates {
		t.Run(spec.name, func(t *testing.T) {
			s := synth(t, spec)
			start := time.Now()
			m := matrixOf(t, s, nil)
			t.Logf("%d requests decided by %s in %s", len(m.Rows), m.Evaluator, time.Since(start).Round(time.Millisecond))
			root, err := estate.ProjectRoot()
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(root, "test", "out", "access", spec.name)
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := m.Write(out); err != nil {
				t.Fatal(err)
			}
			checkMatrix(t, m, matched)
		})
	}
	if t.Failed() {
		return
	}
	for i, k := range knownOpen {
		if matched[i] == 0 {
			t.Errorf("known open %q matches no unexpected allow any more: it is fixed, take it off knownOpen", k.finding)
		}
	}
}

// checkMatrix fails on every unexpected decision not in knownOpen, and
// counts the rows each knownOpen entry explains.
func checkMatrix(t *testing.T, m *access.Matrix, matched []int) {
	t.Helper()
	allows, denies, residual := 0, 0, 0
	byFinding := map[int][]string{}
	for _, r := range m.Rows {
		if r.Expect == access.Allow {
			allows++
		} else {
			denies++
		}
		if r.Residual() {
			// Only what no template can refuse may be reported as the
			// studio's: an administrator of a shared account, or a role it
			// creates, running the launch templates of its own account.
			residual++
			if (r.Principal.Kind != access.SharedAdmin && r.Principal.Kind != access.LookAlike) || r.Action != access.RunInstances || r.Target.Account != r.Principal.Account {
				t.Errorf("reported outside the templates, but a template could refuse it: %s", r)
			}
		}
		if !r.Unexpected() {
			continue
		}
		if i := knownIndex(r); i >= 0 {
			matched[i]++
			byFinding[i] = append(byFinding[i], r.String())
			continue
		}
		if r.Allowed() {
			t.Errorf("unexpected allow: %s", r)
		} else {
			t.Errorf("unexpected deny: %s", r)
		}
	}
	if allows == 0 || denies == 0 {
		t.Errorf("the matrix holds %d expected allows and %d expected denies: it proves nothing", allows, denies)
	}
	t.Logf("%d requests allowed where no template can refuse them (the studio's: see the reports' \"Outside the templates\")", residual)
	for _, i := range slices.Sorted(maps.Keys(byFinding)) {
		t.Logf("known open, %d rows: %s\n\t%s", len(byFinding[i]), knownOpen[i].finding, strings.Join(byFinding[i], "\n\t"))
	}
}

// One wildcard grant injected into a template shows in the matrix as
// unexpected allows that name the injected statement: the proof can fail.
func TestAccessMatrixFlagsAnInjectedWildcardGrant(t *testing.T) {
	s := synth(t, acmeEstate)
	stack := s.studio() + "-nightfall"
	var keyID, roleID string
	for _, r := range s.Assembly.Stack(stack).OfType("AWS::KMS::Alias") {
		if strings.HasSuffix(r.Name(), "/content-asset") {
			keyID = r.Resolve("TargetKeyId").ID
		}
	}
	for _, r := range s.Assembly.Stack(stack).OfType("AWS::IAM::Role") {
		if strings.HasSuffix(r.Name(), "-key-admin") {
			roleID = r.ID
		}
	}
	if keyID == "" || roleID == "" {
		t.Fatalf("%s has no content-asset key or key-admin role", stack)
	}
	for _, tc := range []struct {
		name, id, document string
		statement          map[string]any
	}{
		{"key policy", keyID, "KeyPolicy", map[string]any{"Sid": "InjectedWildcard", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "kms:*", "Resource": "*"}},
		{"trust policy", roleID, "AssumeRolePolicyDocument", map[string]any{"Sid": "InjectedWildcard", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := matrixOf(t, s, func(name string, tpl map[string]any) {
				if name != stack {
					return
				}
				doc := cfn.AsMap(cfn.AsMap(cfn.AsMap(cfn.AsMap(tpl["Resources"])[tc.id])["Properties"])[tc.document])
				doc["Statement"] = append(cfn.AsList(doc["Statement"]), tc.statement)
			}, "nightfall", "harbour")
			var flagged []string
			cross := false
			for _, r := range m.Rows {
				if !r.Unexpected() || knownIndex(r) >= 0 {
					continue
				}
				for _, d := range r.Decisive {
					if d.Sid == "InjectedWildcard" {
						flagged = append(flagged, r.String())
						cross = cross || r.Principal.Production != "nightfall"
						break
					}
				}
			}
			if len(flagged) == 0 || !cross {
				t.Fatalf("a wildcard grant in %s/%s's %s gives no unexpected allow to a principal of another production or account: %d rows", stack, tc.id, tc.document, len(flagged))
			}
			t.Logf("%d unexpected allows by the injected statement, e.g. %s", len(flagged), flagged[0])
		})
	}
}
