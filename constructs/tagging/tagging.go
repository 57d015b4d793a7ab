// Package tagging applies the tags of ISE 1.2: every stack and taggable
// resource carries Studio, Production, Tier, CostCentre, Owner and
// ResourceGroup.
package tagging

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ResourceGroup is the category a resource is billed and managed under.
type ResourceGroup string

// The resource groups of DESIGN.md.
const (
	RenderInstance      ResourceGroup = "render-instance"
	ApplicationInstance ResourceGroup = "application-instance"
	AssetStorage        ResourceGroup = "asset-storage"
	Logging             ResourceGroup = "logging"
	Network             ResourceGroup = "network"
	Security            ResourceGroup = "security"
)

// Tag keys.
const (
	KeyStudio        = "Studio"
	KeyProduction    = "Production"
	KeyTier          = "Tier"
	KeyCostCentre    = "CostCentre"
	KeyOwner         = "Owner"
	KeyResourceGroup = "ResourceGroup"
	// KeyDataPath marks the stacks of a production's data paths outside
	// its own stack: the vendor exchange and the disaster-recovery copy.
	// The rule set tells them from the production's stack by it.
	KeyDataPath = "DataPath"
)

// Data paths (KeyDataPath).
const (
	DataPathExchange = "exchange"
	DataPathReplica  = "replica"
)

// Apply tags scope and everything below it.
func Apply(scope constructs.Construct, tags map[string]string) {
	for k, v := range tags {
		awscdk.Tags_Of(scope).Add(jsii.String(k), jsii.String(v), nil)
	}
}

// untaggable are resource types that support tags in CloudFormation but that
// CDK sometimes writes as plain resources Tags.of cannot reach, such as the
// provider of the default security group restriction.
var untaggable = map[string]bool{"AWS::IAM::Role": true, "AWS::Lambda::Function": true}

// CoverPlainResources tags, below scope, the plain resources of the types
// in untaggable with tags and the Security resource group: they are
// deployment machinery (ISE 1.2 asks every resource to be tagged).
func CoverPlainResources(scope constructs.Construct, tags map[string]string) {
	all := map[string]string{KeyResourceGroup: string(Security)}
	for k, v := range tags {
		all[k] = v
	}
	awscdk.Aspects_Of(scope).Add(&plainTagger{tags: all}, nil)
}

type plainTagger struct{ tags map[string]string }

func (p *plainTagger) Visit(node constructs.IConstruct) {
	cfn, ok := node.(awscdk.CfnResource)
	if !ok || !untaggable[*cfn.CfnResourceType()] || *awscdk.TagManager_IsTaggable(node) {
		return
	}
	keys := make([]string, 0, len(p.tags))
	for k := range p.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := make([]map[string]string, len(keys))
	for i, k := range keys {
		tags[i] = map[string]string{"Key": k, "Value": p.tags[k]}
	}
	cfn.AddPropertyOverride(jsii.String("Tags"), tags)
}

// Group tags scope and everything below it with a resource group. A nearer
// group overrides the stack's default, since CDK applies the tag closest to
// the resource with the highest priority.
func Group(scope constructs.Construct, g ResourceGroup) {
	awscdk.Tags_Of(scope).Add(jsii.String(KeyResourceGroup), jsii.String(string(g)), &awscdk.TagProps{Priority: jsii.Number(200)})
}
