package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The files the tests hand to the linters, relative to the repository root.
const (
	cfnLintConfig = ".cfnlintrc.yaml"
	// brokenTemplate breaks Control Tower controls on purpose, for
	// TestGuardReportsBrokenTemplate.
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

// runCfnLint lints files with the repository's configuration and returns
// every finding.
func runCfnLint(root, bin string, regions, files []string) ([]lintFinding, error) {
	args := []string{"--config-file", cfnLintConfig, "--format", "json", "--regions"}
	args = append(args, regions...)
	args = append(args, "--")
	args = append(args, files...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
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

// TestTemplatesPassCfnLint lints every template of the acme estate, each
// against its stack's region: no error and no warning except those
// .cfnlintrc.yaml ignores with a reason. The security invariants are the
// rule set's (internal/rules), which test/ runs on this estate.
func TestTemplatesPassCfnLint(t *testing.T) {
	t.Parallel()
	bin := cfnLint(t)
	root := mustRoot(t)
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
			if p := tpl.CdkPath(id); p != "" {
				what += " (" + p + ")"
			}
		}
		if id == "" {
			what = "at " + f.where()
		}
		lines = append(lines, fmt.Sprintf("%s %s %s: %s", stack, what, f.Rule.ID, f.Message))
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		t.Errorf("cfn-lint reports %d finding(s) over %d templates (stack logicalId (CDK path) rule: message).\n"+
			"Fix the product, or, only for a finding that is not renderenv's to fix, ignore the check in %s with the reason:\n  %s",
			len(lines), len(est.Templates), cfnLintConfig, strings.Join(lines, "\n  "))
	}
	t.Logf("cfn-lint: %d templates, %d findings (estate synthesized in %s)",
		len(est.Templates), len(lines), est.Elapsed.Round(1e6))
}
