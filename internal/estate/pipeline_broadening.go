package estate

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// autoConfirmer is the environment variable that names, in a confirmation
// check, the role of CDK Pipelines' broadening function.
const autoConfirmer = "AUTO_CONFIRMER"

// broadening is the stage's permissions-broadening confirmation: CDK
// Pipelines diffs the stage's security changes (IAM, security groups) and
// waits for a person when any permission widens; otherwise its function
// confirms.
func (b *builder) broadening(group string) pipelines.Step {
	p := b.out.Pipeline
	return pipelines.NewConfirmPermissionsBroadening(jsii.String("Broadening-"+group), &pipelines.PermissionsBroadeningCheckProps{
		Stage:             p.Stages[group],
		NotificationTopic: p.Approvals,
	})
}

// checkedBroadening is the broadening confirmation followed by a check
// that a person of pipeline.approvers, or CDK Pipelines' function when
// nothing widened, gave it: the stages without change-set approvals.
func (b *builder) checkedBroadening(group string) *[]pipelines.Step {
	confirm := b.broadening(group)
	check := b.approverCheck("CheckApprover-Broadening-"+group, "Broadening-"+group+".Confirm",
		"arn:aws:sts::"+b.studio.ManagementAccount+":assumed-role/$"+autoConfirmer+"/*")
	check.AddStepDependency(confirm)
	return &[]pipelines.Step{confirm, check}
}

// allowAutoConfirmation gives each confirmation check (the projects whose
// commands name autoConfirmer) the name of the broadening function's role,
// which exists only once the pipeline is built.
func (b *builder) allowAutoConfirmation() {
	p := b.out.Pipeline
	check := p.Pipeline.Node().TryFindChild(jsii.String("PipelinesSecurityCheck"))
	if check == nil {
		return
	}
	role := check.Node().FindChild(jsii.String("CDKPipelinesAutoApprove")).Node().FindChild(jsii.String("ServiceRole")).(awsiam.IRole)
	for _, c := range *p.Stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		project, ok := c.(awscodebuild.CfnProject)
		if !ok || !strings.Contains(asJSON(p.Stack.Resolve(project.Source())), "$"+autoConfirmer+"/") {
			continue
		}
		project.AddPropertyOverride(jsii.String("Environment.EnvironmentVariables"), []any{
			map[string]any{"Name": autoConfirmer, "Type": "PLAINTEXT", "Value": role.RoleName()},
		})
	}
}
