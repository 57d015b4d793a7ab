// Package bootstrap makes the CDK bootstrap of a renderenv estate: the
// pinned CDK CLI's own bootstrap template (template.yaml, kept as the CLI
// prints it), edited here so that the bootstrap roles trust only the
// studio's named deployers and CloudFormation deploys with a generated
// least-privilege execution policy inside a permissions boundary; and the
// `cdk bootstrap` commands of every account and region of the estate.
package bootstrap

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Upstream is the bootstrap template of the pinned CDK CLI, as
// `npx cdk bootstrap --show-template` prints it. Regenerate it after
// changing the CLI's version in package.json:
//
//	node_modules/.bin/cdk bootstrap --show-template > internal/bootstrap/template.yaml
//
// (TestKeptTemplateIsThePinnedCLIs fails until then).
//
//go:embed template.yaml
var Upstream []byte

// DefaultQualifier is the CDK's bootstrap qualifier, the template's
// default. An estate's is manifest.Studio.BootstrapQualifier: the stacks'
// synthesizer, the key policies and the access matrix name it.
const DefaultQualifier = "hnb659fds"

// Variant names renderenv's template for the CDK CLI, which refuses to
// overwrite a bootstrap stack of another variant unless forced.
const Variant = "renderenv: named deployers, least-privilege execution policy"

// Options are what the template is made for.
type Options struct {
	Studio            string
	ManagementAccount string
	// Deployers are the role ARNs (of the management account) that may
	// assume the bootstrap roles.
	Deployers []string
	// Pipeline: the pipeline stack's roles (<studio>-pipeline-*) may too.
	Pipeline bool
	// PipelineOnly, with Pipeline: only the pipeline's roles, not the
	// deployers (the log-archive account, which holds the trail: with a
	// pipeline, nobody deploys there by hand).
	PipelineOnly bool
	Qualifier    string
	// HomeRegion, when set, is the only region whose bootstrap creates the
	// execution policy and the boundary: IAM names are per account, and an
	// account bootstrapped in a second region (a production's DR region)
	// uses the policies its home region's bootstrap created. Bootstrap the
	// home region first.
	HomeRegion string
}

// The roles the CLI and CDK Pipelines assume from the deploying account.
var trustedRoles = []string{"DeploymentActionRole", "FilePublishingRole", "ImagePublishingRole", "LookupRole"}

// The resources renderenv adds.
const (
	ExecPolicyID = "RenderenvExecutionPolicy"
	BoundaryID   = "RenderenvPermissionsBoundary"
)

// Template returns the edited bootstrap template as JSON, which the CLI's
// --template reads as it reads YAML.
func Template(o Options) ([]byte, error) {
	t, err := Edited(o)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(t, "", "  ")
}

// Edited returns the upstream template with renderenv's edits:
//
//   - the deploy, file-publishing, image-publishing and lookup roles trust
//     the management account only for the principals Trust names
//     (aws:PrincipalArn), and no longer their own account;
//   - the template creates ExecutionPolicy and Boundary as managed
//     policies, and the CloudFormation execution role has that policy only
//     (whatever --cloudformation-execution-policies says) inside that
//     boundary;
//   - BootstrapVariant is Variant.
func Edited(o Options) (map[string]any, error) {
	if len(o.Deployers) == 0 {
		return nil, fmt.Errorf("no deployers: the bootstrap roles would trust nobody")
	}
	q := o.Qualifier
	if q == "" {
		q = DefaultQualifier
	}
	var t map[string]any
	if err := yaml.Unmarshal(Upstream, &t); err != nil {
		return nil, fmt.Errorf("the kept bootstrap template: %w", err)
	}
	res, _ := t["Resources"].(map[string]any)
	params, _ := t["Parameters"].(map[string]any)
	variant, _ := params["BootstrapVariant"].(map[string]any)
	if res == nil || variant == nil {
		return nil, fmt.Errorf("the kept bootstrap template has no Resources or BootstrapVariant: regenerate it")
	}
	variant["Default"] = Variant
	for _, id := range append(slices.Clone(trustedRoles), "CloudFormationExecutionRole") {
		if role, _ := res[id].(map[string]any); role == nil || role["Properties"] == nil {
			return nil, fmt.Errorf("the kept bootstrap template has no %s: regenerate it, and review this package's edits", id)
		}
	}
	for _, id := range trustedRoles {
		props := res[id].(map[string]any)["Properties"].(map[string]any)
		props["AssumeRolePolicyDocument"] = TrustPolicy(o)
	}
	res[ExecPolicyID] = managedPolicy(execPolicyName(q), "What CloudFormation may do when renderenv deploys", ExecutionPolicy(o.Studio, q))
	res[BoundaryID] = managedPolicy(BoundaryName(q), "The boundary of renderenv's CloudFormation execution role", Boundary(o.Studio, q))
	exec := res["CloudFormationExecutionRole"].(map[string]any)
	props := exec["Properties"].(map[string]any)
	props["ManagedPolicyArns"] = []any{homeOrExisting(t, o.HomeRegion, ExecPolicyID, execPolicyName(q))}
	props["PermissionsBoundary"] = homeOrExisting(t, o.HomeRegion, BoundaryID, BoundaryName(q))
	return t, pruneConditions(t)
}

