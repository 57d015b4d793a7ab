package test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/access"
	"github.com/renderenv/renderenv/internal/bootstrap"
	"github.com/renderenv/renderenv/internal/fixtures"
	"github.com/renderenv/renderenv/internal/manifest"
)

// The execution policy renderenv's bootstrap gives CloudFormation is
// written for the resource types of renderenv's templates: every type of
// the checked estates and of the pipeline's shape must be in
// bootstrap.Actions, and none may be an instance (CloudFormation never
// launches render nodes).
func TestExecutionPolicyCoversEveryResourceTypeTheEstateCreates(t *testing.T) {
	eachEstate(t, withPipelineShape(), func(t *testing.T, s *Synthesized) {
		for _, typ := range s.Assembly.Types() {
			if typ == "AWS::EC2::Instance" || typ == "AWS::EC2::SpotFleet" || typ == "AWS::EC2::EC2Fleet" || typ == "AWS::AutoScaling::AutoScalingGroup" {
				t.Errorf("%s: CloudFormation would launch instances; render nodes are launched by the launcher role only", typ)
			}
			if !bootstrap.Covers(typ) {
				t.Errorf("%s is not in bootstrap.Actions: add the actions CloudFormation needs to create, update, tag and delete it", typ)
			}
		}
	})
}

// The bootstrap roles' trust, decided by the evaluator: a named deployer
// may assume them, an unnamed administrator of the management account and
// a principal of another account may not.
func TestBootstrapRolesAdmitOnlyTheNamedDeployers(t *testing.T) {
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	o := bootstrap.OptionsOf(e)
	o.Pipeline = true
	trust := &access.Doc{Name: "bootstrap/deploy-role-trust", Policy: bootstrap.TrustPolicy(o)}
	anything := &access.Doc{Name: "modelled/admin", Policy: map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}
	const prod = "333333333333"
	q := e.Studio.BootstrapQualifier()
	role := &access.Target{Kind: "role", ARN: "arn:aws:iam::" + prod + ":role/cdk-" + q + "-deploy-role-" + prod + "-us-west-2",
		Label: "cdk-" + q + "-deploy-role", Account: prod, Region: "us-west-2", Policy: trust}
	cases := []struct {
		who, arn, account string
		allowed           bool
	}{
		{"the named deployer", e.Studio.Deployers[0], "111111111111", true},
		{"the pipeline's role", "arn:aws:iam::111111111111:role/acme-pipeline-PipelineRoleB27FAA37-0123ABCD", "111111111111", true},
		{"an unnamed admin of the management account", "arn:aws:iam::111111111111:role/management-admin", "111111111111", false},
		{"a role named like the deployer, elsewhere", "arn:aws:iam::111111111111:role/other/acme-deployer", "111111111111", false},
		{"the production account's own admin", "arn:aws:iam::" + prod + ":role/admin", prod, false},
		{"another account's role of the deployer's name", "arn:aws:iam::444444444444:role/acme-deployer", "444444444444", false},
	}
	var reqs []*access.Request
	for i, c := range cases {
		p := &access.Principal{Label: c.who, ARN: c.arn, Account: c.account, Identity: []*access.Doc{anything}}
		reqs = append(reqs, &access.Request{ID: string(rune('a' + i)), Principal: p, Action: access.AssumeRole, Target: role, Resource: role.ARN,
			Context: map[string]any{"aws:PrincipalArn": c.arn, "aws:PrincipalAccount": c.account, "aws:ResourceAccount": prod, "aws:SecureTransport": "true"}})
	}
	ds, _, err := accessEvaluator(t).Evaluate(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := ds[i].Decision == "Allowed"; got != c.allowed || ds[i].Decision == "Error" {
			t.Errorf("%s (%s) sts:AssumeRole on the deploy role: %s %v, want allowed=%t", c.who, c.arn, ds[i].Decision, ds[i].Decisive, c.allowed)
		}
	}
}

