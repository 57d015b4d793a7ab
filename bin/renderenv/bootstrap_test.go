package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/fixtures"
)

// acmeBootstrap is what `renderenv bootstrap` prints for the acme fixture,
// with TEMPLATE for the template's path.
const acmeBootstrap = `# TEMPLATE: renderenv's CDK bootstrap of studio acme's 7 environments, trusting arn:aws:iam::111111111111:role/acme-deployer
# aws://111111111111/us-west-2: management
npx cdk bootstrap aws://111111111111/us-west-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::111111111111:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
# aws://222222222222/us-west-2: log archive
npx cdk bootstrap aws://222222222222/us-west-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::222222222222:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
# aws://555555555555/us-west-2: pool, brightside, lighthouse
npx cdk bootstrap aws://555555555555/us-west-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::555555555555:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
# aws://444444444444/us-west-2: harbour
npx cdk bootstrap aws://444444444444/us-west-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::444444444444:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
# aws://333333333333/us-west-2: nightfall
npx cdk bootstrap aws://333333333333/us-west-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::333333333333:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
# aws://333333333333/us-east-2: nightfall DR
npx cdk bootstrap aws://333333333333/us-east-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::333333333333:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
# aws://121212121212/us-west-2: nightfall exchange
npx cdk bootstrap aws://121212121212/us-west-2 --template TEMPLATE --qualifier acme --toolkit-stack-name CDKToolkit-acme --trust 111111111111 --cloudformation-execution-policies arn:aws:iam::121212121212:policy/cdk-acme-renderenv-exec --custom-permissions-boundary cdk-acme-renderenv-boundary --force
`

// fakeRunner records the commands --apply runs, failing the one whose
// environment is fail.
func fakeRunner(t *testing.T, fail string) *[][]string {
	t.Helper()
	var ran [][]string
	saved := runCommand
	runCommand = func(argv []string, stdout, stderr io.Writer) error {
		ran = append(ran, argv)
		if slices.Contains(argv, fail) {
			return errors.New("exit status 1")
		}
		return nil
	}
	t.Cleanup(func() { runCommand = saved })
	return &ran
}

func TestBootstrapPrintsTheCommandsOfEveryAccountOfAcme(t *testing.T) {
	ran := fakeRunner(t, "")
	tpl := filepath.Join(t.TempDir(), "out", "bootstrap.json")
	code, stdout, stderr := runCLI("bootstrap", "--template", tpl, fixtures.AcmeDir())
	want := strings.ReplaceAll(acmeBootstrap, "TEMPLATE", tpl)
	if code != 0 || stdout != want || stderr != "" {
		t.Errorf("renderenv bootstrap = %d\nstdout:\n%s\nstderr: %q\nwant 0 and:\n%s", code, stdout, stderr, want)
	}
	if len(*ran) != 0 {
		t.Errorf("without --apply, ran %v", *ran)
	}
	var template map[string]any
	data, err := os.ReadFile(tpl)
	if err == nil {
		err = json.Unmarshal(data, &template)
	}
	if err != nil {
		t.Fatalf("the template the commands name: %v", err)
	}
	trust, _ := json.Marshal(template["Resources"].(map[string]any)["DeploymentActionRole"].(map[string]any)["Properties"].(map[string]any)["AssumeRolePolicyDocument"])
	if !strings.Contains(string(trust), `"aws:PrincipalArn":["arn:aws:iam::111111111111:role/acme-deployer"]`) {
		t.Errorf("the deploy role's trust does not name the deployer: %s", trust)
	}
}

func TestBootstrapApplyRunsEachCommandAndStopsAtAFailure(t *testing.T) {
	tpl := filepath.Join(t.TempDir(), "bootstrap.json")
	ran := fakeRunner(t, "")
	code, stdout, stderr := runCLI("bootstrap", "--apply", "--template", tpl, fixtures.AcmeDir())
	if code != 0 || stderr != "" {
		t.Fatalf("renderenv bootstrap --apply = %d, stderr %q", code, stderr)
	}
	var printed []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.HasPrefix(line, "#") {
			printed = append(printed, line)
		}
	}
	if len(*ran) != 7 || len(printed) != 7 {
		t.Fatalf("ran %d commands, printed %d, want 7 each", len(*ran), len(printed))
	}
	for i, argv := range *ran {
		if got := strings.Join(argv, " "); got != printed[i] {
			t.Errorf("ran %q, printed %q", got, printed[i])
		}
	}

	ran = fakeRunner(t, "aws://555555555555/us-west-2")
	code, _, stderr = runCLI("bootstrap", "--apply", "--template", tpl, fixtures.AcmeDir())
	if want := "renderenv bootstrap: aws://555555555555/us-west-2: exit status 1\n"; code != 1 || stderr != want || len(*ran) != 3 {
		t.Errorf("a failing bootstrap = %d after %d commands, stderr %q; want 1 after 3, %q", code, len(*ran), stderr, want)
	}
}

