// Package inventory lists the CloudFormation resources below a construct
// with their construct paths and resource types, in as few jsii kernel
// calls as it can: one to find every construct, and one per resource.
//
// The passes that run once a stack is built (tagging the plain resources,
// attaching the reviewed cdk-nag suppressions) share one inventory, so
// that nothing needs a Go aspect: an aspect implemented in Go makes the
// kernel call back into Go for every construct at synthesis.
package inventory

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
)

// Resource is one CloudFormation resource of a scope.
type Resource struct {
	Construct awscdk.CfnResource
	// Path is the construct path from the app's root, as in tree.json and
	// a template's aws:cdk:path metadata.
	Path string
	// Type is the CloudFormation resource type, such as AWS::IAM::Role.
	Type string
}

// Of returns the CloudFormation resources at and below scope, in
// pre-order. A CfnResource's string form is "<path> [<type>]", so one call
// per resource gives both; a string of any other form falls back to
// reading the path and type separately.
func Of(scope constructs.IConstruct) []Resource {
	var out []Resource
	for _, c := range *scope.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		cfn, ok := c.(awscdk.CfnResource)
		if !ok {
			continue
		}
		r := Resource{Construct: cfn}
		var parsed bool
		if r.Path, r.Type, parsed = parse(*cfn.ToString()); !parsed {
			r.Path, r.Type = *cfn.Node().Path(), *cfn.CfnResourceType()
		}
		out = append(out, r)
	}
	return out
}

// parse splits CfnResource.toString(), "<path> [<type>]". A construct id
// may hold " [", a resource type never does.
func parse(s string) (path, typ string, ok bool) {
	i := strings.LastIndex(s, " [")
	if i < 0 || !strings.HasSuffix(s, "]") || strings.Count(s[i:], "]") != 1 {
		return "", "", false
	}
	return s[:i], s[i+2 : len(s)-1], true
}
