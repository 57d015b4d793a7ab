package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The files the tests hand to cfn-lint, relative to the repository root.
const (
	cfnLintConfig  = ".cfnlintrc.yaml"
	invariantRules = "test/lint/invariants.rules"
	brokenTemplate = "test/lint/testdata/broken.template.json"
)

// lintFinding is one entry of `cfn-lint --format json`.
type lintFinding struct {
	Filename string `json:"Filename"`
	Level    string `json:"Level"`
	Message  string `json:"Message"`
	Rule     struct {
		ID               string `json:"Id"`
		ShortDescription string `json:"ShortDescription"`
	} `json:"Rule"`
	Location struct {
		Path  []any `json:"Path"`
		Start struct {
			LineNumber int `json:"LineNumber"`
		} `json:"Start"`
	} `json:"Location"`
}

// logicalID is the resource a finding points into, "" when it points
// elsewhere (Parameters, Outputs, the whole template).
func (f lintFinding) logicalID() string {
	p := f.Location.Path
	if len(p) >= 2 && p[0] == "Resources" {
		if id, ok := p[1].(string); ok {
			return id
		}
	}
	return ""
}

func (f lintFinding) where() string {
	parts := make([]string, len(f.Location.Path))
	for i, p := range f.Location.Path {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, "/")
}

// runCfnLint lints files with the repository's configuration, which also
// loads the custom rules, and returns every finding.
func runCfnLint(root, bin string, regions, files []string) ([]lintFinding, error) {
	args := []string{"--config-file", cfnLintConfig, "--format", "json", "--regions"}
	args = append(args, regions...)
	args = append(args, "--")
	args = append(args, files...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = root // custom_rules in the configuration is relative to the root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8
	// informational. 1 means cfn-lint itself failed.
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode()&1 != 0) {
		return nil, fmt.Errorf("cfn-lint %s: %v\n%s", strings.Join(args, " "), err, firstLines(stderr.String()+stdout.String(), 20))
	}
	var out []lintFinding
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("reading cfn-lint's JSON output: %v\n%s", err, firstLines(stderr.String()+stdout.String(), 20))
	}
	return out, nil
}

// customRule is one line of invariants.rules.
type customRule struct {
	Line int
	Text string
}

// number is the number in the id cfn-lint gives the rule: E (or W, by the
// rule's level) and 9000 plus its line.
func (r customRule) number() string { return strconv.Itoa(9000 + r.Line) }

func readCustomRules(t *testing.T, root string) []customRule {
	t.Helper()
	f, err := os.Open(filepath.Join(root, invariantRules))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rules []customRule
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimRight(s.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rules = append(rules, customRule{Line: n, Text: line})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatalf("%s holds no rule", invariantRules)
	}
	return rules
}

// customRuleFor returns the custom rule behind a finding's rule id.
func customRuleFor(rules []customRule, id string) (customRule, bool) {
	if len(id) < 2 || (id[0] != 'E' && id[0] != 'W') {
		return customRule{}, false
	}
	for _, r := range rules {
		if r.number() == id[1:] {
			return r, true
		}
	}
	return customRule{}, false
}

// TestTemplatesPassCfnLint lints every template of the acme estate, each
// against its stack's region: no error and no warning except those
// .cfnlintrc.yaml ignores with a reason, and no breach of invariants.rules.
func TestTemplatesPassCfnLint(t *testing.T) {
	t.Parallel()
	bin := cfnLint(t)
	root := mustRoot(t)
	rules := readCustomRules(t, root)
	est := shippedEstate(t)

	byRegion := map[string][]string{}
	for _, tpl := range est.Templates {
		byRegion[tpl.Region] = append(byRegion[tpl.Region], tpl.File)
	}
	// One cfn-lint per region and chunk of templates, in parallel.
	type job struct {
		region string
		files  []string
	}
	var jobs []job
	for region, files := range byRegion {
		size := (len(files) + parallelism() - 1) / parallelism()
		for len(files) > 0 {
			n := min(size, len(files))
			jobs = append(jobs, job{region, files[:n]})
			files = files[n:]
		}
	}
	var (
		mu       sync.Mutex
		findings []lintFinding
		failures []error
		wg       sync.WaitGroup
	)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := runCfnLint(root, bin, []string{j.region}, j.files)
			mu.Lock()
			defer mu.Unlock()
			findings = append(findings, out...)
			if err != nil {
				failures = append(failures, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range failures {
		t.Error(err)
	}

	var lines []string
	for _, f := range findings {
		// stack logicalId (CDK path) rule: message
		stack, id := filepath.Base(f.Filename), f.logicalID()
		what := id
		if tpl := est.ByFile(f.Filename); tpl != nil {
			stack = tpl.Stack
			if r, ok := tpl.Resources[id]; ok && r.CdkPath != "" {
				what += " (" + r.CdkPath + ")"
			}
		}
		if id == "" {
			what = "at " + f.where()
		}
		msg := f.Message
		if r, ok := customRuleFor(rules, f.Rule.ID); ok {
			msg += fmt.Sprintf(" [%s:%d]", invariantRules, r.Line)
		}
		lines = append(lines, fmt.Sprintf("%s %s %s: %s", stack, what, f.Rule.ID, msg))
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		t.Errorf("cfn-lint reports %d finding(s) over %d templates (stack logicalId (CDK path) rule: message).\n"+
			"Fix the product, or, only for a finding that is not renderenv's to fix, ignore the check in %s with the reason:\n  %s",
			len(lines), len(est.Templates), cfnLintConfig, strings.Join(lines, "\n  "))
	}
	t.Logf("cfn-lint: %d templates, %d custom invariant rules, %d findings (estate synthesized in %s)",
		len(est.Templates), len(rules), len(lines), est.Elapsed.Round(1e6))
}

// TestInvariantRulesFireOnBrokenTemplate proves that every rule of
// invariants.rules can fail: each must report at least one resource of the
// deliberately broken fixture. A rule with a misspelt resource type or
// property path would otherwise pass every template silently.
func TestInvariantRulesFireOnBrokenTemplate(t *testing.T) {
	t.Parallel()
	bin := cfnLint(t)
	root := mustRoot(t)
	rules := readCustomRules(t, root)
	findings, err := runCfnLint(root, bin, []string{"us-west-2"}, []string{brokenTemplate})
	if err != nil {
		t.Fatal(err)
	}
	fired := map[string][]string{}
	for _, f := range findings {
		r, ok := customRuleFor(rules, f.Rule.ID)
		if !ok {
			continue
		}
		// An invalid line becomes a rule that reports itself, not a resource.
		if f.logicalID() == "" {
			t.Errorf("%s:%d is not a valid custom rule: %s\n  %s", invariantRules, r.Line, f.Message, r.Text)
			continue
		}
		fired[r.number()] = append(fired[r.number()], f.logicalID())
	}
	for _, r := range rules {
		if len(fired[r.number()]) == 0 {
			t.Errorf("%s:%d never fires on %s: fix the rule or break the fixture for it\n  %s", invariantRules, r.Line, brokenTemplate, r.Text)
		}
	}
	if !t.Failed() {
		t.Logf("%d custom rules, each fired on %s", len(rules), brokenTemplate)
	}
}
