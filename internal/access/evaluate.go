package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Statement is a statement that decided a request.
type Statement struct {
	Kind   string `json:"kind"`   // identity, boundary, resource, endpoint
	Policy string `json:"policy"` // the document's name
	Sid    string `json:"sid,omitempty"`
	Index  int    `json:"index,omitempty"` // 1-based; 0 when no statement of that policy applied
	// Explicit is false for a layer that denied for want of an allow.
	Explicit bool `json:"explicit"`
}

func (s Statement) String() string {
	what := s.Sid
	if what == "" && s.Index > 0 {
		what = fmt.Sprintf("Statement[%d]", s.Index-1)
	}
	switch {
	case !s.Explicit:
		return fmt.Sprintf("%s: no allow (%s)", s.Kind, s.Policy)
	case what == "":
		return fmt.Sprintf("%s %s", s.Kind, s.Policy)
	}
	return fmt.Sprintf("%s %s#%s", s.Kind, s.Policy, what)
}

// Decision is the evaluator's answer to one request.
type Decision struct {
	ID       string      `json:"id"`
	Decision string      `json:"decision"` // Allowed, ExplicitlyDenied, ImplicitlyDenied, Error
	Decisive []Statement `json:"decisive"`
	Ignored  []string    `json:"ignoredContextKeys"`
	Error    string      `json:"error"`
}

// Evaluator decides a batch of requests.
type Evaluator interface {
	// Evaluate returns one decision per request, in order, and the name
	// and version of the evaluator.
	Evaluate(ctx context.Context, reqs []*Request) ([]Decision, string, error)
}

// NodeEvaluator runs evaluate.mjs of Dir (the IAM evaluator the tests pin,
// installed there by Install) once per batch.
type NodeEvaluator struct {
	Dir string
	// Batch is the most requests one process decides; 0: all at once.
	Batch int
}

// Install installs the evaluator's pinned packages in dir with npm ci,
// unless its lockfile is already installed. A go.mod in node_modules keeps
// `go ... ./...` out of it.
func Install(dir string) error {
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("the evaluator's package-lock.json: %w", err)
	}
	installed, err := os.ReadFile(filepath.Join(dir, "node_modules", ".installed-lock.json"))
	if err == nil && bytes.Equal(installed, lock) {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "node_modules", "go.mod"), []byte("module evaluatormodules\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "node_modules", ".installed-lock.json"), lock, 0o644)
}

type wireRequest struct {
	ID              string         `json:"id"`
	Principal       string         `json:"principal"`
	Action          string         `json:"action"`
	Resource        string         `json:"resource"`
	ResourceAccount string         `json:"resourceAccount"`
	Context         map[string]any `json:"context"`
	Identity        []string       `json:"identity"`
	Boundary        []string       `json:"boundary"`
	ResourcePolicy  string         `json:"resourcePolicy"`
	Endpoint        []string       `json:"endpoint"`
}

// Evaluate implements Evaluator.
func (n NodeEvaluator) Evaluate(ctx context.Context, reqs []*Request) ([]Decision, string, error) {
	size := n.Batch
	if size <= 0 {
		size = len(reqs)
	}
	var out []Decision
	name := ""
	for start := 0; start < len(reqs); start += size {
		ds, nm, err := n.batch(ctx, reqs[start:min(len(reqs), start+size)])
		if err != nil {
			return nil, "", err
		}
		out, name = append(out, ds...), nm
	}
	return out, name, nil
}

