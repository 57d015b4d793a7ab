// Package access creates the human roles of a production: a key
// administrator who cannot read content, a data operator who can, and a log
// reader (ISE 7.1, 9.3). Only the people the manifests name assume them,
// with MFA, from the studio's admin ranges, for at most an hour (ISE 1.3 to
// 1.5).
package access

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/keys"
	"github.com/renderenv/renderenv/internal/names"
)

// HumanRolesProps configures the roles of one production.
type HumanRolesProps struct {
	Prefix string // <studio>-<production>
	// TrustedAccount is where people sign in: the studio's management
	// account. Only the principals each role names may assume it.
	TrustedAccount string
	SourceCidrs    []string
	KeyAdmins      Principals
	DataOperators  Principals
	LogReaders     Principals
	// KeyAliasPrefix limits the key admin to the production's keys, e.g.
	// alias/acme/nightfall/.
	KeyAliasPrefix string
	Account        string
	Region         string
	// KeyRegions are the other regions of the account where the
	// production keeps keys (its DR region's replica key).
	KeyRegions []string
}

// Principals are the people of TrustedAccount who may assume one role, as
// aws:PrincipalArn values.
type Principals struct {
	// SSO are patterns (ArnLike) of IAM Identity Center permission-set
	// roles. Their sessions carry no aws:MultiFactorAuthPresent: Identity
	// Center enforces MFA when people sign in.
	SSO []string
	// Roles are role ARNs; their sessions must carry MFA.
	Roles []string
}

// HumanRoles are the roles people assume to work on a production.
type HumanRoles struct {
	constructs.Construct
	KeyAdmin, DataOperator, LogReader awsiam.Role
}

