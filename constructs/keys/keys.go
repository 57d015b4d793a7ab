// Package keys creates customer-managed KMS keys whose policies separate the
// people who manage a key from those who use it (ISE 9.1 to 9.5).
package keys

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Purpose is what a key protects. Each purpose has its own key so that a
// person who may decrypt logs cannot decrypt content, and the reverse.
type Purpose string

// The key purposes of ISE 9.1.
const (
	RootVolume   Purpose = "root-volume"
	ContentAsset Purpose = "content-asset"
	Logging      Purpose = "logging"
)

// AdminActions manage a key without using it. kms:CreateGrant (which can
// hand out use) and kms:DisableKeyRotation (ISE 9.5) are deliberately absent.
var AdminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
	"kms:DisableKey", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
	"kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies",
	"kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant",
	"kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
	"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
}

// UseActions encrypt and decrypt data.
var UseActions = []string{
	"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
}

// KeyProps describes one customer-managed key.
type KeyProps struct {
	// Alias without the alias/ prefix, e.g. acme/nightfall/content-asset.
	Alias       string
	Description string
	// Account owns the key.
	Account string
	// Admins are the role ARNs (patterns allowed) that alone administer
	// the key, through IAM and never using it: the key administrator, the
	// CloudFormation execution role that deploys the key's stack (so the
	// next deploy can still update the key policy), and the studio's
	// break-glass role if it names one. Nobody else of the account, its
	// IAM administrators included, may change the key policy.
	Admins []string
}

// Key is a customer-managed key with rotation on, a 30-day deletion window,
// retained when its stack is deleted.
type Key struct {
	constructs.Construct
	Key     awskms.Key
	account string
	policy  awsiam.PolicyDocument
	// owner is the account's principal, which every statement shares.
	owner awsiam.IPrincipal
}

// NewKey creates the key with its administration statements. Use is added
// with the Allow... methods, one statement per kind of user.
func NewKey(scope constructs.Construct, id string, props KeyProps) *Key {
	if len(props.Admins) == 0 {
		panic("keys: a key needs its administrators")
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	owner := awsiam.NewAccountPrincipal(jsii.String(props.Account))
	policy := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
		Statements: &[]awsiam.PolicyStatement{
			// Only the named administrators administer, through IAM, and
			// never use: use is granted only by the Allow... statements, to
			// named roles through named services. They are named by
			// aws:PrincipalArn, which KMS does not require to exist yet.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("NamedAdministratorsOnly"),
				Principals: &[]awsiam.IPrincipal{owner},
				Actions:    jsii.Strings(AdminActions...),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": props.Admins}},
			}),
		},
	})
	// Whatever is allowed below, nobody may hand out use of the key with a
	// grant except to an AWS service acting for a resource (Control Tower
	// CT.KMS.PR.3).
	policy.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("GrantsOnlyForAwsResources"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"BoolIfExists": map[string]any{
			"kms:GrantIsForAWSResource": "false",
			"aws:PrincipalIsAWSService": "false",
		}},
	}))
	k := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + props.Alias),
		Description:       jsii.String(props.Description),
		EnableKeyRotation: jsii.Bool(true),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		Policy:            policy,
	})
	return &Key{Construct: c, Key: k, account: props.Account, policy: policy, owner: owner}
}

// AddStatements adds statements to the key policy, all in one jsii call.
// The key's AddToResourcePolicy does the same for one statement, and Go
// then reads its result back with two more calls.
func (k *Key) AddStatements(stmts ...awsiam.PolicyStatement) {
	k.policy.AddStatements(stmts...)
}

// AllowUseVia lets the named roles use the key, but only through service
// (for example s3.us-west-2.amazonaws.com), never directly.
func (k *Key) AllowUseVia(sid string, roleArns []string, service string) {
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings(UseActions...),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:PrincipalArn": roleArns},
			"StringEquals": map[string]any{"kms:ViaService": service},
		},
	}))
}

// AllowDecrypt lets the named roles decrypt directly: for log readers, whose
// tools read encrypted log data outside any one service.
func (k *Key) AllowDecrypt(sid string, roleArns []string) {
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings("kms:Decrypt", "kms:DescribeKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": roleArns}},
	}))
}

