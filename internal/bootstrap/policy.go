package bootstrap

import (
	"maps"
	"slices"
	"strings"
)

// The placeholders policies are written with: a template wraps each string
// holding one in Fn::Sub, and Substitute fills them for a given account and
// region (the access matrix).
const (
	partition = "${AWS::Partition}"
	account   = "${AWS::AccountId}"
	region    = "${AWS::Region}"
)

// Policy names: fixed per qualifier, so that the printed commands and the
// app (@aws-cdk/core:permissionsBoundary, which substitutes ${Qualifier}
// but no region) can name them. IAM names are per account: an estate has
// one region, so an account holds one renderenv bootstrap.
func execPolicyName(q string) string { return "cdk-" + q + "-renderenv-exec" }

// BoundaryName is the name of the permissions boundary the bootstrap
// creates, for the qualifier q (or "${Qualifier}", as the app's context
// names it).
func BoundaryName(q string) string { return "cdk-" + q + "-renderenv-boundary" }

func iamArn(kind, name string) string {
	return "arn:" + partition + ":iam::" + account + ":" + kind + "/" + name
}

// launches are the calls that start instances. CloudFormation never starts
// a render node: it creates launch templates, and the launcher role
// launches them.
var launches = []string{"ec2:RunInstances", "ec2:StartInstances", "ec2:CreateFleet", "ec2:RequestSpotFleet", "ec2:RequestSpotInstances"}

