package access

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ServiceRoleProps name an AWS service's role and the one use it serves.
type ServiceRoleProps struct {
	// Name is the role's name; Description says what the service does as it.
	Name, Description string
	// Service is the principal that assumes it, e.g. s3.amazonaws.com.
	Service string
	// Account and SourceArn bound the trust: the service may assume the role
	// only on behalf of this account's resources matching SourceArn (the
	// confused-deputy conditions), never for another account's.
	Account, SourceArn string
}

// ServiceRole is a role that one AWS service assumes for one of the
// account's resources, whose statements each carry a Sid.
type ServiceRole struct {
	awsiam.Role
}

// NewServiceRole creates the role, trusting props.Service for
// props.SourceArn in props.Account only.
func NewServiceRole(scope constructs.Construct, id string, props ServiceRoleProps) ServiceRole {
	return ServiceRole{awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		RoleName:    jsii.String(props.Name),
		Description: jsii.String(props.Description),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String(props.Service), &awsiam.ServicePrincipalOpts{Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": props.Account},
			"ArnLike":      map[string]any{"aws:SourceArn": props.SourceArn},
		}}),
	})}
}

// Allow adds one statement, named sid, to the role's policy; conditions
// may be nil.
func (r ServiceRole) Allow(sid string, actions []string, resources []*string, conditions map[string]any) {
	st := &awsiam.PolicyStatementProps{Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources}
	if conditions != nil {
		st.Conditions = &conditions
	}
	r.AddToPolicy(awsiam.NewPolicyStatement(st))
}
