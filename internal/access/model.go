// Package access builds the access matrix of an estate: the requests a
// production's own roles need and the requests every other principal could
// try, over the synthesized templates (read through internal/cfn), each
// with the policies that apply to it and the decision expected. An IAM
// policy evaluator decides each request (see Evaluator; the one the tests
// use runs @cloud-copilot/iam-simulate in a separate Node.js process, never
// shipped with the app), and the matrix is written per production as
// <stack>.access.md and .access.json beside the evidence pack.
//
// What a request carries:
//
//   - the principal's identity policies: its inline policies, the
//     AWS::IAM::Policy and managed policies of the assembly attached to it,
//     and the AWS-managed policies it attaches by ARN, modelled as listed in
//     awsManaged (a superset of each: whole services on every resource;
//     an AWS-managed policy not listed counts as AdministratorAccess);
//   - its permissions boundary;
//   - the resource policy: the bucket policy, the key policy, or the role's
//     trust policy for sts:AssumeRole;
//   - the VPC endpoint policy when the request goes through an endpoint
//     (the context's aws:SourceVpce names it): AWS evaluates it as one more
//     policy that must allow and may deny, which is how the evaluator takes
//     it (its vpcEndpointPolicies);
//   - the context keys of the call: aws:PrincipalArn, aws:PrincipalAccount,
//     aws:ResourceAccount, aws:SecureTransport, aws:SourceIp and
//     aws:MultiFactorAuthPresent for calls from outside a VPC,
//     aws:SourceVpce and aws:SourceVpc for calls through an endpoint,
//     kms:ViaService, kms:CallerAccount, kms:GrantIsForAWSResource and
//     kms:ResourceAliases for KMS, the s3:x-amz-server-side-encryption keys
//     for writes, ec2:LaunchTemplate for launches.
package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Expect is the decision a request should get.
type Expect string

// The expectations.
const (
	Allow Expect = "allow"
	Deny  Expect = "deny"
)

// Doc is a policy document as the evaluator reads it.
type Doc struct {
	// Name identifies the document: stack/LogicalId and, for a role's
	// inline policy, its index; modelled documents are named for what
	// they stand for (aws-managed/AdministratorAccess).
	Name   string
	Policy map[string]any
}

// Principal is who makes requests.
type Principal struct {
	Label      string // the role name, or what a modelled principal stands for
	ARN        string
	Account    string
	Kind       string // key-admin, data-operator, render, ..., or a modelled kind
	Production string // the production or pool (pool-<account>) it serves; "" for none
	Role       *cfn.Resource
	Identity   []*Doc
	Boundary   []*Doc
	// Modelled says how a principal the templates do not hold, or an
	// AWS-managed policy, was modelled.
	Modelled []string
	// Assumes is, for a person, the suffix of the people role of
	// Production that the manifests name them for (key-admin, ...).
	Assumes string
	// SSO: the person signs in through IAM Identity Center, whose
	// sessions carry no MFA key.
	SSO bool
	// Tags are the role's tags: its sessions' aws:PrincipalTag keys.
	Tags map[string]string
	// Vendor, Until, Write and ExternalID are a vendor's, for its role
	// and the principals of its account.
	Vendor     string
	Until      time.Time
	Write      bool
	ExternalID string
}

// Modelled principal kinds.
const (
	ManagementAdmin = "management-admin" // a role of the management account with AdministratorAccess
	SharedAdmin     = "shared-admin"     // a role with AdministratorAccess in an account that holds two productions
	LookAlike       = "look-alike"       // a role a shared account's admin names like a production's render role
	DeployRole      = "cfn-exec"         // the CDK bootstrap's CloudFormation execution role
	Scheduler       = "scheduler"        // a role studio.yaml names in scheduler.launchers
	BreakGlass      = "break-glass"      // the role studio.yaml names in breakGlassRole, in each account
	Person          = "person"           // a principal of the management account a people list names
)