// bootstrapEdits are the IAM calls that would change a bootstrap role or
// renderenv's policies of the bootstrap.
var bootstrapEdits = []string{"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
	"iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:DeleteRole", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
	"iam:TagRole", "iam:UntagRole", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"}

func bootstrapResources(q string) []string {
	return []string{iamArn("role", "cdk-"+q+"-*"), iamArn("policy", "cdk-"+q+"-*")}
}

// ExecutionPolicy is the CloudFormation execution role's only policy: the
// actions of every resource type renderenv's templates hold (Actions),
// IAM on the studio's own roles, policies and instance profiles only (every
// role, policy and profile the estate creates is named <studio>-...: fixed
// names, or CloudFormation's <stack>-<id>-<suffix> with the stack named
// <studio>-...), S3 on the studio's buckets only, iam:PassRole of the
// studio's roles, the CDK staging bucket's assets and the account's SSM
// parameters to read, and two explicit denies: no instance launch, no change
// to the bootstrap's roles and policies.
func ExecutionPolicy(studio, q string) map[string]any {
	var st []any
	svc := serviceActions()
	for _, name := range slices.Sorted(maps.Keys(svc)) {
		res := []string{"*"}
		switch name {
		case "iam":
			res = []string{iamArn("role", studio+"-*"), iamArn("policy", studio+"-*"), iamArn("instance-profile", studio+"-*")}
		case "s3":
			res = []string{"arn:" + partition + ":s3:::" + studio + "-*"}
		case "lambda":
			res = []string{"arn:" + partition + ":lambda:" + region + ":" + account + ":function:" + studio + "-*"}
		}
		st = append(st, statement("Manage"+strings.ToUpper(name[:1])+strings.ReplaceAll(name[1:], "-", ""), "Allow", svc[name], res))
	}
	st = append(st,
		statement("PassEstateRoles", "Allow", []string{"iam:PassRole"}, []string{iamArn("role", studio+"-*")}),
		withCondition(statement("CreateServiceLinkedRoles", "Allow", []string{"iam:CreateServiceLinkedRole"}, []string{iamArn("role", "aws-service-role/*")}),
			"StringEquals", "iam:AWSServiceName", []string{"transitgateway.amazonaws.com", "route53resolver.amazonaws.com", "ram.amazonaws.com", "cloudtrail.amazonaws.com"}),
		statement("ReadStagedAssets", "Allow", []string{"s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketLocation"},
			[]string{"arn:" + partition + ":s3:::cdk-" + q + "-assets-" + account + "-" + region + "/*"}),
		statement("ResolveParameters", "Allow", []string{"ssm:GetParameter", "ssm:GetParameters"},
			[]string{"arn:" + partition + ":ssm:" + region + ":" + account + ":parameter/*"}),
		statement("NeverLaunchInstances", "Deny", launches, []string{"*"}),
		statement("NeverEditTheBootstrap", "Deny", bootstrapEdits, bootstrapResources(q)),
	)
	return map[string]any{"Version": "2012-10-17", "Statement": st}
}

// Boundary is the permissions boundary of the CloudFormation execution
// role and of every role the estate's stacks create (the app sets
// @aws-cdk/core:permissionsBoundary to it; the render nodes' roles keep
// their own, stricter one): it allows what the role's policies allow and
// denies, whatever a later policy grants: creating a role without a
// boundary, or any user; changing the bootstrap's roles and policies;
// removing a boundary; bypassing S3 Object Lock governance retention,
// stopping or deleting the studio's trails, updating them or writing the
// studio's SSM parameters (/renderenv/<studio>/...) other than as the
// execution role itself (which deploys them).
func Boundary(studio, q string) map[string]any {
	execRole := iamArn("role", "cdk-"+q+"-cfn-exec-role-"+account+"-"+region)
	trails := []string{"arn:" + partition + ":cloudtrail:*:" + account + ":trail/" + studio + "-*"}
	params := []string{"arn:" + partition + ":ssm:*:" + account + ":parameter/renderenv/" + studio + "/*"}
	notExec := func(s map[string]any) map[string]any {
		return withCondition(s, "ArnNotEquals", "aws:PrincipalArn", []string{execRole})
	}
	return map[string]any{"Version": "2012-10-17", "Statement": []any{
		statement("AllowWhatPoliciesAllow", "Allow", []string{"*"}, []string{"*"}),
		statement("NeverEditTheBootstrap", "Deny", bootstrapEdits, bootstrapResources(q)),
		// Every role the deployments create carries this boundary (the
		// app's @aws-cdk/core:permissionsBoundary), or one of the estate's
		// own (<studio>-*: the render nodes' roles), and no user is made.
		withCondition(statement("RolesCarryABoundary", "Deny", []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary"}, []string{"*"}),
			"StringNotLike", "iam:PermissionsBoundary", []string{iamArn("policy", BoundaryName(q)), iamArn("policy", studio+"-*")}),
		statement("NoUsers", "Deny", []string{"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"}, []string{"*"}),
		statement("NeverRemoveBoundaries", "Deny", []string{"iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"}, []string{"*"}),
		statement("NeverBypassGovernanceRetention", "Deny", []string{"s3:BypassGovernanceRetention"}, []string{"*"}),
		statement("NeverStopTheTrail", "Deny", []string{"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"}, trails),
		notExec(statement("OnlyDeploymentsUpdateTheTrail", "Deny", []string{"cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"}, trails)),
		notExec(statement("OnlyDeploymentsWriteParameters", "Deny", []string{"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:LabelParameterVersion"}, params)),
	}}
}

func statement(sid, effect string, actions, resources []string) map[string]any {
	return map[string]any{"Sid": sid, "Effect": effect, "Action": actions, "Resource": resources}
}

func withCondition(s map[string]any, op, key string, values []string) map[string]any {
	s["Condition"] = map[string]any{op: map[string]any{key: values}}
	return s
}

// Substitute returns a copy of a policy with its placeholders filled: the
// policy as IAM holds it in that account and region.
func Substitute(policy map[string]any, acct, rgn, q string) map[string]any {
	r := strings.NewReplacer(partition, "aws", account, acct, region, rgn, "${Qualifier}", q)
	return walk(policy, func(s string) any { return r.Replace(s) }).(map[string]any)
}

// sub wraps every string holding a placeholder in Fn::Sub, for a template.
func sub(policy map[string]any) map[string]any {
	return walk(policy, func(s string) any {
		if strings.Contains(s, "${") {
			return map[string]any{"Fn::Sub": s}
		}
		return s
	}).(map[string]any)
}

func walk(v any, f func(string) any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = walk(x, f)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = walk(x, f)
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = f(x)
		}
		return out
	case string:
		return f(v)
	}
	return v
}
