package estate

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// selfMutationApproval is the action name of the approval that releases a
// change of the pipeline itself.
const selfMutationApproval = "Approve-pipeline"

// reviewSelfMutation puts a stage before CDK Pipelines' UpdatePipeline,
// which redeploys the pipeline stack with the CDK bootstrap roles of the
// management account: a commit could otherwise remove the checks or the
// approvals before they run. The stage prints the pipeline stack's diff,
// waits for an approval, and checks the approver; every execution passes
// through it, with an empty diff when the pipeline is unchanged.
func (b *builder) reviewSelfMutation() {
	p := b.out.Pipeline
	cp := p.Pipeline.Pipeline()
	var update awscodepipeline.IStage
	for _, st := range *cp.Stages() {
		if *st.StageName() == "UpdatePipeline" {
			update = st
		}
	}
	assembly := (*(*update.Actions())[0].ActionProperties().Inputs)[0]
	diff := b.pipelineProject("PipelineDiff", "prints the diff of the "+b.names.PipelineStack()+" stack for its approvers",
		[]string{"npm install -g aws-cdk@" + p.Tools.CLI},
		[]string{"cdk -a . diff --no-change-set " + b.names.PipelineStack()})
	b.allowDiff(diff)
	check := b.pipelineProject("CheckPipelineApprover", "fails unless one of pipeline.approvers approved the pipeline change", nil,
		approverCheckCommands(b.pipelineName(), selfMutationApproval, b.studio.ManagementAccount, b.studio.PipelineApprovers()))
	check.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("codepipeline:GetPipelineState"),
		Resources: &[]*string{cp.PipelineArn()},
	}))
	region := b.studio.Region
	cp.AddStage(&awscodepipeline.StageOptions{
		StageName: jsii.String("ReviewPipeline"),
		Placement: &awscodepipeline.StagePlacement{RightBefore: update},
		Actions: &[]awscodepipeline.IAction{
			awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{
				ActionName: jsii.String("PipelineDiff"), Input: assembly, Project: diff, RunOrder: jsii.Number(1),
			}),
			awscodepipelineactions.NewManualApprovalAction(&awscodepipelineactions.ManualApprovalActionProps{
				ActionName:            jsii.String(selfMutationApproval),
				RunOrder:              jsii.Number(2),
				NotificationTopic:     p.Approvals,
				AdditionalInformation: jsii.String("The next stage redeploys this pipeline with administrator rights. Read the PipelineDiff build's log (linked) before approving: a removed Checks step, approval or approver is a change to refuse. Only " + approverList(b.studio) + " may approve."),
				ExternalEntityLink:    jsii.String(fmt.Sprintf("https://%s.console.aws.amazon.com/codesuite/codebuild/projects/%s/history?region=%s", region, *diff.ProjectName(), region)),
			}),
			awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{
				ActionName: jsii.String("CheckPipelineApprover"), Input: assembly, Project: check, RunOrder: jsii.Number(3),
			}),
		},
	})
}

// pipelineProject is a CodeBuild project of the pipeline stack, on the
// pipeline's image and encrypted with its artifact key.
func (b *builder) pipelineProject(id, purpose string, install, build []string) awscodebuild.PipelineProject {
	phases := map[string]any{"build": map[string]any{"commands": build}}
	if len(install) > 0 {
		phases["install"] = map[string]any{"commands": install}
	}
	p := b.out.Pipeline
	var scope constructs.Construct = p.Stack
	if found, ok := p.Stack.Node().TryFindChild(jsii.String("ReviewPipeline")).(constructs.Construct); ok {
		scope = found
	} else {
		scope = constructs.NewConstruct(p.Stack, jsii.String("ReviewPipeline"))
	}
	return awscodebuild.NewPipelineProject(scope, jsii.String(id), &awscodebuild.PipelineProjectProps{
		Description:   jsii.String(b.studio.Studio + " pipeline: " + purpose),
		BuildSpec:     awscodebuild.BuildSpec_FromObject(&map[string]any{"version": "0.2", "phases": phases}),
		Environment:   &awscodebuild.BuildEnvironment{BuildImage: buildImage()},
		EncryptionKey: p.Pipeline.Pipeline().ArtifactBucket().EncryptionKey(),
	})
}

// allowDiff lets the diff read the deployed pipeline stack, directly or
// through the management account's CDK look-up role as the CLI prefers.
func (b *builder) allowDiff(diff awscodebuild.PipelineProject) {
	s := b.studio
	diff.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("cloudformation:DescribeStacks", "cloudformation:GetTemplate"),
		Resources: jsii.Strings(fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/*", s.Region, s.ManagementAccount, b.names.PipelineStack())),
	}))
	diff.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: jsii.Strings(fmt.Sprintf("arn:aws:iam::%s:role/cdk-%s-lookup-role-%s-%s", s.ManagementAccount, s.BootstrapQualifier(), s.ManagementAccount, s.Region)),
	}))
}