// Target is what a request acts on.
type Target struct {
	Kind    string // assets, key, role, launch-template, session-archive
	ARN     string
	Label   string // the bucket, the key's aliases, the role's or template's name
	Account string
	Region  string
	// Owners are the productions it belongs to: one, or every production
	// of a pool for a pool's resource.
	Owners   []string
	Pool     string // pool-<account> for a pool's resource
	Policy   *Doc   // the bucket, key or trust policy
	Resource *cfn.Resource
	Aliases  []string // a key's aliases
	Purpose  string   // a key's: content-asset, root-volume, logging
	AssetKey string   // for assets: the ARN of the key writes must name
	// Vendor is, for a vendor's prefix of an exchange bucket and a vendor
	// role, the vendor's name.
	Vendor string
}

// Request is one row of the matrix before evaluation.
type Request struct {
	ID        string
	Principal *Principal
	Action    string
	Target    *Target
	Resource  string         // the ARN requested (an object of a bucket)
	Context   map[string]any // a string or a list of strings per key
	Via       string         // how the call is made
	Endpoint  *Doc
	Expect    Expect
	Why       string
	// Outside, when not empty, says why no template can decide the
	// request and who must: an allow is then not a failure of the
	// templates but a residual risk, reported as such.
	Outside string
}

// Endpoint is a VPC endpoint a production's calls go through.
type Endpoint struct {
	ID      string // vpce-...
	VPC     string
	Service string // s3, kms, sts, ec2
	Doc     *Doc
}

// Scope is one production, or one pool, as the matrix sees it.
type Scope struct {
	Name      string // the production, or pool-<account>
	Stack     *cfn.Stack
	Account   string
	Region    string
	Pool      string // the pool a production is in, if any
	Endpoints map[string]*Endpoint
	Keys      []*Target
	Assets    []*Target
	Roles     []*Target
	Templates []*Target
	// Archives are the production's prefix of the log-archive bucket,
	// where its render role alone archives sessions; none without a
	// log-archive account.
	Archives []*Target
	// VolumeKeys are the ARNs of the keys its launch templates' volumes use.
	VolumeKeys []string
	// Exchange are its vendors' prefixes of its exchange bucket, in the
	// exchange account; none without vendors.
	Exchange []*Target
}

// generatedName is the stand-in for a name CloudFormation generates: unique
// per stack and logical id, in the shape of the real thing.
func generatedName(r *cfn.Resource) string {
	sum := sha256.Sum256([]byte(r.Stack.Name + "/" + r.ID))
	h := hex.EncodeToString(sum[:])
	switch r.Type {
	case "AWS::KMS::Key":
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	case "AWS::EC2::LaunchTemplate":
		return "lt-" + h[:17]
	case "AWS::EC2::VPCEndpoint":
		return "vpce-" + h[:17]
	case "AWS::EC2::VPC":
		return "vpc-" + h[:17]
	}
	return strings.ToLower(r.ID) + "-" + h[:8]
}

// Fresh returns a copy of the assembly's stacks (each template deep-copied,
// then changed by edit when it is not nil) joined into a new assembly that
// names generated resources per stack. The matrix reads only such a copy.
func Fresh(a *cfn.Assembly, edit func(stack string, template map[string]any)) (*cfn.Assembly, error) {
	var stacks []*cfn.Stack
	for _, s := range a.Stacks {
		raw := cfn.Clone(s.Raw)
		if edit != nil {
			edit(s.Name, raw)
		}
		c := cfn.TemplateFromMap(s.Name, raw)
		c.Account, c.Region, c.Tags, c.Dependencies, c.TemplateFile = s.Account, s.Region, s.Tags, s.Dependencies, s.TemplateFile
		stacks = append(stacks, c)
	}
	out, err := cfn.NewAssembly(stacks...)
	if err != nil {
		return nil, err
	}
	out.NameGenerated(generatedName)
	return out, nil
}

// Estate is the matrix's view of an estate.
type Estate struct {
	Assembly   *cfn.Assembly
	Manifests  *manifest.Estate
	Studio     string
	Management string
	Scopes     map[string]*Scope // by production or pool name
	Principals []*Principal
	// Hub are the management VPC's endpoints, by service.
	Hub map[string]*Endpoint
}

