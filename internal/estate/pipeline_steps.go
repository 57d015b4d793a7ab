package estate

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/manifest"
)

// pipelineTools are the tool versions NewApp read from package-lock.json.
func pipelineTools(app awscdk.App) (Tools, error) {
	cli, _ := app.Node().TryGetContext(jsii.String(cliVersionKey)).(string)
	assets, _ := app.Node().TryGetContext(jsii.String(assetsVersionKey)).(string)
	if cli == "" || assets == "" {
		return Tools{}, manifest.ErrorList{{File: "package-lock.json", Field: "packages", Message: "pins no aws-cdk or cdk-assets version: the pipeline installs exactly the lock file's versions (create the app with estate.NewApp in the project folder)"}}
	}
	return Tools{CLI: cli, Assets: assets}, nil
}

// buildImage is the CodeBuild image of every project of the pipeline.
// CodeBuild's curated images are named by a tag AWS patches in place and
// cannot be pinned by digest; what runs on it is pinned instead: the CDK
// CLI and cdk-assets (package-lock.json), Go (at least go.mod's version) and
// cfn-lint (.ci/run).
func buildImage() awscodebuild.IBuildImage { return awscodebuild.LinuxBuildImage_STANDARD_7_0() }

func buildEnv() *map[string]*string {
	return &map[string]*string{
		"GOTOOLCHAIN": jsii.String("auto"),
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": jsii.String("20"),
	}
}

// newApprovalTopic is the topic every wait for a person notifies: the
// approvals and the permissions-broadening confirmations. It is the
// pipeline's own, encrypted with the artifact key (hardenArtifacts): the
// security alarm topics accept only CloudWatch alarms of their account. The
// studio's alert addresses are subscribed.
func newApprovalTopic(st awscdk.Stack, s *manifest.Studio) awssns.Topic {
	t := awssns.NewTopic(st, jsii.String("Approvals"), &awssns.TopicProps{
		TopicName:   jsii.String(s.Studio + "-pipeline-approvals"),
		DisplayName: jsii.String(s.Studio + " pipeline approvals"),
		EnforceSSL:  jsii.Bool(true),
	})
	for _, e := range s.Alerts.Emails {
		t.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	return t
}

// approved puts an approval between the preparation of each change set
// of the group's stage and its execution: the approver reads the change
// set (PipelineChange, in the stack's account) before anything changes,
// and what executes is what was prepared, whatever the artifact bucket
// holds by then. A check after it fails the stage unless the approver is
// one of pipeline.approvers. One approval cannot cover a whole stage: a
// stack's change set is prepared only once the stacks it depends on are
// deployed.
func (b *builder) approved(group, what string) *[]*pipelines.StackSteps {
	p := b.out.Pipeline
	var out []*pipelines.StackSteps
	for _, c := range *p.Stages[group].Node().Children() {
		st, ok := c.(awscdk.Stack)
		if !ok || !*awscdk.Stack_IsStack(c) {
			continue
		}
		name := *st.StackName()
		approve := pipelines.NewManualApprovalStep(jsii.String(approvalID(name)), &pipelines.ManualApprovalStepProps{
			Comment: jsii.String("Review the change set PipelineChange of the stack " + name + " (" + what + "), in the CloudFormation console of account " +
				*st.Account() + ", before it executes. Only " + approverList(b.studio) + " may approve; any other approval fails the stage."),
			NotificationTopic: p.Approvals,
			ReviewUrl: jsii.String(fmt.Sprintf("https://%s.console.aws.amazon.com/cloudformation/home?region=%s#/stacks?filteringText=%s&filteringStatus=active",
				*st.Region(), *st.Region(), name)),
		})
		check := b.approverCheck("CheckApprover-"+name, approvalID(name))
		check.AddStepDependency(approve)
		out = append(out, &pipelines.StackSteps{Stack: st, ChangeSet: &[]pipelines.Step{approve, check}})
	}
	return &out
}

func approvalID(group string) string { return "Approve-" + group }

func approverList(s *manifest.Studio) string {
	var list []string
	for _, p := range s.PipelineApprovers() {
		list = append(list, p.String())
	}
	return strings.Join(list, ", ")
}

// approverCheck is a build that reads who gave the approval named action,
// from the pipeline's state, and fails unless it was a session of one of
// pipeline.approvers. CodePipeline has no resource policy, so IAM alone
// cannot keep codepipeline:PutApprovalResult from the account's
// administrators; this makes their approval worthless instead.
func (b *builder) approverCheck(id, action string, extra ...string) pipelines.CodeBuildStep {
	s := b.studio
	return pipelines.NewCodeBuildStep(jsii.String(id), &pipelines.CodeBuildStepProps{
		Commands: jsii.Strings(approverCheckCommands(b.pipelineName(), action, s.ManagementAccount, s.PipelineApprovers(), extra...)...),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("codepipeline:GetPipelineState"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", s.Region, s.ManagementAccount, b.pipelineName())),
		})},
	})
}

// approverCheckCommands are the check's shell commands: the approval's
// lastUpdatedBy is the approver's session ARN, which must match a session
// of an approver role (an Identity Center role for sso:NAME) or one of the
// extra shell patterns.
func approverCheckCommands(pipeline, action, account string, approvers []manifest.Person, extra ...string) []string {
	var patterns []string
	for _, p := range approvers {
		role := p.RoleArn[strings.LastIndex(p.RoleArn, "/")+1:]
		if p.SSO() {
			role = "AWSReservedSSO_" + p.PermissionSet + "_" + strings.Repeat("?", 16)
		}
		patterns = append(patterns, fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/*", account, role))
	}
	patterns = append(patterns, extra...)
	get := func(field string) string {
		return fmt.Sprintf(`aws codepipeline get-pipeline-state --name %s --query "stageStates[].actionStates[] | [?ends_with(actionName, '%s')] | [0].latestExecution.%s" --output text`, pipeline, action, field)
	}
	return []string{
		"status=$(" + get("status") + ")",
		"by=$(" + get("lastUpdatedBy") + ")",
		`echo "approval: $status by $by"`,
		`[ "$status" = Succeeded ] || exit 1`,
		fmt.Sprintf(`case "$by" in %s) echo "an approver of studio.yaml pipeline.approvers" ;; *) echo "$by is not in studio.yaml pipeline.approvers: this approval does not count"; exit 1 ;; esac`, strings.Join(patterns, "|")),
	}
}
