package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

const guardExemptions = "test/lint/guard-exemptions.yaml"

// guardFailure is one resource that fails one cfn-guard rule.
type guardFailure struct {
	Rule      string // the guard rule name, e.g. s3_bucket_logging_enabled_check
	Control   string // the Control Tower control, e.g. CT.S3.PR.2
	Fix       string // the rule's [FIX] advice
	Stack     string
	LogicalID string // "" when guard names no resource
	CdkPath   string
}

func (f guardFailure) key() string {
	return f.Rule + " " + f.Control + " " + f.Stack + "/" + f.LogicalID
}

var (
	controlRe = regexp.MustCompile(`\[(CT\.[A-Z0-9]+\.PR\.[0-9]+)\]`)
	fixRe     = regexp.MustCompile(`\[FIX\]:\s*(.*)`)
	ruleRe    = regexp.MustCompile(`(?m)^\s*rule\s+([A-Za-z0-9_]+)\s+when\b`)
)

var allGuardRules = flag.Bool("guard.allrules", false,
	"hand cfn-guard every rule file instead of those that name a resource type of the template (slower; same result)")

// runGuard validates one template against the rules and returns its
// failures. The resources of a failure are those of the paths cfn-guard
// reports under /Resources/<logical id>.
func runGuard(bin string, rules *ruleSet, tpl *Template) ([]guardFailure, error) {
	files := rules.For(tpl)
	if len(files) == 0 {
		return nil, nil // no rule looks at any resource type of tpl
	}
	args := []string{"validate"}
	for _, f := range files {
		args = append(args, "--rules", f)
	}
	args = append(args, "--data", tpl.File, "--output-format", "json", "--show-summary", "none", "--structured")
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// 0: every rule passed; 19: some rule failed. Anything else is
	// cfn-guard failing to run (5 is a parse error, for example).
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 19) {
		return nil, fmt.Errorf("cfn-guard %s: %v\n%s", strings.Join(args, " "), err, firstLines(stderr.String(), 20))
	}
	var reports []struct {
		Name         string `json:"name"`
		Status       string `json:"status"`
		NotCompliant any    `json:"not_compliant"`
		Compliant    []any  `json:"compliant"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &reports); err != nil {
		return nil, fmt.Errorf("reading cfn-guard's JSON output for %s: %v\n%s", tpl.Stack, err, firstLines(stderr.String(), 20))
	}
	if len(reports) != 1 {
		return nil, fmt.Errorf("cfn-guard reported on %d files for %s, want 1", len(reports), tpl.File)
	}
	seen := map[string]bool{}
	var out []guardFailure
	for _, nc := range asList(reports[0].NotCompliant) {
		rule := ruleName(nc)
		if rule == "" {
			return nil, fmt.Errorf("cfn-guard reported a failure without a rule name for %s: %s", tpl.Stack, firstLines(fmt.Sprint(nc), 3))
		}
		msgs := customMessages(nc, nil)
		control, fix := "", ""
		for _, m := range msgs {
			if c := controlRe.FindStringSubmatch(m); c != nil && control == "" {
				control = c[1]
			}
			if f := fixRe.FindStringSubmatch(m); f != nil && fix == "" {
				fix = strings.TrimSpace(f[1])
			}
		}
		ids := resourceIDs(nc, map[string]bool{})
		if len(ids) == 0 {
			ids = map[string]bool{"": true}
		}
		for id := range ids {
			if _, ok := tpl.Resources[id]; !ok && id != "" {
				return nil, fmt.Errorf("cfn-guard's %s names %s/%s, which is not a resource of the template", rule, tpl.Stack, id)
			}
			f := guardFailure{Rule: rule, Control: control, Fix: fix, Stack: tpl.Stack, LogicalID: id, CdkPath: tpl.CdkPath(id)}
			if !seen[f.key()] {
				seen[f.key()] = true
				out = append(out, f)
			}
		}
	}
	// Never pass silently on output this code failed to read.
	if failed := err != nil || reports[0].Status == "FAIL"; failed != (len(out) > 0) {
		return nil, fmt.Errorf("cfn-guard's status for %s is %s (exit %v), but %d failures were read from its output", tpl.Stack, reports[0].Status, err, len(out))
	}
	return out, nil
}

// asList accepts not_compliant as a list or as an object (cfn-guard writes
// either).
func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]any, 0, len(v))
		for _, k := range keys {
			out = append(out, v[k])
		}
		return out
	}
	return nil
}

// ruleName is the name of the top-level rule of a not_compliant entry.
func ruleName(nc any) string {
	m, _ := nc.(map[string]any)
	for _, kind := range []string{"Rule", "rule"} {
		if r, ok := m[kind].(map[string]any); ok {
			if name, ok := r["name"].(string); ok {
				return name
			}
		}
	}
	return ""
}

func customMessages(v any, out []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "custom_message" && s != "" {
				out = append(out, s)
				continue
			}
			out = customMessages(x, out)
		}
	case []any:
		for _, x := range v {
			out = customMessages(x, out)
		}
	}
	return out
}

// resourceIDs collects the logical ids of every "path" under /Resources/.
func resourceIDs(v any, ids map[string]bool) map[string]bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "path" {
				if rest, ok := strings.CutPrefix(s, "/Resources/"); ok {
					id, _, _ := strings.Cut(rest, "/")
					ids[id] = true
				}
				continue
			}
			resourceIDs(x, ids)
		}
	case []any:
		for _, x := range v {
			resourceIDs(x, ids)
		}
	}
	return ids
}

// ruleSet is the Control Tower rules folder of the cfn-guard package.
type ruleSet struct {
	Dir   string
	Files []ruleFile
	// Names maps each rule name to the controls whose files declare it.
	Names map[string][]string
}

type ruleFile struct {
	Path string
	// Types are the resource types the file names. nil: the file names
	// something else too (a pattern, a partial type), so it always runs.
	Types []string
}

var (
	typeRe = regexp.MustCompile(`AWS::[A-Za-z0-9]+::[A-Za-z0-9]+`)
	awsRe  = regexp.MustCompile(`AWS::`)
)

func readRules(t *testing.T, dir string) *ruleSet {
	t.Helper()
	rs := &ruleSet{Dir: dir, Names: map[string][]string{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".guard") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		control := ""
		if c := controlRe.FindSubmatch(data); c != nil {
			control = string(c[1])
		}
		for _, m := range ruleRe.FindAllSubmatch(data, -1) {
			if name := string(m[1]); !slices.Contains(rs.Names[name], control) {
				rs.Names[name] = append(rs.Names[name], control)
			}
		}
		f := ruleFile{Path: p}
		// A rule selects resources by type (Resources.*[ Type == "AWS::S3::Bucket" ]):
		// one whose types are all absent from a template cannot fail on it.
		// Every "AWS::" in the file must be a whole type for the file to be
		// skipped by type.
		types := typeRe.FindAll(data, -1)
		if len(types) > 0 && len(types) == len(awsRe.FindAll(data, -1)) {
			for _, ty := range types {
				if !slices.Contains(f.Types, string(ty)) {
					f.Types = append(f.Types, string(ty))
				}
			}
		}
		rs.Files = append(rs.Files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Files) == 0 || len(rs.Names) == 0 {
		t.Fatalf("no cfn-guard rules under %s", dir)
	}
	return rs
}

// For returns the rule files to run on tpl: the whole folder with
// -guard.allrules, otherwise the files that name one of its resource types.
func (rs *ruleSet) For(tpl *Template) []string {
	if *allGuardRules {
		return []string{rs.Dir}
	}
	present := map[string]bool{}
	for _, r := range tpl.Resources {
		present[r.Type] = true
	}
	var out []string
	for _, f := range rs.Files {
		if f.Types == nil || slices.ContainsFunc(f.Types, func(ty string) bool { return present[ty] }) {
			out = append(out, f.Path)
		}
	}
	return out
}

// exemption is one reviewed entry of guard-exemptions.yaml.
type exemption struct {
	Rule    string `yaml:"rule"`
	Control string `yaml:"control"` // required: a rule name may serve two controls
	// Resources are path.Match patterns, each matched against
	// "stack/logicalId" and against the resource's CDK path.
	Resources []string `yaml:"resources"`
	Reason    string   `yaml:"reason"`
	line      int
}

func (e exemption) matches(pattern string, f guardFailure) bool {
	if e.Rule != f.Rule || e.Control != f.Control {
		return false
	}
	for _, name := range []string{f.Stack + "/" + f.LogicalID, f.CdkPath} {
		if name == "" {
			continue
		}
		if ok, _ := path.Match(pattern, name); ok {
			return true
		}
	}
	return false
}

// readExemptions reads and checks guard-exemptions.yaml against the rules.
func readExemptions(t *testing.T, root string, rules map[string][]string) []exemption {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, guardExemptions))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Exemptions []yaml.Node `yaml:"exemptions"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", guardExemptions, err)
	}
	var out []exemption
	fields := map[string]bool{"rule": true, "control": true, "resources": true, "reason": true}
	for _, n := range doc.Exemptions {
		var e exemption
		if n.Kind != yaml.MappingNode {
			t.Errorf("%s:%d: an exemption is a mapping of rule, control, resources and reason", guardExemptions, n.Line)
			continue
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !fields[k.Value] {
				t.Errorf("%s:%d: unknown field %q", guardExemptions, k.Line, k.Value)
			}
		}
		if err := n.Decode(&e); err != nil {
			t.Errorf("%s:%d: %v", guardExemptions, n.Line, err)
			continue
		}
		e.line = n.Line
		at := fmt.Sprintf("%s:%d", guardExemptions, e.line)
		controls, known := rules[e.Rule]
		switch {
		case e.Rule == "":
			t.Errorf("%s: rule is required", at)
		case !known:
			t.Errorf("%s: %s is not a rule of the pinned Control Tower rules", at, e.Rule)
		case e.Control == "":
			t.Errorf("%s: control is required (%s is %s)", at, e.Rule, strings.Join(controls, " or "))
		case !slices.Contains(controls, e.Control):
			t.Errorf("%s: %s is control %s, not %s", at, e.Rule, strings.Join(controls, " or "), e.Control)
		}
		if len(e.Resources) == 0 {
			t.Errorf("%s: resources: at least one stack/logicalId or CDK path pattern is required", at)
		}
		for _, p := range e.Resources {
			if _, err := path.Match(p, ""); err != nil {
				t.Errorf("%s: resources: %q: %v", at, p, err)
			}
		}
		if len(strings.Fields(e.Reason)) < 8 {
			t.Errorf("%s: reason: say why the control does not apply (the ISE control or the design decision)", at)
		}
		out = append(out, e)
	}
	return out
}