// HomeRegionCondition holds in the home region's bootstrap, which alone
// creates renderenv's managed policies.
const HomeRegionCondition = "RenderenvHomeRegion"

// homeOrExisting refers to the managed policy id of the template: created
// there without a home region, else created only in the home region and
// named by its ARN elsewhere.
func homeOrExisting(t map[string]any, home, id, name string) any {
	if home == "" {
		return map[string]any{"Ref": id}
	}
	conds, _ := t["Conditions"].(map[string]any)
	if conds == nil {
		conds = map[string]any{}
		t["Conditions"] = conds
	}
	conds[HomeRegionCondition] = map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "AWS::Region"}, home}}
	t["Resources"].(map[string]any)[id].(map[string]any)["Condition"] = HomeRegionCondition
	return map[string]any{"Fn::If": []any{HomeRegionCondition, map[string]any{"Ref": id},
		map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + name}}}
}

// pruneConditions removes the conditions the edits left unused (those of
// the trust statements they replaced), which cfn-lint flags.
func pruneConditions(t map[string]any) error {
	conds, _ := t["Conditions"].(map[string]any)
	for changed := true; changed; {
		changed = false
		body, err := json.Marshal(t)
		if err != nil {
			return err
		}
		for name := range conds {
			if bytes.Count(body, []byte(`"`+name+`"`)) == 1 {
				delete(conds, name)
				changed = true
			}
		}
	}
	return nil
}

// Trust returns the principals the bootstrap roles trust: the deployers,
// and the pipeline's roles when it is enabled (a pattern).
func Trust(o Options) []string {
	pipeline := fmt.Sprintf("arn:aws:iam::%s:role/%s-pipeline-*", o.ManagementAccount, o.Studio)
	switch {
	case o.Pipeline && o.PipelineOnly:
		return []string{pipeline}
	case o.Pipeline:
		return append(slices.Clone(o.Deployers), pipeline)
	}
	return slices.Clone(o.Deployers)
}

// TrustPolicy is the trust policy of each bootstrap role the deploying
// account assumes: the management account, only for the principals Trust
// names, never with an external id (no confused deputy).
func TrustPolicy(o Options) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid":       "NamedDeployersOnly",
		"Effect":    "Allow",
		"Action":    []any{"sts:AssumeRole", "sts:TagSession"},
		"Principal": map[string]any{"AWS": "arn:aws:iam::" + o.ManagementAccount + ":root"},
		"Condition": map[string]any{
			"ArnLike": map[string]any{"aws:PrincipalArn": toAny(Trust(o))},
			"Null":    map[string]any{"sts:ExternalId": "true"},
		},
	}}}
}

func managedPolicy(name, description string, doc map[string]any) map[string]any {
	return map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Properties": map[string]any{
		"ManagedPolicyName": name,
		"Description":       description,
		"PolicyDocument":    sub(doc),
	}}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
