package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

var acmeOptions = Options{Studio: "acme", ManagementAccount: "111111111111",
	Deployers: []string{"arn:aws:iam::111111111111:role/acme-deployer", "arn:aws:iam::111111111111:role/release"}}

// projectRoot is the folder of go.mod.
func projectRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// The kept template is the pinned CLI's: after a CLI upgrade it must be
// regenerated (see Upstream) and this package's edits reviewed.
func TestKeptTemplateIsThePinnedCLIs(t *testing.T) {
	cli := filepath.Join(projectRoot(t), "node_modules", ".bin", "cdk")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("needs Node.js")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the pinned CDK CLI is not installed (npm ci): %v", err)
	}
	cmd := exec.Command(cli, "bootstrap", "--show-template")
	cmd.Dir = t.TempDir() // no cdk.json: no app to run
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cdk bootstrap --show-template: %v\n%s", err, stderr.String())
	}
	if !bytes.Equal(out, Upstream) {
		t.Errorf("internal/bootstrap/template.yaml is not the pinned CLI's bootstrap template: regenerate it with\n\tnode_modules/.bin/cdk bootstrap --show-template > internal/bootstrap/template.yaml\nand review the edits of Edited against the new template")
	}
}

func edited(t *testing.T, o Options) map[string]any {
	t.Helper()
	b, err := Template(o)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

func resource(t *testing.T, tpl map[string]any, id string) map[string]any {
	t.Helper()
	r, ok := tpl["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	return r["Properties"].(map[string]any)
}

func TestBootstrapRolesTrustOnlyTheNamedDeployers(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		o := acmeOptions
		o.Pipeline = pipeline
		tpl := edited(t, o)
		want := slices.Clone(o.Deployers)
		if pipeline {
			want = append(want, "arn:aws:iam::111111111111:role/acme-pipeline-*")
		}
		for _, id := range trustedRoles {
			doc := resource(t, tpl, id)["AssumeRolePolicyDocument"].(map[string]any)
			st := doc["Statement"].([]any)
			if len(st) != 1 {
				t.Fatalf("%s: %d trust statements, want 1", id, len(st))
			}
			s := st[0].(map[string]any)
			if got := s["Principal"]; !reflect.DeepEqual(got, map[string]any{"AWS": "arn:aws:iam::111111111111:root"}) {
				t.Errorf("%s trusts %v, want the management account with a condition", id, got)
			}
			var got []string
			for _, a := range s["Condition"].(map[string]any)["ArnLike"].(map[string]any)["aws:PrincipalArn"].([]any) {
				got = append(got, a.(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("pipeline %t: %s trusts aws:PrincipalArn %v, want %v", pipeline, id, got, want)
			}
			if s["Effect"] != "Allow" || s["Condition"].(map[string]any)["Null"] == nil {
				t.Errorf("%s: %v", id, s)
			}
		}
	}
}

func TestExecutionRoleHasOnlyTheGeneratedPolicyInsideTheBoundary(t *testing.T) {
	tpl := edited(t, acmeOptions)
	exec := resource(t, tpl, "CloudFormationExecutionRole")
	if got := exec["ManagedPolicyArns"]; !reflect.DeepEqual(got, []any{map[string]any{"Ref": ExecPolicyID}}) {
		t.Errorf("execution role policies: %v", got)
	}
	if got := exec["PermissionsBoundary"]; !reflect.DeepEqual(got, map[string]any{"Ref": BoundaryID}) {
		t.Errorf("execution role boundary: %v", got)
	}
	if got := exec["Policies"]; got != nil {
		t.Errorf("execution role has inline policies: %v", got)
	}
	for id, name := range map[string]string{ExecPolicyID: "cdk-hnb659fds-renderenv-exec", BoundaryID: "cdk-hnb659fds-renderenv-boundary"} {
		if got := resource(t, tpl, id)["ManagedPolicyName"]; got != name {
			t.Errorf("%s is named %v, want %s", id, got, name)
		}
	}
	if v := tpl["Parameters"].(map[string]any)["BootstrapVariant"].(map[string]any)["Default"]; v != Variant {
		t.Errorf("variant %v", v)
	}
}

// allows reports whether a policy's Allow statements name an action
// matching action (IAM wildcards on either side).
func allows(policy map[string]any, effect, action string) []string {
	var out []string
	for _, s := range policy["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Effect"] != effect {
			continue
		}
		for _, a := range st["Action"].([]string) {
			if cfn.Glob(strings.ToLower(a), strings.ToLower(action)) {
				out = append(out, st["Sid"].(string)+": "+a)
			}
		}
	}
	return out
}

// CloudFormation never launches a render node: the execution policy allows
// no launch and denies every one.
func TestExecutionPolicyNeverLaunchesInstances(t *testing.T) {
	p := ExecutionPolicy("acme", DefaultQualifier)
	for _, a := range launches {
		if got := allows(p, "Allow", a); len(got) > 0 {
			t.Errorf("the execution policy allows %s: %v", a, got)
		}
		if got := allows(p, "Deny", a); len(got) == 0 {
			t.Errorf("the execution policy does not deny %s", a)
		}
	}
	for _, s := range p["Statement"].([]any) {
		st := s.(map[string]any)
		for _, a := range st["Action"].([]string) {
			if st["Effect"] == "Allow" && strings.Contains(a, "*") {
				t.Errorf("%s allows a wildcard action %s", st["Sid"], a)
			}
		}
	}
	// Nothing of the data, nor of identities beyond roles.
	for _, a := range []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant", "sts:AssumeRole", "s3:PutObject", "s3:DeleteObject",
		"s3:BypassGovernanceRetention", "iam:CreateUser", "iam:CreateAccessKey", "cloudtrail:StopLogging", "ssm:StartSession", "ec2:ModifyInstanceAttribute"} {
		if got := allows(p, "Allow", a); len(got) > 0 {
			t.Errorf("the execution policy allows %s: %v", a, got)
		}
	}
	if _, ok := Actions["AWS::EC2::Instance"]; ok {
		t.Error("AWS::EC2::Instance is in Actions: renderenv's templates must not create instances")
	}
}

func TestPoliciesFillTheirPlaceholdersPerAccount(t *testing.T) {
	b, _ := json.Marshal(Substitute(Boundary("acme", DefaultQualifier), "333333333333", "us-west-2", DefaultQualifier))
	s := string(b)
	for _, want := range []string{"arn:aws:iam::333333333333:role/cdk-hnb659fds-cfn-exec-role-333333333333-us-west-2", "parameter/renderenv/acme/*", "trail/acme-*"} {
		if !strings.Contains(s, want) {
			t.Errorf("boundary lacks %s: %s", want, s)
		}
	}
	if strings.Contains(s, "${") {
		t.Errorf("boundary keeps a placeholder: %s", s)
	}
}

func TestTemplateRefusesNoDeployers(t *testing.T) {
	if _, err := Template(Options{Studio: "acme", ManagementAccount: "111111111111"}); err == nil {
		t.Error("a template trusting nobody was made")
	}
}

func TestEnvsAreEveryAccountOfTheEstateOnce(t *testing.T) {
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, env := range Envs(e) {
		got = append(got, env.String()+" "+strings.Join(env.For, ","))
	}
	want := []string{
		"aws://111111111111/us-west-2 management",
		"aws://222222222222/us-west-2 log archive",
		"aws://555555555555/us-west-2 pool,brightside,lighthouse",
		"aws://444444444444/us-west-2 harbour",
		"aws://333333333333/us-west-2 nightfall",
		// nightfall's DR region and the exchange account come after the
		// home regions: each account's home bootstrap creates its
		// policies first.
		"aws://333333333333/us-east-2 nightfall DR",
		"aws://121212121212/us-west-2 nightfall exchange",
	}
	if !slices.Equal(got, want) {
		t.Errorf("envs:\n%s", strings.Join(got, "\n"))
	}
}

// An account bootstrapped in a second region (nightfall's DR region) uses
// the managed policies of its home region's bootstrap: IAM names are per
// account, so only the home region creates them.
func TestOnlyTheHomeRegionCreatesTheAccountsPolicies(t *testing.T) {
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	o := OptionsOf(e)
	if o.HomeRegion != "us-west-2" {
		t.Fatalf("home region %q, want the studio's us-west-2", o.HomeRegion)
	}
	tpl, err := Edited(o)
	if err != nil {
		t.Fatal(err)
	}
	cond := tpl["Conditions"].(map[string]any)[HomeRegionCondition]
	if fmt.Sprint(cond) != "map[Fn::Equals:[map[Ref:AWS::Region] us-west-2]]" {
		t.Errorf("condition %v", cond)
	}
	res := tpl["Resources"].(map[string]any)
	for _, id := range []string{ExecPolicyID, BoundaryID} {
		if res[id].(map[string]any)["Condition"] != HomeRegionCondition {
			t.Errorf("%s is created in every region", id)
		}
	}
	role := fmt.Sprint(res["CloudFormationExecutionRole"].(map[string]any)["Properties"])
	for _, want := range []string{"policy/cdk-acme-renderenv-exec", "policy/cdk-acme-renderenv-boundary", "Fn::If"} {
		if !strings.Contains(role, want) {
			t.Errorf("the execution role does not name %s elsewhere than the home region: %s", want, role)
		}
	}
	// A one-region estate's template is what it was.
	single := o
	single.HomeRegion = ""
	if tpl, err := Edited(single); err != nil || tpl["Conditions"].(map[string]any)[HomeRegionCondition] != nil {
		t.Errorf("a one-region template has the home-region condition (%v)", err)
	}
}

var lintError = regexp.MustCompile(`:E[0-9]{4}:`)

// cfn-lint finds no error in the edited template (its warnings are the
// parameters the CLI passes and the template no longer reads, and the
// upstream bucket's legacy AccessControl).
func TestEditedTemplateHasNoCfnLintError(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed")
	}
	body, err := Template(acmeOptions)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.json")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(lint, "--format", "parseable", path).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if lintError.MatchString(line) {
			t.Errorf("cfn-lint: %s", line)
		}
	}
}
