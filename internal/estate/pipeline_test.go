package estate_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/estate"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

const pipelineBlock = `
pipeline:
  enabled: true
  connectionArn: arn:aws:codeconnections:us-west-2:111111111111:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
  repository: acme/render-estate
  branch: main
`

// pipelineManifests copies the acme fixture and turns the pipeline on.
func pipelineManifests(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range fixtures.AcmePipelineFiles() {
		if name == manifest.StudioFile {
			data = append(data, pipelineBlock...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func buildPipeline(t *testing.T, customize func(*estate.Estate)) (*estate.Estate, string, func() []estate.Finding) {
	t.Helper()
	out := t.TempDir()
	app, err := estate.NewApp("../..", out)
	if err != nil {
		t.Fatal(err)
	}
	e, errs := manifest.LoadDir(pipelineManifests(t))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	est, err := estate.BuildWith(app, e, estate.Options{Checks: true, Customize: customize})
	if err != nil {
		t.Fatal(err)
	}
	return est, out, func() []estate.Finding { return estate.Errors(app.Synth(nil)) }
}

// withPipeline is the acme estate with the pipeline on, built and
// synthesized once per test binary: the pipeline and suppression tests
// read it (TestCdkNagChecksStacksInsidePipelineStages builds its own).
var withPipeline struct {
	once     sync.Once
	done     bool
	est      *estate.Estate
	findings []estate.Finding
	template []byte // acme-pipeline.template.json
}

func pipelineEstate(t *testing.T) *estate.Estate {
	t.Helper()
	withPipeline.once.Do(func() {
		est, out, synth := buildPipeline(t, nil)
		findings := synth()
		data, err := os.ReadFile(filepath.Join(out, "acme-pipeline.template.json"))
		if err != nil {
			t.Fatal(err)
		}
		withPipeline.est, withPipeline.findings, withPipeline.template, withPipeline.done = est, findings, data, true
	})
	if !withPipeline.done {
		t.Fatal("building the acme estate with the pipeline failed (see the first test that needed it)")
	}
	return withPipeline.est
}

func TestPipelineDeploysSharedStacksThenOneWavePerTierWithTier1Approval(t *testing.T) {
	est := pipelineEstate(t)
	for _, f := range withPipeline.findings {
		t.Errorf("unsuppressed cdk-nag finding: %s", f)
	}
	if got := strings.Join(est.Pipeline.Waves, " "); got != "tier-1-1 tier-2-1 tier-3-1" {
		t.Errorf("waves %q", got)
	}
	tpl, err := cfn.ParseTemplate("acme-pipeline", withPipeline.template)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string][]string{}
	var order []string
	for _, r := range tpl.OfType("AWS::CodePipeline::Pipeline") {
		for _, s := range cfn.AsList(r.Properties["Stages"]) {
			name := cfn.Str(cfn.At(s, "Name"))
			order = append(order, name)
			for _, a := range cfn.AsList(cfn.At(s, "Actions")) {
				stages[name] = append(stages[name], cfn.Str(cfn.At(a, "ActionTypeId.Category"))+":"+cfn.Str(cfn.At(a, "Name")))
			}
		}
	}
	// A wave of one production is named after it; a larger one after the wave.
	stageOf := func(action string) string {
		for _, name := range order {
			for _, a := range stages[name] {
				if strings.HasPrefix(a, "Deploy:") && strings.HasSuffix(a, action) {
					return name
				}
			}
		}
		return ""
	}
	has := func(stage, prefix string) bool {
		for _, a := range stages[stage] {
			if strings.HasPrefix(a, prefix) {
				return true
			}
		}
		return false
	}
	index := func(stage string) int {
		for i, n := range order {
			if n == stage {
				return i
			}
		}
		return -1
	}
	tier1 := stageOf("acme-nightfall.Deploy")
	tier2 := stageOf("acme-harbour.Deploy")
	tier3 := stageOf("acme-brightside.Deploy")
	if tier3 != stageOf("acme-lighthouse.Deploy") {
		t.Errorf("the two Tier 3 productions deploy in different stages")
	}
	if !(index("shared") < index(tier1) && index(tier1) < index(tier2) && index(tier2) < index(tier3)) {
		t.Errorf("stage order %q: want shared, then tier 1 (%s), tier 2 (%s), tier 3 (%s)", order, tier1, tier2, tier3)
	}
	if !has(tier1, "Approval:") {
		t.Errorf("tier 1 stage has no manual approval: %v", stages[tier1])
	}
	// Tiers 2 and 3 wait only when permissions broaden.
	for _, s := range []string{tier2, tier3} {
		for _, a := range stages[s] {
			if strings.HasPrefix(a, "Approval:") && !strings.HasSuffix(a, ".Confirm") {
				t.Errorf("%s should deploy without approval: %v", s, stages[s])
			}
		}
	}
	if !has(tier1, "Deploy:acme-nightfall-link.Deploy") {
		t.Errorf("the link stack does not deploy with its production: %v", stages[tier1])
	}
	if !has("shared", "Build:Checks") {
		t.Errorf("the shared stage does not run the checks first: %v", stages["shared"])
	}
	// The checks are CI's own entry point, which pins cfn-lint and requires
	// the linters.
	if !strings.Contains(string(withPipeline.template), `bash .ci/run`) {
		t.Error("no build project of the pipeline runs bash .ci/run")
	}
}

func TestCdkNagChecksStacksInsidePipelineStages(t *testing.T) {
	// An unencrypted, unlogged bucket in a stage stack must be reported.
	_, _, synth := buildPipeline(t, func(est *estate.Estate) {
		awss3.NewBucket(est.Productions["nightfall"].Stack, jsii.String("Careless"), nil)
	})
	findings := synth()
	var found bool
	for _, f := range findings {
		if strings.Contains(f.Path, "/Careless/") {
			found = true
		}
	}
	if !found {
		t.Fatalf("cdk-nag did not report the careless bucket in the nightfall stage; findings: %v", findings)
	}
}

func TestOnlyIsRefusedWithThePipeline(t *testing.T) {
	app, err := estate.NewApp("../..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e, errs := manifest.LoadDir(pipelineManifests(t))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	_, err = estate.Build(app, e, []string{"nightfall"})
	if err == nil || !strings.Contains(err.Error(), "context: only: cannot be combined with pipeline.enabled") {
		t.Errorf("got %v", err)
	}
}
