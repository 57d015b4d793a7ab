package estate

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Wave sizes: CodePipeline allows 50 actions in a stage, and a wave is one
// stage. Each production deploys two stacks, each by a change set prepared
// and then executed (4 actions), after its permissions-broadening check (2);
// in Tier 1 each change set also waits for its approval and approver check
// (4 more), elsewhere the confirmation's approver is checked (1 more). A
// production with ingest or vendors deploys a DR or exchange stack more,
// and its wave holds fewer productions (waves).
const (
	WaveSize      = 7
	Tier1WaveSize = 5
	maxActions    = 50
)

// stageActions are the actions a production's stage adds to its wave.
func stageActions(r manifest.Resolved) int {
	stacks := 2
	if r.Ingest != nil {
		stacks++
	}
	if len(r.Vendors) > 0 {
		stacks++
	}
	if r.Tier == 1 {
		return 4*stacks + 2
	}
	return 2*stacks + 3
}

// waves splits one tier's productions, in order, into waves of at most
// maxActions actions.
func waves(rs []manifest.Resolved) [][]manifest.Resolved {
	var out [][]manifest.Resolved
	used := maxActions
	for _, r := range rs {
		n := stageActions(r)
		if used+n > maxActions {
			out = append(out, nil)
			used = 0
		}
		out[len(out)-1] = append(out[len(out)-1], r)
		used += n
	}
	return out
}

// Pipeline is the optional CDK Pipelines delivery of the whole estate.
type Pipeline struct {
	Stack    awscdk.Stack
	Pipeline pipelines.CodePipeline
	Stages   map[string]awscdk.Stage
	Waves    []string
	// Approvals is the topic every approval the pipeline waits for
	// notifies.
	Approvals awssns.Topic
	Tools     Tools
}

// startPipeline creates the pipeline stack and makes every later stack go
// into a stage: "shared" for the studio-wide stacks, one per production.
func (b *builder) startPipeline() error {
	s := b.studio
	tools, err := pipelineTools(b.app)
	if err != nil {
		return err
	}
	name := b.names.PipelineStack()
	st := awscdk.NewStack(b.app, jsii.String(name), &awscdk.StackProps{
		StackName:             jsii.String(name),
		Env:                   &awscdk.Environment{Account: jsii.String(s.ManagementAccount), Region: jsii.String(s.Region)},
		Description:           jsii.String(s.Studio + " delivery: deploys every stack of the estate into its own account and region, one wave per tier"),
		TerminationProtection: jsii.Bool(true),
		Synthesizer:           Synthesizer(s),
	})
	tagging.Apply(st, map[string]string{tagging.KeyStudio: s.Studio, tagging.KeyOwner: s.SharedOwner()})
	tagging.Apply(st, sharedTags(tagging.Security))
	source := pipelines.CodePipelineSource_Connection(jsii.String(s.Pipeline.Repository), jsii.String(s.Pipeline.Branch),
		&pipelines.ConnectionSourceOptions{ConnectionArn: jsii.String(s.Pipeline.Connection)})
	pipe := pipelines.NewCodePipeline(st, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String(b.pipelineName()),
		// The synth step runs the app, so cdk-nag findings stop the pipeline
		// before anything deploys; npm ci installs the lock file's CLI.
		Synth: pipelines.NewShellStep(jsii.String("Synth"), &pipelines.ShellStepProps{
			Input:    source,
			Env:      buildEnv(),
			Commands: jsii.Strings("npm ci", "npx cdk synth"),
		}),
		// The steps CDK Pipelines writes itself install exactly the
		// versions of package-lock.json (ReadTools).
		CliVersion:          jsii.String(tools.CLI),
		CdkAssetsCliVersion: jsii.String(tools.Assets),
		CodeBuildDefaults:   &pipelines.CodeBuildOptions{BuildEnvironment: &awscodebuild.BuildEnvironment{BuildImage: buildImage()}},
		CrossAccountKeys:    jsii.Bool(true),
		EnableKeyRotation:   jsii.Bool(true),
		// Every stack deploys through a change set, so that approvals are
		// given on the change itself (see finishPipeline).
		UseChangeSets: jsii.Bool(true),
		PipelineType:  awscodepipeline.PipelineType_V2,
	})
	p := &Pipeline{Stack: st, Pipeline: pipe, Stages: map[string]awscdk.Stage{}, Tools: tools}
	p.Approvals = newApprovalTopic(st, s)
	b.out.Pipeline = p
	b.pipelineSource = source
	b.scope = func(group string) constructs.Construct {
		if stage, ok := p.Stages[group]; ok {
			return stage
		}
		stage := awscdk.NewStage(b.app, jsii.String(group), &awscdk.StageProps{StageName: jsii.String(group)})
		p.Stages[group] = stage
		return stage
	}
	return nil
}

// productionSteps are the steps of a production's stage: Tier 1's
// change-set approvals follow its broadening check; elsewhere the
// broadening confirmation's approver is checked.
func (b *builder) productionSteps(tier int64, name string) *pipelines.AddStageOpts {
	if tier == 1 {
		return &pipelines.AddStageOpts{Pre: &[]pipelines.Step{b.broadening(name)}, StackSteps: b.approved(name, "Tier 1 (pre-release) production "+name)}
	}
	return &pipelines.AddStageOpts{Pre: b.checkedBroadening(name)}
}

// pipelineName is the CodePipeline pipeline's name.
func (b *builder) pipelineName() string { return b.studio.Studio + "-estate" }

// finishPipeline adds the stages: the shared stacks after the tests and
// behind an approval of their change sets, then a wave per tier (chunked to
// the wave size), each Tier 1 production behind an approval of its own
// change sets. Every stage first confirms any broadening of permissions.
func (b *builder) finishPipeline(resolved []manifest.Resolved) {
	p := b.out.Pipeline
	checks := pipelines.NewShellStep(jsii.String("Checks"), &pipelines.ShellStepProps{
		Input: b.pipelineSource,
		Env:   buildEnv(),
		// The CI entry point: it installs the pinned cfn-lint and requires
		// the template linters to run, as CI does.
		Commands: jsii.Strings("bash .ci/run"),
	})
	shared := p.Stages[sharedGroup]
	p.Pipeline.AddStage(shared, &pipelines.AddStageOpts{
		Pre:        &[]pipelines.Step{checks, b.driftCheck(resolved), b.broadening(sharedGroup)},
		StackSteps: b.approved(sharedGroup, "the shared stacks (logging, network, pools and their links), which every production's security rests on"),
	})
	byTier := map[int64][]manifest.Resolved{}
	for _, r := range resolved {
		byTier[r.Tier] = append(byTier[r.Tier], r)
	}
	for _, tier := range []int64{1, 2, 3} {
		rs := byTier[tier]
		sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
		for i, wave := range waves(rs) {
			id := fmt.Sprintf("tier-%d-%d", tier, i+1)
			w := p.Pipeline.AddWave(jsii.String(id), nil)
			for _, r := range wave {
				w.AddStage(p.Stages[r.Name], b.productionSteps(tier, r.Name))
			}
			p.Waves = append(p.Waves, id)
		}
	}
	// Build now rather than at synthesis, so that the pipeline's resources
	// exist when the suppressions are attached.
	p.Pipeline.BuildPipeline()
	b.allowAutoConfirmation()
	b.reviewSelfMutation()
	b.hardenArtifacts()
}