// TestTemplatesPassControlTowerControlsOrAreExempted runs the AWS Control
// Tower proactive controls (cfn-guard rules of the pinned
// @cdklabs/cdk-validator-cfnguard) over every template of the acme
// estate. Each failure must be fixed or exempted with a reason in
// guard-exemptions.yaml, and each exemption must still match a failure.
func TestTemplatesPassControlTowerControlsOrAreExempted(t *testing.T) {
	t.Parallel()
	root := mustRoot(t)
	bin, rulesDir := cfnGuard(t, root)
	rules := readRules(t, rulesDir)
	exemptions := readExemptions(t, root, rules.Names)
	est := shippedEstate(t)

	var (
		mu       sync.Mutex
		failures []guardFailure
		wg       sync.WaitGroup
		sem      = make(chan struct{}, parallelism())
	)
	for _, tpl := range est.Templates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out, err := runGuard(bin, rules, tpl)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			}
			failures = append(failures, out...)
		}()
	}
	wg.Wait()
	sort.Slice(failures, func(i, j int) bool { return failures[i].key() < failures[j].key() })

	used := map[[2]int]int{}
	var unexempted []string
	exempted := 0
	for _, f := range failures {
		hit := false
		for i, e := range exemptions {
			for j, p := range e.Resources {
				if e.matches(p, f) {
					used[[2]int{i, j}]++
					hit = true
				}
			}
		}
		if hit {
			exempted++
			continue
		}
		tpl := est.ByFile(f.Stack + ".template.json")
		what := f.Stack + "/" + f.LogicalID
		if tpl != nil {
			what = tpl.Describe(f.LogicalID)
		}
		unexempted = append(unexempted, fmt.Sprintf("%s (%s) %s\n      fix: %s", f.Rule, f.Control, what, f.Fix))
	}
	if len(unexempted) > 0 {
		t.Errorf("%d Control Tower control failure(s) neither fixed nor exempted (rule (control) stack/logicalId (CDK path)).\n"+
			"Fix the product, or add a reviewed exemption with its reason to %s:\n  %s",
			len(unexempted), guardExemptions, strings.Join(unexempted, "\n  "))
	}
	for i, e := range exemptions {
		for j, p := range e.Resources {
			if used[[2]int{i, j}] == 0 {
				t.Errorf("%s:%d: stale exemption: %s no longer fails for %q; remove the pattern (or the entry)", guardExemptions, e.line, e.Rule, p)
			}
		}
	}
	t.Logf("cfn-guard: %d rule files (%d rules) over %d templates: %d failures, %d exempted by %d entries",
		len(rules.Files), len(rules.Names), len(est.Templates), len(failures), exempted, len(exemptions))
}