// AllowDecryptVia lets the named roles decrypt, but only through service:
// for readers of data a service stores encrypted (trail log files in S3).
func (k *Key) AllowDecryptVia(sid string, roleArns []string, service string) {
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:PrincipalArn": roleArns},
			"StringEquals": map[string]any{"kms:ViaService": service},
		},
	}))
}

// AllowEbs lets EC2 encrypt volumes with the key on behalf of principals of
// the account, only through EC2 and only with grants for AWS resources, the
// way the AWS-managed aws/ebs key does. With users (role ARN patterns) only
// those principals may have EC2 use the key: an administrator of the
// account cannot attach a copy of a content volume to an instance of its
// own (ISE 9.3).
func (k *Key) AllowEbs(region string, users []string) {
	via := map[string]any{
		"kms:ViaService":    fmt.Sprintf("ec2.%s.amazonaws.com", region),
		"kms:CallerAccount": k.account,
	}
	conditions := func(extra map[string]any) *map[string]any {
		c := map[string]any{"StringEquals": via}
		if len(users) > 0 {
			c["ArnLike"] = map[string]any{"aws:PrincipalArn": users}
		}
		for op, v := range extra {
			c[op] = v
		}
		return &c
	}
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EbsEncryptsThroughEc2"),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"),
		Resources:  jsii.Strings("*"),
		Conditions: conditions(nil),
	}), awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EbsGrantsOnlyForAwsResources"),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: conditions(map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}}),
	}))
}

// ServiceLinkedLaunchers are the EC2 Spot and Fleet service-linked roles that
// launch instances, and so create their encrypted volumes, on a scheduler's
// behalf (Spot Fleet and EC2 Fleet requests).
func ServiceLinkedLaunchers(account string) []string {
	return []string{
		fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot", account),
		fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/spotfleet.amazonaws.com/AWSServiceRoleForEC2SpotFleet", account),
		fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/ec2fleet.amazonaws.com/AWSServiceRoleForEC2Fleet", account),
	}
}

// AllowFleetLaunchers lets the account's Spot and Fleet service-linked
// roles encrypt volumes with the key through EC2. They carry no KMS rights
// of their own, so the key policy grants them directly; naming them by
// aws:PrincipalArn rather than as principals keeps the key valid in an
// account where a role does not exist yet.
func (k *Key) AllowFleetLaunchers(region string) {
	via := map[string]any{
		"kms:ViaService":    fmt.Sprintf("ec2.%s.amazonaws.com", region),
		"kms:CallerAccount": k.account,
	}
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("SpotAndFleetServiceRolesEncryptVolumes"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": via,
			"ArnEquals":    map[string]any{"aws:PrincipalArn": ServiceLinkedLaunchers(k.account)},
		},
	}))
}

// AllowSessions lets Session Manager encrypt sessions with the key: the
// hosts (render nodes) decrypt, the people who start sessions generate the
// session data key.
func (k *Key) AllowSessions(hosts, starters []string) {
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("SessionHostsDecryptSessions"),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": hosts}},
	}), awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("SessionStartersEncryptSessions"),
		Principals: &[]awsiam.IPrincipal{k.owner},
		Actions:    jsii.Strings("kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": starters}},
	}))
}

// AllowLogs lets CloudWatch Logs encrypt log groups of the account with the key.
func (k *Key) AllowLogs(region string) {
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsEncryptsLogGroups"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", region)), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", region, k.account),
		}},
	}))
}

// AllowAlarms lets CloudWatch alarms of the account publish to topics
// encrypted with the key.
func (k *Key) AllowAlarms(account string) {
	k.AllowService("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": account},
	})
}

// AllowService lets an AWS service principal use the key for the given
// actions, with conditions that pin it to the caller's resources.
func (k *Key) AllowService(sid, service string, actions []string, conditions map[string]any) {
	k.AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sid),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
		Actions:    jsii.Strings(actions...),
		Resources:  jsii.Strings("*"),
		Conditions: &conditions,
	}))
}

// DeploymentRole is the CloudFormation execution role the CDK bootstrap
// of qualifier creates in an account and region: the role that creates and
// updates every stack there, and so every key.
func DeploymentRole(qualifier, account, region string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/cdk-%s-cfn-exec-role-%s-%s", account, qualifier, account, region)
}

// DefaultQualifier is the CDK's default bootstrap qualifier, which the
// construct tests use.
const DefaultQualifier = "hnb659fds"
