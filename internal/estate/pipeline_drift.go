package estate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/manifest"
)

// driftCheck is a build, before anything deploys, that lists the deployed
// stacks of every account and region of the estate, read through each
// account's CDK lookup role (read-only), and fails when one tagged with the
// studio is no longer in the manifests (renderenv drift): a removed
// production's stacks keep their roles and routes until someone deletes
// them.
func (b *builder) driftCheck(resolved []manifest.Resolved) pipelines.Step {
	targets := estateTargets(b.studio, resolved)
	q := b.studio.BootstrapQualifier()
	var commands, roles, files []string
	for _, t := range targets {
		acct, region := t[0], t[1]
		role := fmt.Sprintf("arn:aws:iam::%s:role/cdk-%s-lookup-role-%s-%s", acct, q, acct, region)
		file := fmt.Sprintf("drift/%s-%s.json", acct, region)
		roles, files = append(roles, role), append(files, file)
		commands = append(commands, fmt.Sprintf(`c=$(aws sts assume-role --role-arn %s --role-session-name renderenv-drift --query "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]" --output text) && set -- $c && AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 AWS_SESSION_TOKEN=$3 aws cloudformation describe-stacks --region %s > %s`, role, region, file))
	}
	commands = append([]string{"mkdir -p drift"}, commands...)
	commands = append(commands, "go run ./bin/renderenv drift --dir productions "+strings.Join(files, " "))
	return pipelines.NewCodeBuildStep(jsii.String("Drift"), &pipelines.CodeBuildStepProps{
		Input:    b.pipelineSource,
		Env:      buildEnv(),
		Commands: jsii.Strings(commands...),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(roles...),
		})},
	})
}

// estateTargets are the accounts and regions the estate deploys into, in
// order: the management and log-archive accounts, the pools', the
// productions'.
func estateTargets(s *manifest.Studio, resolved []manifest.Resolved) [][2]string {
	var out [][2]string
	add := func(acct, region string) {
		if t := [2]string{acct, region}; !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	add(s.ManagementAccount, s.Region)
	add(s.LogArchive(), s.Region)
	for _, p := range s.Pools {
		add(p.Account, p.Region)
	}
	for _, r := range resolved {
		add(r.Account, r.Region)
	}
	return out
}
