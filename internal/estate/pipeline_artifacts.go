package estate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/internal/names"
)

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
	bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyThePipelineWrites"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:RestoreObject"),
		Resources:  &[]*string{bucket.ArnForObjects(jsii.String("*"))},
		Conditions: &map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": b.pipelineRoles()}},
	}))
	b.hardenArtifactKey()
	// The approval topic is encrypted with the artifact key, which every
	// role that notifies it already uses; the topic exists before the key.
	topic := b.out.Pipeline.Approvals
	topic.Node().DefaultChild().(awssns.CfnTopic).SetKmsMasterKeyId(bucket.EncryptionKey().KeyArn())
	b.narrowAssetRole()
	b.pinSecurityCheck()
}

// pinSecurityCheck makes CDK Pipelines' permissions-broadening check
// install the lock file's CDK CLI: its buildspec installs the newest
// aws-cdk whatever cliVersion says.
func (b *builder) pinSecurityCheck() {
	p := b.out.Pipeline
	check := p.Pipeline.Node().TryFindChild(jsii.String("PipelinesSecurityCheck"))
	if check == nil {
		return
	}
	project := check.Node().FindChild(jsii.String("CDKSecurityCheck")).Node().DefaultChild().(awscodebuild.CfnProject)
	source, _ := p.Stack.Resolve(project.Source()).(map[string]any)
	pinned := strings.ReplaceAll(asJSON(source["buildSpec"]), `\"npm install -g aws-cdk\"`, `\"npm install -g aws-cdk@`+p.Tools.CLI+`\"`)
	var spec any
	if err := json.Unmarshal([]byte(pinned), &spec); err != nil {
		panic(err)
	}
	project.AddPropertyOverride(jsii.String("Source.BuildSpec"), spec)
}

func asJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// pipelineRoles is the aws:PrincipalArn pattern of the pipeline stack's own
// roles: CloudFormation names each <stack name>-<logical id>-<suffix>.
func (b *builder) pipelineRoles() string {
	return names.RoleArn(b.studio.ManagementAccount, b.names.PipelineStack()+"-*")
}

// narrowAssetRole holds the asset publishing role, which CodePipeline also
// uses to start the asset builds, to codebuild:StartBuild (and its reads)
// on the pipeline's own asset projects; CDK Pipelines grants it on every
// project of the account, as the projects do not exist when it grants. It
// also holds CDK Pipelines' approval function to this pipeline: it may
// otherwise approve in any pipeline of the account tagged for it.
func (b *builder) narrowAssetRole() {
	p := b.out.Pipeline
	if assets := p.Pipeline.Node().TryFindChild(jsii.String("Assets")); assets != nil {
		var projects []any
		for _, c := range *assets.Node().Children() {
			if pr, ok := c.(awscodebuild.IProject); ok {
				projects = append(projects, p.Stack.Resolve(pr.ProjectArn()))
			}
		}
		narrowStatement(p.Stack, assets.Node().FindChild(jsii.String("FileRole")), "codebuild:StartBuild", projects)
	}
	if check := p.Pipeline.Node().TryFindChild(jsii.String("PipelinesSecurityCheck")); check != nil {
		// Built from the name: the pipeline refers to the function through
		// the broadening check, so a reference back would be circular.
		arn := fmt.Sprintf("arn:aws:codepipeline:%s:%s:%s", b.studio.Region, b.studio.ManagementAccount, b.pipelineName())
		role := check.Node().FindChild(jsii.String("CDKPipelinesAutoApprove")).Node().FindChild(jsii.String("ServiceRole"))
		narrowStatement(p.Stack, role, "codepipeline:PutApprovalResult", []any{arn, arn + "/*"})
	}
}

// narrowStatement sets the resources of the statement of role's default
// policy that allows action. It sets the policy document itself, not an
// override, so that cdk-nag reads the narrowed statement.
func narrowStatement(st awscdk.Stack, role constructs.IConstruct, action string, resources []any) {
	policy := role.Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
	doc, _ := st.Resolve(policy.PolicyDocument()).(map[string]any)
	statements, _ := doc["Statement"].([]any)
	for _, raw := range statements {
		s := raw.(map[string]any)
		actions, ok := s["Action"].([]any)
		if !ok {
			actions = []any{s["Action"]}
		}
		if containsString(actions, action) {
			s["Resource"] = resources
		}
	}
	policy.SetPolicyDocument(doc)
}

func containsString(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
