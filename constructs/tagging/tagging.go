// Package tagging applies the tags of ISE 1.2: every stack and taggable
// resource carries Studio, Production, Tier, CostCentre, Owner and
// ResourceGroup.
package tagging

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/internal/inventory"
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
	of := awscdk.Tags_Of(scope)
	for k, v := range tags {
		of.Add(jsii.String(k), jsii.String(v), nil)
	}
}

// untaggable are resource types that support tags in CloudFormation but that
// CDK sometimes writes as plain resources Tags.of cannot reach, such as the
// provider of the default security group restriction.
var untaggable = map[string]bool{"AWS::IAM::Role": true, "AWS::Lambda::Function": true}

// plainTagsKey is the context key under which CoverPlainResources leaves a
// scope's tags for TagPlainResources.
const plainTagsKey = "renderenv:plainResourceTags"

// CoverPlainResources asks that the plain resources below scope of the types
// in untaggable carry tags and the Security resource group: they are
// deployment machinery (ISE 1.2 asks every resource to be tagged). It must
// run before anything is added to scope (a stack, as it is created); the
// tags go on when TagPlainResources runs over scope's inventory once scope
// is built. No aspect does it at synthesis: an aspect implemented in Go
// makes the jsii kernel call into Go for every construct.
func CoverPlainResources(scope constructs.Construct, tags map[string]string) {
	all := map[string]string{KeyResourceGroup: string(Security)}
	for k, v := range tags {
		all[k] = v
	}
	scope.Node().SetContext(jsii.String(plainTagsKey), all)
}

// TagPlainResources tags the plain resources among res, the inventory of a
// built scope, with the tags CoverPlainResources asked of scope, if it did.
//
// boundary, when not nil, is the permissions boundary that CDK's aspect
// gives every role of scope at synthesis. A plain role gets it here first,
// before its Tags: a template lists overrides in the order they were made,
// and the aspect only sets the value again.
func TagPlainResources(scope constructs.IConstruct, res []inventory.Resource, boundary *string) {
	asked, ok := scope.Node().TryGetContext(jsii.String(plainTagsKey)).(map[string]any)
	if !ok {
		return
	}
	var tags []map[string]any
	for _, k := range slices.Sorted(maps.Keys(asked)) {
		tags = append(tags, map[string]any{"Key": k, "Value": asked[k]})
	}
	for _, r := range res {
		if !untaggable[r.Type] || taggable(r.Construct) {
			continue
		}
		if r.Type == "AWS::IAM::Role" && boundary != nil {
			r.Construct.AddPropertyOverride(jsii.String("PermissionsBoundary"), boundary)
		}
		r.Construct.AddPropertyOverride(jsii.String("Tags"), tags)
	}
}

// taggable says whether Tags.of reaches c. A Go proxy of a class with a tag
// manager (every L1 of a taggable type) answers without a call to the
// kernel; only a plain resource is asked.
func taggable(c awscdk.CfnResource) bool {
	if _, ok := c.(awscdk.ITaggable); ok {
		return true
	}
	if _, ok := c.(awscdk.ITaggableV2); ok {
		return true
	}
	return *awscdk.TagManager_IsTaggable(c)
}

// Group tags scope and everything below it with a resource group. A nearer
// group overrides the stack's default, since CDK applies the tag closest to
// the resource with the highest priority.
func Group(scope constructs.Construct, g ResourceGroup) {
	awscdk.Tags_Of(scope).Add(jsii.String(KeyResourceGroup), jsii.String(string(g)), &awscdk.TagProps{Priority: jsii.Number(200)})
}
