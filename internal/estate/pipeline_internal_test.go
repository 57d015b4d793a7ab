package estate

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

// TestApproverCheckAcceptsOnlyNamedApprovers runs the check's commands in
// sh against a fake aws that reports the given approval.
func TestApproverCheckAcceptsOnlyNamedApprovers(t *testing.T) {
	approvers := []manifest.Person{{PermissionSet: "acme-Release"}, {RoleArn: "arn:aws:iam::111111111111:role/release/Approver"}}
	script := strings.Join(approverCheckCommands("acme-estate", "Approve-acme-nightfall", "111111111111", approvers,
		"arn:aws:sts::111111111111:assumed-role/$AUTO_CONFIRMER/*"), "\n")
	cases := []struct {
		status, by string
		ok         bool
	}{
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_acme-Release_0123456789abcdef/jo", true},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/Approver/jo", true},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/acme-pipeline-AutoApproveRole-X1/fn", true},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/acme-pipeline-OtherRole-X1/fn", false},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_acme-ReleaseX_0123456789abcdef/jo", false},
		{"Succeeded", "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/jo", false},
		{"Succeeded", "arn:aws:sts::222222222222:assumed-role/Approver/jo", false},
		{"Succeeded", "arn:aws:iam::111111111111:user/admin", false},
		{"Failed", "arn:aws:sts::111111111111:assumed-role/Approver/jo", false},
	}
	for _, c := range cases {
		bin := t.TempDir()
		fake := "#!/bin/sh\ncase \"$*\" in *latestExecution.status*) echo '" + c.status + "' ;; *latestExecution.lastUpdatedBy*) echo '" + c.by + "' ;; esac\n"
		if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "AUTO_CONFIRMER=acme-pipeline-AutoApproveRole-X1")
		out, err := cmd.CombinedOutput()
		if (err == nil) != c.ok {
			t.Errorf("%s by %s: accepted %v, want %v\n%s", c.status, c.by, err == nil, c.ok, out)
		}
	}
}

func TestToolsComeFromTheLockFileOrThePipelineRefusesToBuild(t *testing.T) {
	tools, err := ReadTools("../..")
	if err != nil || tools.CLI == "" || tools.Assets == "" {
		t.Fatalf("ReadTools of the project: %+v, %v", tools, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{"packages":{"node_modules/aws-cdk":{"version":"2.1.0"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTools(dir); err == nil || !strings.Contains(err.Error(), "pins no version of aws-cdk or cdk-assets") {
		t.Errorf("a lock file without cdk-assets: %v", err)
	}
	context := map[string]any{}
	if err := addTools(t.TempDir(), context); err != nil || len(context) != 0 {
		t.Errorf("no lock file: %v, %v", err, context)
	}
	// An app made without NewApp knows no versions: no pipeline then.
	manifests := t.TempDir()
	for name, data := range fixtures.AcmePipelineFiles() {
		if name == manifest.StudioFile {
			data = append(data, "pipeline:\n  enabled: true\n  connectionArn: arn:aws:codeconnections:us-west-2:111111111111:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n  repository: acme/render-estate\n  branch: main\n"...)
		}
		if err := os.WriteFile(filepath.Join(manifests, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, errs := manifest.LoadDir(manifests)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := Build(awscdk.NewApp(nil), e, nil); err == nil || !strings.Contains(err.Error(), "package-lock.json: packages: pins no aws-cdk or cdk-assets version") {
		t.Errorf("a pipeline without the lock file's versions: %v", err)
	}
}

// A production with a DR and an exchange stack adds their change sets to
// its wave, which then holds fewer productions: no wave exceeds
// CodePipeline's 50 actions.
func TestWavesCountEveryStackOfAProductionsStage(t *testing.T) {
	plain := manifest.Resolved{Production: manifest.Production{Tier: 1}}
	full := plain
	full.Ingest = &manifest.Ingest{DrRegion: "us-east-2"}
	full.Vendors = []manifest.Vendor{{Name: "lumen"}}
	if got := stageActions(plain); got != 10 {
		t.Errorf("a Tier 1 production with two stacks: %d actions, want 10", got)
	}
	if got := stageActions(full); got != 18 {
		t.Errorf("a Tier 1 production with four stacks: %d actions, want 18", got)
	}
	for _, tc := range []struct {
		rs    []manifest.Resolved
		sizes []int
	}{
		{slices.Repeat([]manifest.Resolved{plain}, 7), []int{5, 2}},
		{slices.Repeat([]manifest.Resolved{full}, 5), []int{2, 2, 1}},
		{[]manifest.Resolved{full, plain, plain, plain, full}, []int{4, 1}},
	} {
		var sizes []int
		for _, w := range waves(tc.rs) {
			n := 0
			for _, r := range w {
				n += stageActions(r)
			}
			if n > maxActions {
				t.Errorf("a wave of %d actions", n)
			}
			sizes = append(sizes, len(w))
		}
		if !slices.Equal(sizes, tc.sizes) {
			t.Errorf("waves of %v, want %v", sizes, tc.sizes)
		}
	}
}
