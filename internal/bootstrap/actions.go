package bootstrap

import (
	"maps"
	"slices"
	"strings"
)

// Actions are the IAM actions CloudFormation needs to create, update,
// describe, tag and delete each resource type renderenv's templates hold
// (the types are collected from synthesized assemblies by the tests, which
// fail on a type missing here). A type with no actions is one CloudFormation
// handles itself (AWS::CDK::Metadata) or through another type's actions (a
// custom resource invokes its provider function).
//
// No entry holds ec2:RunInstances, ec2:CreateFleet or a Spot request:
// CloudFormation creates launch templates, never instances; render nodes are
// launched by the launcher role (and the execution policy denies launches
// outright, see ExecutionPolicy).
var Actions = map[string][]string{
	"AWS::CDK::Metadata":           nil,
	"Custom::AWS":                  {"lambda:InvokeFunction"},
	"Custom::VpcRestrictDefaultSG": {"lambda:InvokeFunction"},
	// The pipeline's self-mutation and asset publishing stacks.
	"AWS::CodeBuild::Project": {"codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject", "codebuild:BatchGetProjects"},
	"AWS::CodePipeline::Pipeline": {"codepipeline:CreatePipeline", "codepipeline:UpdatePipeline", "codepipeline:DeletePipeline",
		"codepipeline:GetPipeline", "codepipeline:GetPipelineState", "codepipeline:ListTagsForResource", "codepipeline:TagResource", "codepipeline:UntagResource",
		"codestar-connections:PassConnection", "codeconnections:PassConnection"},
	"AWS::Events::Rule": {"events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets",
		"events:ListTargetsByRule", "events:TagResource", "events:UntagResource"},

	"AWS::CloudTrail::Trail": {"cloudtrail:CreateTrail", "cloudtrail:UpdateTrail", "cloudtrail:DeleteTrail", "cloudtrail:StartLogging",
		"cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:DescribeTrails", "cloudtrail:PutEventSelectors", "cloudtrail:GetEventSelectors",
		"cloudtrail:PutInsightSelectors", "cloudtrail:GetInsightSelectors", "cloudtrail:AddTags", "cloudtrail:RemoveTags", "cloudtrail:ListTags",
		// An organization trail checks the organization.
		"organizations:DescribeOrganization", "organizations:ListAWSServiceAccessForOrganization"},
	"AWS::CloudWatch::Alarm": {"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
		"cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"},

	"AWS::EC2::CustomerGateway":                     ec2("CreateCustomerGateway", "DeleteCustomerGateway", "DescribeCustomerGateways"),
	"AWS::EC2::EIP":                                 ec2("AllocateAddress", "ReleaseAddress", "DescribeAddresses", "DescribeAddressesAttribute"),
	"AWS::EC2::FlowLog":                             append(ec2("CreateFlowLogs", "DeleteFlowLogs", "DescribeFlowLogs"), "logs:CreateLogDelivery", "logs:DeleteLogDelivery"),
	"AWS::EC2::InternetGateway":                     ec2("CreateInternetGateway", "DeleteInternetGateway", "DescribeInternetGateways"),
	"AWS::EC2::LaunchTemplate":                      ec2("CreateLaunchTemplate", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DeleteLaunchTemplate", "DeleteLaunchTemplateVersions", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "GetLaunchTemplateData"),
	"AWS::EC2::NatGateway":                          ec2("CreateNatGateway", "DeleteNatGateway", "DescribeNatGateways"),
	"AWS::EC2::NetworkAcl":                          ec2("CreateNetworkAcl", "DeleteNetworkAcl", "DescribeNetworkAcls"),
	"AWS::EC2::NetworkAclEntry":                     ec2("CreateNetworkAclEntry", "ReplaceNetworkAclEntry", "DeleteNetworkAclEntry", "DescribeNetworkAcls"),
	"AWS::EC2::Route":                               ec2("CreateRoute", "ReplaceRoute", "DeleteRoute", "DescribeRouteTables"),
	"AWS::EC2::RouteTable":                          ec2("CreateRouteTable", "DeleteRouteTable", "DescribeRouteTables"),
	"AWS::EC2::SecurityGroup":                       ec2("CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups", "DescribeSecurityGroupRules", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "ModifySecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress"),
	"AWS::EC2::SecurityGroupEgress":                 ec2("AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress", "DescribeSecurityGroups", "DescribeSecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsEgress"),
	"AWS::EC2::SecurityGroupIngress":                ec2("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "DescribeSecurityGroups", "DescribeSecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress"),
	"AWS::EC2::Subnet":                              ec2("CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute", "DescribeSubnets", "DescribeAvailabilityZones"),
	"AWS::EC2::SubnetNetworkAclAssociation":         ec2("ReplaceNetworkAclAssociation", "DescribeNetworkAcls"),
	"AWS::EC2::SubnetRouteTableAssociation":         ec2("AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation", "DescribeRouteTables"),
	"AWS::EC2::TransitGateway":                      ec2("CreateTransitGateway", "ModifyTransitGateway", "DeleteTransitGateway", "DescribeTransitGateways"),
	"AWS::EC2::TransitGatewayAttachment":            ec2("CreateTransitGatewayVpcAttachment", "ModifyTransitGatewayVpcAttachment", "DeleteTransitGatewayVpcAttachment", "DescribeTransitGatewayVpcAttachments", "DescribeTransitGatewayAttachments"),
	"AWS::EC2::TransitGatewayRoute":                 ec2("CreateTransitGatewayRoute", "ReplaceTransitGatewayRoute", "DeleteTransitGatewayRoute", "SearchTransitGatewayRoutes", "DescribeTransitGatewayRouteTables"),
	"AWS::EC2::TransitGatewayRouteTable":            ec2("CreateTransitGatewayRouteTable", "DeleteTransitGatewayRouteTable", "DescribeTransitGatewayRouteTables"),
	"AWS::EC2::TransitGatewayRouteTableAssociation": ec2("AssociateTransitGatewayRouteTable", "DisassociateTransitGatewayRouteTable", "GetTransitGatewayRouteTableAssociations", "DescribeTransitGatewayRouteTables"),
	"AWS::EC2::TransitGatewayRouteTablePropagation": ec2("EnableTransitGatewayRouteTablePropagation", "DisableTransitGatewayRouteTablePropagation", "GetTransitGatewayRouteTablePropagations", "DescribeTransitGatewayRouteTables"),
	"AWS::EC2::VPC":                                 ec2("CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "DescribeVpcs", "DescribeVpcAttribute", "DescribeSecurityGroups", "DescribeNetworkAcls", "DescribeRouteTables"),
	"AWS::EC2::VPCEndpoint":                         append(ec2("CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints", "DescribeVpcEndpoints", "DescribePrefixLists"), "route53:AssociateVPCWithHostedZone"),
	"AWS::EC2::VPCGatewayAttachment":                ec2("AttachInternetGateway", "DetachInternetGateway", "DescribeInternetGateways"),
	"AWS::EC2::VPNConnection":                       ec2("CreateVpnConnection", "DeleteVpnConnection", "DescribeVpnConnections"),

	"AWS::IAM::InstanceProfile": {"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile",
		"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile"},
	"AWS::IAM::ManagedPolicy": {"iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion",
		"iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy", "iam:UntagPolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListEntitiesForPolicy"},
	"AWS::IAM::Policy": {"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy"},
	"AWS::IAM::Role": {"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
		"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
		"iam:ListAttachedRolePolicies", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PutRolePermissionsBoundary"},

	"AWS::KMS::Alias": {"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases"},
	"AWS::KMS::Key": {"kms:CreateKey", "kms:DescribeKey", "kms:EnableKey", "kms:DisableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
		"kms:GetKeyRotationStatus", "kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion",
		"kms:CancelKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:ListResourceTags"},

	"AWS::Lambda::Function": {"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
		"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
		"lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetRuntimeManagementConfig", "lambda:InvokeFunction"},
	"AWS::Logs::LogGroup": {"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy",
		"logs:DeleteRetentionPolicy", "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
		"logs:ListTagsForResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:PutDataProtectionPolicy"},
	"AWS::Logs::MetricFilter": {"logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:DescribeMetricFilters"},

	"AWS::RAM::ResourceShare": {"ram:CreateResourceShare", "ram:UpdateResourceShare", "ram:DeleteResourceShare", "ram:GetResourceShares",
		"ram:AssociateResourceShare", "ram:DisassociateResourceShare", "ram:GetResourceShareAssociations", "ram:TagResource", "ram:UntagResource",
		"ec2:DescribeTransitGateways", "organizations:DescribeOrganization"},

	"AWS::Route53Resolver::FirewallDomainList": resolver("CreateFirewallDomainList", "UpdateFirewallDomains", "DeleteFirewallDomainList", "GetFirewallDomainList", "ListFirewallDomainLists", "ListFirewallDomains"),
	"AWS::Route53Resolver::FirewallRuleGroup": resolver("CreateFirewallRuleGroup", "DeleteFirewallRuleGroup", "GetFirewallRuleGroup", "ListFirewallRuleGroups",
		"CreateFirewallRule", "UpdateFirewallRule", "DeleteFirewallRule", "ListFirewallRules"),
	"AWS::Route53Resolver::FirewallRuleGroupAssociation": append(resolver("AssociateFirewallRuleGroup", "UpdateFirewallRuleGroupAssociation", "DisassociateFirewallRuleGroup", "GetFirewallRuleGroupAssociation", "ListFirewallRuleGroupAssociations"),
		"ec2:DescribeVpcs"),
	"AWS::Route53Resolver::ResolverQueryLoggingConfig": append(resolver("CreateResolverQueryLogConfig", "DeleteResolverQueryLogConfig", "GetResolverQueryLogConfig", "ListResolverQueryLogConfigs"),
		"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"),
	"AWS::Route53Resolver::ResolverQueryLoggingConfigAssociation": append(resolver("AssociateResolverQueryLogConfig", "DisassociateResolverQueryLogConfig", "GetResolverQueryLogConfigAssociation", "ListResolverQueryLogConfigAssociations"),
		"ec2:DescribeVpcs"),

	"AWS::S3::Bucket": {"s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:PutBucketTagging", "s3:GetBucketTagging",
		"s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration", "s3:PutBucketVersioning", "s3:GetBucketVersioning",
		"s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls",
		"s3:PutBucketLogging", "s3:GetBucketLogging", "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration",
		"s3:PutBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:PutBucketNotification", "s3:GetBucketNotification",
		"s3:PutBucketAcl", "s3:GetBucketAcl", "s3:PutBucketCORS", "s3:GetBucketCORS", "s3:PutBucketPolicy", "s3:GetBucketPolicy",
		// The asset bucket's replication to its DR copy (ingest).
		"s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration"},
	// A production's ingest: the DataSync locations and task, and the
	// resource policy that lets DataSync write the task's log group.
	"AWS::DataSync::LocationNFS": {"datasync:CreateLocationNfs", "datasync:DescribeLocationNfs", "datasync:UpdateLocationNfs", "datasync:DeleteLocation",
		"datasync:TagResource", "datasync:UntagResource", "datasync:ListTagsForResource"},
	"AWS::DataSync::LocationS3": {"datasync:CreateLocationS3", "datasync:DescribeLocationS3", "datasync:DeleteLocation",
		"datasync:TagResource", "datasync:UntagResource", "datasync:ListTagsForResource"},
	"AWS::DataSync::Task": {"datasync:CreateTask", "datasync:DescribeTask", "datasync:UpdateTask", "datasync:DeleteTask",
		"datasync:TagResource", "datasync:UntagResource", "datasync:ListTagsForResource"},
	"AWS::Logs::ResourcePolicy": {"logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies"},
	"AWS::S3::BucketPolicy":     {"s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"},

	"AWS::SNS::Subscription": {"sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"},
	"AWS::SNS::Topic": {"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:TagResource",
		"sns:UntagResource", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic"},
	"AWS::SNS::TopicPolicy": {"sns:SetTopicAttributes", "sns:GetTopicAttributes"},

	"AWS::SSM::Document": {"ssm:CreateDocument", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion", "ssm:DeleteDocument",
		"ssm:DescribeDocument", "ssm:GetDocument", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"},
	"AWS::SSM::Parameter": {"ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:DescribeParameters",
		"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"},
}

func ec2(actions ...string) []string {
	return prefixed("ec2:", append(actions, "CreateTags", "DeleteTags", "DescribeTags"))
}

func resolver(actions ...string) []string {
	return prefixed("route53resolver:", append(actions, "TagResource", "UntagResource", "ListTagsForResource"))
}

func prefixed(prefix string, actions []string) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = prefix + a
	}
	return out
}

// Covers reports whether the execution policy was written for a resource
// type.
func Covers(resourceType string) bool {
	_, ok := Actions[resourceType]
	return ok
}

// serviceActions are every action of Actions, grouped by service prefix
// and sorted, for statements one per service.
func serviceActions() map[string][]string {
	out := map[string][]string{}
	for _, actions := range Actions {
		for _, a := range actions {
			svc := a[:strings.Index(a, ":")]
			if !slices.Contains(out[svc], a) {
				out[svc] = append(out[svc], a)
			}
		}
	}
	for _, svc := range slices.Collect(maps.Keys(out)) {
		slices.Sort(out[svc])
	}
	return out
}