func (n NodeEvaluator) batch(ctx context.Context, reqs []*Request) ([]Decision, string, error) {
	policies := map[string]any{}
	put := func(d *Doc) string {
		if d == nil {
			return ""
		}
		policies[d.Name] = d.Policy
		return d.Name
	}
	wire := make([]wireRequest, 0, len(reqs))
	for _, r := range reqs {
		w := wireRequest{ID: r.ID, Principal: r.Principal.ARN, Action: r.Action, Resource: r.Resource, ResourceAccount: r.Target.Account,
			Context: r.Context, ResourcePolicy: put(r.Target.Policy), Identity: []string{}, Boundary: []string{}, Endpoint: []string{}}
		if r.Action != AssumeRole && r.Target.Kind == "role" {
			w.ResourcePolicy = ""
		}
		for _, d := range r.Principal.Identity {
			w.Identity = append(w.Identity, put(d))
		}
		for _, d := range r.Principal.Boundary {
			w.Boundary = append(w.Boundary, put(d))
		}
		if r.Endpoint != nil {
			w.Endpoint = append(w.Endpoint, put(r.Endpoint))
		}
		wire = append(wire, w)
	}
	in, err := json.Marshal(map[string]any{"policies": policies, "requests": wire})
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "evaluate.mjs")
	cmd.Dir = n.Dir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("the evaluator (node %s): %w\n%s", filepath.Join(n.Dir, "evaluate.mjs"), err, firstLines(stderr.String(), 20))
	}
	var res struct {
		Evaluator string     `json:"evaluator"`
		Decisions []Decision `json:"decisions"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, "", fmt.Errorf("the evaluator's answer: %w", err)
	}
	if len(res.Decisions) != len(reqs) {
		return nil, "", fmt.Errorf("the evaluator answered %d of %d requests", len(res.Decisions), len(reqs))
	}
	for i, d := range res.Decisions {
		if d.ID != reqs[i].ID {
			return nil, "", errors.New("the evaluator's answers are out of order")
		}
	}
	return res.Decisions, res.Evaluator, nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// Row is one evaluated request.
type Row struct {
	*Request
	Decision
}

// Allowed reports whether the evaluator allowed the request.
func (r Row) Allowed() bool { return r.Decision.Decision == "Allowed" }

// Unexpected reports whether the decision differs from the expectation (an
// evaluator error counts).
func (r Row) Unexpected() bool {
	return r.Decision.Decision == "Error" || (r.Allowed() != (r.Expect == Allow) && !r.Residual())
}

// Residual reports whether the request is allowed though it should not be,
// where no template can decide it (Outside says whose it is).
func (r Row) Residual() bool { return r.Outside != "" && r.Allowed() && r.Expect == Deny }

// Matrix is an evaluated estate.
type Matrix struct {
	Estate *Estate
	// Options are those the matrix was evaluated with.
	Options   Options
	Rows      []Row
	Evaluator string
	Elapsed   time.Duration
}

// Evaluate builds the estate's requests and has ev decide them.
func Evaluate(ctx context.Context, e *Estate, ev Evaluator, opt Options) (*Matrix, error) {
	start := time.Now()
	reqs := e.Requests(opt)
	ds, name, err := ev.Evaluate(ctx, reqs)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Estate: e, Evaluator: name, Options: opt}
	for i, r := range reqs {
		m.Rows = append(m.Rows, Row{Request: r, Decision: ds[i]})
	}
	m.Elapsed = time.Since(start)
	return m, nil
}

// Unexpected returns the rows whose decision is not the expected one.
func (m *Matrix) Unexpected() []Row {
	var out []Row
	for _, r := range m.Rows {
		if r.Unexpected() {
			out = append(out, r)
		}
	}
	return out
}

// For returns the rows on a production's resources, its pool's included.
func (m *Matrix) For(production string) []Row {
	pool := ""
	if sc := m.Estate.Scopes[production]; sc != nil {
		pool = sc.Pool
	}
	var out []Row
	for _, r := range m.Rows {
		if slices.Contains(r.Target.Owners, production) || (pool != "" && r.Target.Pool == pool) {
			out = append(out, r)
		}
	}
	return out
}

// String is one line: who, what, on what, how, the expectation, the
// decision and the statements that decided it.
func (r Row) String() string {
	var dec []string
	for _, s := range r.Decisive {
		dec = append(dec, s.String())
	}
	got := "denied"
	if r.Allowed() {
		got = "ALLOWED"
	}
	if r.Decision.Decision == "Error" {
		got = "error: " + r.Error
	}
	return fmt.Sprintf("%s (%s) %s %s [%s], %s: expected %s (%s), got %s by %s",
		r.Principal.Label, r.Principal.Kind, r.Action, r.Target.Label, r.Resource, r.Via, r.Expect, r.Why, got, strings.Join(dec, "; "))
}