// TestGuardReportsBrokenTemplate proves that the reading of cfn-guard's
// output finds rule names, controls and resources: the deliberately broken
// fixture must fail these controls on these resources.
func TestGuardReportsBrokenTemplate(t *testing.T) {
	t.Parallel()
	root := mustRoot(t)
	bin, rulesDir := cfnGuard(t, root)
	tpl, err := readTemplate("broken", "us-west-2", filepath.Join(root, brokenTemplate))
	if err != nil {
		t.Fatal(err)
	}
	failures, err := runGuard(bin, readRules(t, rulesDir), tpl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]guardFailure{}
	for _, f := range failures {
		got[f.Rule+" "+f.LogicalID] = f
	}
	for _, want := range []struct{ rule, control, resource string }{
		{"ec2_launch_template_imdsv2_check", "CT.EC2.PR.1", "LaunchTemplateWrongValues"},
		{"ec2_launch_template_public_ip_disabled_check", "", "LaunchTemplateWrongValues"},
		{"ec2_encrypted_volumes_check", "", "Volume"},
		{"kms_key_rotation_enabled_check", "", "KeyWrongValues"},
		{"s3_bucket_level_public_access_prohibited_check", "", "BucketWrongValues"},
		{"s3_bucket_versioning_enabled_check", "", "BucketWrongValues"},
		{"cloud_trail_log_file_validation_enabled_check", "", "TrailWrongValues"},
		{"cloudwatch_log_group_encrypted_check", "CT.CLOUDWATCH.PR.3", "LogGroupWrongValues"},
		{"subnet_auto_assign_public_ip_disabled_check", "", "PublicSubnet"},
		{"vpc_sg_restricted_common_ports_check", "", "OpenSsh"},
	} {
		f, ok := got[want.rule+" "+want.resource]
		switch {
		case !ok:
			t.Errorf("cfn-guard does not report %s on %s/%s", want.rule, brokenTemplate, want.resource)
		case f.Control == "" || f.Fix == "":
			t.Errorf("%s on %s: no control id or fix read from the message (%q, %q)", want.rule, want.resource, f.Control, f.Fix)
		case want.control != "" && f.Control != want.control:
			t.Errorf("%s: control %s, want %s", want.rule, f.Control, want.control)
		}
	}
	for _, f := range failures {
		if f.LogicalID == "Vpc" || f.LogicalID == "CustomerGateway" {
			t.Errorf("%s reported on %s, which it does not check", f.Rule, f.LogicalID)
		}
	}
}
