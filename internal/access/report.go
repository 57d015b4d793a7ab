package access

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// shownContext are the context keys the report shows (the rest are the
// same for every row: principal, accounts, organization, TLS).
var shownContext = []string{"aws:SourceVpce", "aws:SourceIp", "aws:MultiFactorAuthPresent", "kms:ViaService", "kms:GrantIsForAWSResource",
	"s3:x-amz-server-side-encryption-aws-kms-key-id", "ec2:LaunchTemplate", "aws:CalledViaFirst"}

// contextText is the part of a request's context that varies.
func (r Row) contextText() string {
	var out []string
	for _, k := range shownContext {
		if v, ok := r.Context[k]; ok {
			out = append(out, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(out, " ")
}

func (r Row) decisive() []string {
	out := make([]string, 0, len(r.Decisive))
	for _, s := range r.Decisive {
		out = append(out, s.String())
	}
	return out
}

func (r Row) decisionText() string {
	switch {
	case r.Decision.Decision == "Error":
		return "error: " + r.Error
	case r.Allowed():
		return "allowed"
	}
	return "denied"
}

// jsonRow is a row as .access.json writes it.
type jsonRow struct {
	Principal    string         `json:"principal"`
	PrincipalArn string         `json:"principalArn"`
	Kind         string         `json:"principalKind"`
	Action       string         `json:"action"`
	Target       string         `json:"target"`
	Resource     string         `json:"resource"`
	Via          string         `json:"via"`
	Context      map[string]any `json:"context"`
	Expected     Expect         `json:"expected"`
	Why          string         `json:"why"`
	Decision     string         `json:"decision"`
	Unexpected   bool           `json:"unexpected"`
	Outside      string         `json:"outsideTheTemplates,omitempty"`
	Decisive     []Statement    `json:"decisive"`
	Ignored      []string       `json:"ignoredContextKeys,omitempty"`
}

// Report is one production's matrix: the requests on its resources.
type Report struct {
	Stack      string   `json:"stack"`
	Production string   `json:"production"`
	Evaluator  string   `json:"evaluator"`
	Modelling  []string `json:"modelling"`
	Requests   int      `json:"requests"`
	Unexpected int      `json:"unexpected"`
	// Residual counts the allows no template can refuse (Row.Residual).
	Residual int   `json:"residual"`
	Rows     []Row `json:"-"`
}

// Report returns a production's part of the matrix.
func (m *Matrix) Report(production string) *Report {
	rows := m.For(production)
	rep := &Report{Stack: names.Names{Studio: m.Estate.Studio}.ProductionStack(production), Production: production,
		Evaluator: m.Evaluator, Requests: len(rows), Rows: rows, Modelling: m.modelling(rows)}
	for _, r := range rows {
		if r.Unexpected() {
			rep.Unexpected++
		}
		if r.Residual() {
			rep.Residual++
		}
	}
	return rep
}

// modelling says how the rows' principals and policies were modelled.
func (m *Matrix) modelling(rows []Row) []string {
	seen := map[string]bool{}
	out := []string{
		"A VPC endpoint policy applies to a request whose aws:SourceVpce names the endpoint; the evaluator takes it as one more policy that must allow and may deny, as AWS does. Calls that S3 or EC2 make to KMS on the caller's behalf (kms:ViaService) pass no endpoint of the caller's.",
		"Resource names CloudFormation generates (key ids, launch template ids, endpoint ids, unnamed roles) are stand-ins unique per stack and logical id.",
		"No service or resource control policy is modelled: the matrix shows what the templates alone allow.",
	}
	for _, r := range rows {
		for _, how := range r.Principal.Modelled {
			if !seen[how] {
				seen[how] = true
				out = append(out, r.Principal.Label+": "+how)
			}
		}
	}
	return out
}

// JSON renders the report.
func (rep *Report) JSON() ([]byte, error) {
	out := struct {
		*Report
		Rows []jsonRow `json:"rows"`
	}{Report: rep}
	for _, r := range rep.Rows {
		out.Rows = append(out.Rows, jsonRow{Principal: r.Principal.Label, PrincipalArn: r.Principal.ARN, Kind: r.Principal.Kind, Action: r.Action,
			Target: r.Target.Label, Resource: r.Resource, Via: r.Via, Context: r.Context, Expected: r.Expect, Why: r.Why,
			Decision: r.Decision.Decision, Unexpected: r.Unexpected(), Outside: r.Outside, Decisive: r.Decisive, Ignored: r.Ignored})
	}
	return json.MarshalIndent(out, "", "  ")
}

// Markdown renders the report: the unexpected rows first, then every row.
func (rep *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Access matrix: %s\n\n", rep.Stack)
	fmt.Fprintf(&b, "Every request below was decided by %s over the synthesized templates. ", rep.Evaluator)
	fmt.Fprintf(&b, "%d requests on %s's resources; %d with a decision other than the expected one; %d allowed where no template can refuse them (the studio's to close, see \"Outside the templates\").\n\n", rep.Requests, rep.Production, rep.Unexpected, rep.Residual)
	b.WriteString("## How it is modelled\n\n")
	for _, m := range rep.Modelling {
		fmt.Fprintf(&b, "- %s\n", m)
	}
	table := func(title string, rows []Row) {
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		if len(rows) == 0 {
			b.WriteString("None.\n")
			return
		}
		b.WriteString("| principal | action | resource | context | expected | decision | decisive statements |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s: %s | %s | %s |\n", cell(r.Principal.Label), cell(r.Principal.Kind), r.Action,
				cell(r.Target.Label+" "+r.Resource), cell(r.Via+"; "+r.contextText()), r.Expect, cell(r.Why), cell(r.decisionText()),
				cell(strings.Join(r.decisive(), "; ")))
		}
	}
	var unexpected []Row
	for _, r := range rep.Rows {
		if r.Unexpected() {
			unexpected = append(unexpected, r)
		}
	}
	table("Unexpected decisions", unexpected)
	var residual []Row
	for _, r := range rep.Rows {
		if r.Residual() {
			residual = append(residual, r)
		}
	}
	table("Outside the templates", residual)
	if len(residual) > 0 {
		fmt.Fprintf(&b, "\nWhy: %s.\n", residual[0].Outside)
	}
	table("Every request", rep.Rows)
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

// Write writes <stack>.access.md and .access.json of every production of
// the matrix into dir.
func (m *Matrix) Write(dir string) error {
	for _, p := range m.Estate.Productions() {
		rep := m.Report(p)
		js, err := rep.JSON()
		if err != nil {
			return err
		}
		base := filepath.Join(dir, rep.Stack+".access")
		if err := os.WriteFile(base+".md", []byte(rep.Markdown()), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(base+".json", js, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// EnvEvaluator names the environment variable that points the app at the
// evaluator's folder (see NodeEvaluator).
const EnvEvaluator = "RENDERENV_ACCESS_EVALUATOR"

// WriteMatrices computes the access matrix of the cloud assembly in dir
// (what cdk synth wrote) with the evaluator ev and writes it beside the
// evidence packs. e is the estate the assembly was synthesized from.
func WriteMatrices(ctx context.Context, dir string, e *manifest.Estate, ev Evaluator) (*Matrix, error) {
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return nil, err
	}
	est, err := Build(a, e, nil)
	if err != nil {
		return nil, err
	}
	m, err := Evaluate(ctx, est, ev, Options{})
	if err != nil {
		return nil, err
	}
	return m, m.Write(dir)
}

// Summary counts rows by principal kind, action and outcome, for logs.
func (m *Matrix) Summary() string {
	counts := map[string]int{}
	for _, r := range m.Rows {
		counts[fmt.Sprintf("%s expected %s, %s", r.Action, r.Expect, r.decisionText())]++
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%5d %s", counts[k], k))
	}
	return strings.Join(out, "\n")
}