// Every role the estate's stacks create carries renderenv bootstrap's
// boundary, which the execution role's boundary demands of each role it
// creates, or a boundary of the estate's own (the render nodes' and the
// scheduler's, tighter); no stack creates a user.
func TestEveryRoleCarriesABoundaryTheBootstrapAdmits(t *testing.T) {
	eachEstate(t, withPipelineShape(), func(t *testing.T, s *Synthesized) {
		if users := s.Assembly.Resources("AWS::IAM::User"); len(users) > 0 {
			t.Errorf("the estate creates users: %v", users)
		}
		for _, r := range s.Assembly.Resources("AWS::IAM::Role") {
			pb := r.Properties["PermissionsBoundary"]
			own := r.Stack.Resolve(pb)
			switch {
			case r.Stack.String(pb) == "arn:aws:iam::"+r.Stack.Account+":policy/"+bootstrap.BoundaryName(s.Manifests.Studio.BootstrapQualifier()):
			case own != nil && own.Type == "AWS::IAM::ManagedPolicy" && strings.HasPrefix(own.Name(), s.studio()+"-"):
			default:
				t.Errorf("%s: PermissionsBoundary %v is neither the bootstrap's nor one of the estate's", r, pb)
			}
		}
	})
}

// The boundary every role of the stacks (and the execution role) carries,
// decided by the evaluator: only the execution role writes the studio's
// parameters (the ids link and pooled stacks read at each deploy), nobody
// inside it stops the trail or bypasses retention, and what the role's own
// policy allows otherwise still works.
func TestBoundaryKeepsDeployTimeValuesAndTheTrailFromBoundRoles(t *testing.T) {
	e, errs := manifest.LoadDir(fixtures.AcmeDir())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	const acct, region = "333333333333", "us-west-2"
	q := e.Studio.BootstrapQualifier()
	boundary := &access.Doc{Name: "bootstrap/boundary", Policy: bootstrap.Substitute(bootstrap.Boundary(e.Studio.Studio, q), acct, region, q)}
	anything := &access.Doc{Name: "modelled/admin", Policy: map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}
	execRole := "arn:aws:iam::" + acct + ":role/cdk-" + q + "-cfn-exec-role-" + acct + "-" + region
	bound := "arn:aws:iam::" + acct + ":role/acme-nightfall-SomeFunctionRole-0123ABCD"
	param := "arn:aws:ssm:" + region + ":" + acct + ":parameter/renderenv/acme/network/production-route-table-id"
	cases := []struct {
		who, arn, action, resource string
		allowed                    bool
	}{
		{"the execution role", execRole, "ssm:PutParameter", param, true},
		{"a role the stacks create", bound, "ssm:PutParameter", param, false},
		{"a role the stacks create", bound, "ssm:PutParameter", "arn:aws:ssm:" + region + ":" + acct + ":parameter/other/value", true},
		{"a role the stacks create", bound, "cloudtrail:StopLogging", "arn:aws:cloudtrail:" + region + ":" + acct + ":trail/acme-central", false},
		{"a role the stacks create", bound, "s3:BypassGovernanceRetention", "arn:aws:s3:::acme-audit-trail/x", false},
		{"a role the stacks create", bound, "iam:CreateUser", "arn:aws:iam::" + acct + ":user/x", false},
		{"a role the stacks create", bound, "s3:GetObject", "arn:aws:s3:::acme-nightfall-assets-333333333333-us-west-2/x", true},
	}
	var reqs []*access.Request
	for i, c := range cases {
		p := &access.Principal{Label: c.who, ARN: c.arn, Account: acct, Identity: []*access.Doc{anything}, Boundary: []*access.Doc{boundary}}
		target := &access.Target{Kind: "resource", ARN: c.resource, Label: c.resource, Account: acct, Region: region}
		reqs = append(reqs, &access.Request{ID: string(rune('a' + i)), Principal: p, Action: c.action, Target: target, Resource: c.resource,
			Context: map[string]any{"aws:PrincipalArn": c.arn, "aws:PrincipalAccount": acct, "aws:ResourceAccount": acct, "aws:SecureTransport": "true"}})
	}
	ds, _, err := accessEvaluator(t).Evaluate(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := ds[i].Decision == "Allowed"; got != c.allowed || ds[i].Decision == "Error" {
			t.Errorf("%s %s on %s: %s %v %s, want allowed=%t", c.who, c.action, c.resource, ds[i].Decision, ds[i].Decisive, ds[i].Error, c.allowed)
		}
	}
}

// withPipelineShape are the checked estates and the first studio shape with
// the pipeline, whose stack the others lack.
func withPipelineShape() []estateSpec {
	specs := slices.Clone(checkedEstates)
	for _, sh := range studioShapes() {
		if strings.Contains(sh.name, "pipeline") {
			return append(specs, sh)
		}
	}
	return specs
}
