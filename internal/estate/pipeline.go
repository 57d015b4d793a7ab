package estate

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// WaveSize is the most productions one pipeline wave deploys. CodePipeline
// allows 50 actions in a stage; a production deploys two stacks, so twenty
// productions leave room for the wave's approval and checks.
const WaveSize = 20

// Pipeline is the optional CDK Pipelines delivery of the whole estate.
type Pipeline struct {
	Stack    awscdk.Stack
	Pipeline pipelines.CodePipeline
	Stages   map[string]awscdk.Stage
	Waves    []string
}

// startPipeline creates the pipeline stack and makes every later stack go
// into a stage: "shared" for the studio-wide stacks, one per production.
func (b *builder) startPipeline() {
	s := b.studio
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
	env := &map[string]*string{
		"GOTOOLCHAIN": jsii.String("auto"),
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": jsii.String("20"),
	}
	pipe := pipelines.NewCodePipeline(st, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String(s.Studio + "-estate"),
		// The synth step runs the app, so cdk-nag findings stop the pipeline
		// before anything deploys.
		Synth: pipelines.NewShellStep(jsii.String("Synth"), &pipelines.ShellStepProps{
			Input:    source,
			Env:      env,
			Commands: jsii.Strings("npm ci", "npx cdk synth"),
		}),
		CrossAccountKeys:  jsii.Bool(true),
		EnableKeyRotation: jsii.Bool(true),
		UseChangeSets:     jsii.Bool(false),
		PipelineType:      awscodepipeline.PipelineType_V2,
	})
	p := &Pipeline{Stack: st, Pipeline: pipe, Stages: map[string]awscdk.Stage{}}
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
}

// finishPipeline adds the stages: the shared stacks after the tests, then a
// wave per tier (chunked to WaveSize), Tier 1 behind a manual approval.
func (b *builder) finishPipeline(resolved []manifest.Resolved) {
	p := b.out.Pipeline
	checks := pipelines.NewShellStep(jsii.String("Checks"), &pipelines.ShellStepProps{
		Input: b.pipelineSource,
		Env:   &map[string]*string{"GOTOOLCHAIN": jsii.String("auto")},
		// The CI entry point: it installs the pinned cfn-lint and requires
		// the template linters to run, as CI does.
		Commands: jsii.Strings("bash .ci/run"),
	})
	p.Pipeline.AddStage(p.Stages["shared"], &pipelines.AddStageOpts{Pre: &[]pipelines.Step{checks}})
	byTier := map[int64][]string{}
	for _, r := range resolved {
		byTier[r.Tier] = append(byTier[r.Tier], r.Name)
	}
	for _, tier := range []int64{1, 2, 3} {
		names := byTier[tier]
		sort.Strings(names)
		for i := 0; i < len(names); i += WaveSize {
			chunk := names[i:min(i+WaveSize, len(names))]
			id := fmt.Sprintf("tier-%d-%d", tier, i/WaveSize+1)
			opts := &pipelines.WaveOptions{}
			if tier == 1 {
				opts.Pre = &[]pipelines.Step{pipelines.NewManualApprovalStep(jsii.String("Approve"+id), &pipelines.ManualApprovalStepProps{
					Comment: jsii.String("Tier 1 (pre-release) productions: review the change before it deploys"),
				})}
			}
			wave := p.Pipeline.AddWave(jsii.String(id), opts)
			for _, n := range chunk {
				wave.AddStage(p.Stages[n], nil)
			}
			p.Waves = append(p.Waves, id)
		}
	}
	// Build now rather than at synthesis, so that the pipeline's resources
	// exist when the suppressions are attached.
	p.Pipeline.BuildPipeline()
	b.hardenArtifacts()
}

// hardenArtifacts holds the bucket CDK Pipelines makes for its artifacts
// to the estate's bucket rules: ACLs off (bucket owner enforced) and
// versioned, so a template waiting for approval cannot be swapped without
// a trace; and its key to the key rules (hardenArtifactKey).
func (b *builder) hardenArtifacts() {
	bucket := b.out.Pipeline.Pipeline.Pipeline().ArtifactBucket()
	cfn := bucket.Node().DefaultChild().(awss3.CfnBucket)
	cfn.SetOwnershipControls(&awss3.CfnBucket_OwnershipControlsProperty{
		Rules: []any{&awss3.CfnBucket_OwnershipControlsRuleProperty{ObjectOwnership: jsii.String("BucketOwnerEnforced")}},
	})
	cfn.SetVersioningConfiguration(&awss3.CfnBucket_VersioningConfigurationProperty{Status: jsii.String("Enabled")})
	b.hardenArtifactKey()
}

// hardenArtifactKey holds the key CDK Pipelines makes for its artifact
// bucket to the rules of every other key of the estate (ISE 9.1 to 9.5): it
// is retained with its bucket, waits 30 days before deletion, and its policy
// no longer hands the account kms:*. The account administers it through IAM;
// only the pipeline stack's own roles (CloudFormation names them
// <studio>-pipeline-...) may use it through IAM; the deployment roles of the
// target accounts keep the statements CDK Pipelines adds for them.
func (b *builder) hardenArtifactKey() {
	s := b.studio
	key := b.out.Pipeline.Pipeline.Pipeline().ArtifactBucket().EncryptionKey()
	cfn := key.Node().DefaultChild().(awskms.CfnKey)
	cfn.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	cfn.AddPropertyOverride(jsii.String("PendingWindowInDays"), 30)
	root := map[string]any{"AWS": "arn:aws:iam::" + s.ManagementAccount + ":root"}
	// CDK's Key puts the account statement first.
	cfn.AddPropertyOverride(jsii.String("KeyPolicy.Statement.0"), map[string]any{
		"Sid": "NamedAdministratorsOnly", "Effect": "Allow", "Principal": root,
		"Action": keys.AdminActions, "Resource": "*",
		"Condition": map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": keyAdmins(s, s.ManagementAccount, s.Region)}},
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PipelineRolesUseThroughIam"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(s.ManagementAccount))},
		Actions:    jsii.Strings(keys.UseActions...),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": names.RoleArn(s.ManagementAccount, b.names.PipelineStack()+"-*")}},
	}), jsii.Bool(false))
}