// Productions returns the names of the productions the matrix covers.
func (e *Estate) Productions() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(e.Scopes)) {
		if !strings.HasPrefix(name, "pool-") {
			out = append(out, name)
		}
	}
	return out
}

// docOf renders one normalised policy document for the evaluator.
func docOf(p *cfn.Policy) *Doc {
	name := p.Resource.String()
	if strings.HasPrefix(p.Path, "Policies[") {
		name += "." + strings.TrimSuffix(p.Path, ".PolicyDocument")
	}
	doc := Document(p.Statements)
	if p.Kind == cfn.Endpoint {
		// The evaluator takes only "*" as an endpoint policy's principal;
		// {"AWS": "*"} means the same there.
		for _, st := range doc["Statement"].([]any) {
			if m := st.(map[string]any); m["Principal"] != nil && cfn.Compact(m["Principal"]) == `{"AWS":"*"}` {
				m["Principal"] = "*"
			}
		}
	}
	return &Doc{Name: name, Policy: doc}
}

// Document writes normalised statements back as a policy document.
func Document(sts []cfn.Statement) map[string]any {
	var list []any
	for _, st := range sts {
		m := map[string]any{"Effect": st.Effect}
		if st.Sid != "" {
			m["Sid"] = st.Sid
		}
		for k, v := range map[string][]string{"Action": st.Action, "NotAction": st.NotAction, "Resource": st.Resource, "NotResource": st.NotResource} {
			if len(v) > 0 {
				m[k] = v
			}
		}
		if p := principalDoc(st.Principal); p != nil {
			m["Principal"] = p
		}
		if p := principalDoc(st.NotPrincipal); p != nil {
			m["NotPrincipal"] = p
		}
		if len(st.Condition) > 0 {
			cond := map[string]any{}
			for op, block := range st.Condition {
				b := map[string]any{}
				for k, v := range block {
					b[k] = v
				}
				cond[op] = b
			}
			m["Condition"] = cond
		}
		list = append(list, m)
	}
	return map[string]any{"Version": "2012-10-17", "Statement": list}
}

func principalDoc(p *cfn.Principal) any {
	if p == nil {
		return nil
	}
	if p.Wildcard && len(p.Service)+len(p.Federated)+len(p.CanonicalUser) == 0 {
		return map[string]any{"AWS": "*"}
	}
	m := map[string]any{}
	for k, v := range map[string][]string{"AWS": p.AWS, "Service": p.Service, "Federated": p.Federated, "CanonicalUser": p.CanonicalUser} {
		if len(v) > 0 {
			m[k] = v
		}
	}
	return m
}

// awsManaged models the AWS-managed policies the estate's roles attach by
// ARN. Their documents are not in the templates, so each is modelled by a
// superset: every action of the services it grants, on every resource. An
// AWS-managed policy not listed here is modelled as AdministratorAccess,
// and the report says so.
var awsManaged = map[string][]string{
	"AdministratorAccess":          {"*"},
	"AmazonSSMManagedInstanceCore": {"ssm:*", "ssmmessages:*", "ec2messages:*"},
	"AWSLambdaBasicExecutionRole":  {"logs:*"},
	"AWSLambdaVPCAccessExecutionRole": {"logs:*", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
		"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:DescribeSubnets", "ec2:DescribeVpcs"},
}

// managedDoc is the model of one AWS-managed policy, and how it was modelled.
func managedDoc(name string) (*Doc, string) {
	actions, known := awsManaged[name]
	how := fmt.Sprintf("AWS-managed %s modelled as %s on every resource (a superset)", name, strings.Join(actions, ", "))
	if !known {
		actions = []string{"*"}
		how = fmt.Sprintf("AWS-managed %s is unknown to the matrix: modelled as AdministratorAccess", name)
	}
	if name == "AdministratorAccess" {
		how = "AWS-managed AdministratorAccess: * on *"
	}
	return &Doc{Name: "aws-managed/" + name, Policy: map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Sid": strings.ReplaceAll(name, "-", ""), "Effect": "Allow", "Action": actions, "Resource": "*"}}}}, how
}