// NewHumanRoles creates the three roles with their trust; what each may do
// with data is granted by the keys and buckets that name them.
func NewHumanRoles(scope constructs.Construct, id string, props HumanRolesProps) *HumanRoles {
	c := constructs.NewConstruct(scope, jsii.String(id))
	h := &HumanRoles{Construct: c}
	h.KeyAdmin = NewKeyAdmin(c, "KeyAdmin", props, "administers the production's keys; cannot use them (ISE 9.3)")
	h.DataOperator = humanRole(c, "DataOperator", props, props.DataOperators, names.DataOperator, "reads and writes the production's content through S3 (ISE 5.1)")
	h.LogReader = humanRole(c, "LogReader", props, props.LogReaders, names.LogReader, "reads the production's logs; cannot read content (ISE 8.1)")
	h.LogReader.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadProductionLogs"),
		Actions:   jsii.Strings("logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:StartQuery", "logs:GetQueryResults"),
		Resources: jsii.Strings(fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/%s/*", props.Region, props.Account, props.Prefix)),
	}))
	return h
}

// NewKeyAdmin creates <Prefix>-key-admin: it may administer the keys whose
// aliases start with KeyAliasPrefix, in its account and regions, and use
// none of them (ISE 9.2, 9.3).
func NewKeyAdmin(scope constructs.Construct, id string, props HumanRolesProps, purpose string) awsiam.Role {
	role := humanRole(scope, id, props, props.KeyAdmins, names.KeyAdmin, purpose)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ManageOwnKeysOnly"),
		Actions:   jsii.Strings(keys.AdminActions...),
		Resources: jsii.Strings(keyArns(props)...),
		Conditions: &map[string]any{"ForAnyValue:StringLike": map[string]any{
			"kms:ResourceAliases": props.KeyAliasPrefix + "*",
		}},
	}))
	return role
}

// keyArns are the keys of the account in the production's regions.
func keyArns(props HumanRolesProps) []string {
	var out []string
	for _, r := range append([]string{props.Region}, props.KeyRegions...) {
		out = append(out, fmt.Sprintf("arn:aws:kms:%s:%s:key/*", r, props.Account))
	}
	return out
}

func humanRole(scope constructs.Construct, id string, props HumanRolesProps, people Principals, suffix, purpose string) awsiam.Role {
	return NewHumanRole(scope, id, HumanRoleProps{
		Name:           names.Role(props.Prefix, suffix),
		Purpose:        props.Prefix + ": " + purpose,
		TrustedAccount: props.TrustedAccount,
		SourceCidrs:    props.SourceCidrs,
		People:         people,
	})
}

// HumanRoleProps is a role people assume.
type HumanRoleProps struct {
	Name, Purpose  string
	TrustedAccount string
	SourceCidrs    []string
	People         Principals
}

// NewHumanRole creates a role that only the named people of the trusted
// account may assume (ISE 7.1), from the studio's ranges (ISE 1.3), with
// MFA (ISE 1.5: in the session of a named role, at sign-in for Identity
// Center), for at most an hour (ISE 1.4). The trust names the account and
// matches aws:PrincipalArn, which a session cannot change: an Identity
// Center role's name carries a suffix, and a named role need not exist
// when the role is created.
func NewHumanRole(scope constructs.Construct, id string, props HumanRoleProps) awsiam.Role {
	var trusted []awsiam.IPrincipal
	from := map[string]any{"aws:SourceIp": props.SourceCidrs}
	if p := props.People.SSO; len(p) > 0 {
		trusted = append(trusted, awsiam.NewAccountPrincipal(jsii.String(props.TrustedAccount)).WithConditions(&map[string]any{
			"ArnLike":   map[string]any{"aws:PrincipalArn": p},
			"IpAddress": from,
		}))
	}
	if p := props.People.Roles; len(p) > 0 {
		trusted = append(trusted, awsiam.NewAccountPrincipal(jsii.String(props.TrustedAccount)).WithConditions(&map[string]any{
			"ArnEquals": map[string]any{"aws:PrincipalArn": p},
			"Bool":      map[string]any{"aws:MultiFactorAuthPresent": "true"},
			"IpAddress": from,
		}))
	}
	if len(trusted) == 0 {
		panic(fmt.Sprintf("access: %s names nobody who may assume it", props.Name))
	}
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		RoleName:           jsii.String(props.Name),
		Description:        jsii.String(props.Purpose),
		AssumedBy:          awsiam.NewCompositePrincipal(trusted...),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	// The trust checks the address once, when the session starts; this
	// checks it on every call, so a session copied elsewhere is refused.
	// Calls an AWS service makes on the session's behalf, and calls
	// through a VPC endpoint (which carry no public address), pass.
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("OnlyFromTheStudiosRanges"),
		Effect:    awsiam.Effect_DENY,
		Actions:   jsii.Strings("*"),
		Resources: jsii.Strings("*"),
		Conditions: &map[string]any{
			"NotIpAddress": from,
			"Bool":         map[string]any{"aws:ViaAWSService": "false"},
			"Null":         map[string]any{"aws:SourceVpc": "true"},
		},
	}))
	return role
}

// SessionAccess lets a person open Session Manager sessions (ISE 4.1) on the
// production's render nodes only, with the production's logged and
// encrypted session document only, and end their own sessions.
func SessionAccess(prefix, production, account, region string, loggingKeyArn *string) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SessionsOnOwnRenderNodes"),
			Actions:   jsii.Strings("ssm:StartSession"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:ec2:%s:%s:instance/*", region, account)),
			// The access check makes Session Manager refuse a session whose
			// document (by default the account's unlogged shell) the person
			// may not use: only the production's logged document below.
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"ssm:resourceTag/Production": production},
				"BoolIfExists": map[string]any{"ssm:SessionDocumentAccessCheck": "true"},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SessionsWithTheLoggedDocumentOnly"),
			Actions:   jsii.Strings("ssm:StartSession"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:ssm:%s:%s:document/%s-sessions", region, account, prefix)),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EndOwnSessions"),
			Actions:   jsii.Strings("ssm:TerminateSession", "ssm:ResumeSession"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:ssm:%s:%s:session/${aws:userid}-*", region, account)),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EncryptSessions"),
			Actions:   jsii.Strings("kms:GenerateDataKey"),
			Resources: &[]*string{loggingKeyArn},
		}),
	}
}
