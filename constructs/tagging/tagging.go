// Package tagging applies the tags of ISE 1.2: every stack and taggable
// resource carries Studio, Production, Tier, CostCentre and ResourceGroup.
package tagging

import (
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
	KeyResourceGroup = "ResourceGroup"
)

// Apply tags scope and everything below it.
func Apply(scope constructs.Construct, tags map[string]string) {
	for k, v := range tags {
		awscdk.Tags_Of(scope).Add(jsii.String(k), jsii.String(v), nil)
	}
}

// Group tags scope and everything below it with a resource group. A nearer
// group overrides the stack's default, since CDK applies the tag closest to
// the resource with the highest priority.
func Group(scope constructs.Construct, g ResourceGroup) {
	awscdk.Tags_Of(scope).Add(jsii.String(KeyResourceGroup), jsii.String(string(g)), &awscdk.TagProps{Priority: jsii.Number(200)})
}