func TestBootstrapRefusesAnEstateWithoutDeployers(t *testing.T) {
	dir := t.TempDir()
	copyBase(t, dir)
	ran := fakeRunner(t, "")
	tpl := filepath.Join(dir, "bootstrap.json")
	code, stdout, stderr := runCLI("bootstrap", "--apply", "--template", tpl, dir)
	want := dir + "/studio.yaml: deployers: names nobody: list the management account's roles that may deploy (arn:aws:iam::111111111111:role/<name>); renderenv bootstraps no account whose bootstrap roles would trust a whole account\n"
	if code != 1 || stdout != "" || stderr != want || len(*ran) != 0 {
		t.Errorf("renderenv bootstrap without deployers = %d, ran %d\nstdout: %q\nstderr: %q\nwant 1 and %q", code, len(*ran), stdout, stderr, want)
	}
	if _, err := os.Stat(tpl); err == nil {
		t.Error("a template was written")
	}
}

func TestBootstrapInvalidManifestsAndUsage(t *testing.T) {
	dir := t.TempDir()
	copyBase(t, dir)
	breakFile(t, filepath.Join(dir, "studio.yaml"), "studio: acme", "studio: ACME")
	code, stdout, stderr := runCLI("bootstrap", dir)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, dir+"/studio.yaml:2: studio:") {
		t.Errorf("invalid manifests = %d\nstdout: %q\nstderr: %q", code, stdout, stderr)
	}
	for _, args := range [][]string{{"bootstrap", "--nope"}, {"bootstrap", "a", "b"}} {
		if code, _, stderr := runCLI(args...); code != 2 || !strings.HasPrefix(stderr, "renderenv bootstrap: ") {
			t.Errorf("renderenv %v = %d, stderr %q; want 2", args, code, stderr)
		}
	}
}

// With the pipeline on, every bootstrap trusts the deployers and the
// pipeline's roles, but the log-archive account, which holds the trail,
// trusts the pipeline's roles only: nobody deploys there by hand.
func TestBootstrapWithThePipelineLeavesTheLogArchiveToThePipeline(t *testing.T) {
	fakeRunner(t, "")
	dir := t.TempDir()
	for name, b := range fixtures.AcmePipelineFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	studio := filepath.Join(dir, "studio.yaml")
	b, err := os.ReadFile(studio)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "pipeline:\n  enabled: true\n  connectionArn: arn:aws:codeconnections:us-west-2:111111111111:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n  repository: acme/render-estate\n  branch: main\n"...)
	if err := os.WriteFile(studio, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tpl := filepath.Join(t.TempDir(), "bootstrap.json")
	archiveTpl := strings.TrimSuffix(tpl, ".json") + "-log-archive.json"
	code, stdout, stderr := runCLI("bootstrap", "--template", tpl, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	trust := func(path string) string {
		var template map[string]any
		data, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(data, &template)
		}
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(template["Resources"].(map[string]any)["DeploymentActionRole"].(map[string]any)["Properties"].(map[string]any)["AssumeRolePolicyDocument"])
		return string(out)
	}
	if got := trust(tpl); !strings.Contains(got, `"aws:PrincipalArn":["arn:aws:iam::111111111111:role/acme-deployer","arn:aws:iam::111111111111:role/acme-pipeline-*"]`) {
		t.Errorf("the estate's bootstrap trusts %s", got)
	}
	if got := trust(archiveTpl); !strings.Contains(got, `"aws:PrincipalArn":["arn:aws:iam::111111111111:role/acme-pipeline-*"]`) {
		t.Errorf("the log archive's bootstrap trusts %s", got)
	}
	for _, line := range strings.Split(stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "npx cdk bootstrap aws://222222222222/"):
			if !strings.Contains(line, "--template "+archiveTpl+" ") {
				t.Errorf("the log archive is bootstrapped with another template: %s", line)
			}
		case strings.HasPrefix(line, "npx cdk bootstrap "):
			if !strings.Contains(line, "--template "+tpl+" ") {
				t.Errorf("%s", line)
			}
		}
	}
}
