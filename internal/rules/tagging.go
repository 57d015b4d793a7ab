package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Tagging rules: ISE 1.2.

func init() {
	register(
		Rule{ID: "RE-TAG-001", Controls: []string{"1.2"},
			Description: "Every taggable resource carries Studio, Tier, CostCentre, Owner and ResourceGroup (one of the six groups), and Production in a production's stack, matching its stack's tags",
			Check:       checkResourceTags},
		Rule{ID: "RE-TAG-002", Controls: []string{"1.2"},
			Description: "Every launch template tags the instances and volumes it launches the same way",
			Check:       checkLaunchedTags},
	)
}

var (
	resourceGroups = []string{"render-instance", "application-instance", "asset-storage", "logging", "network", "security"}
	// alwaysTaggable are types that support tags whether or not any
	// template of the assembly tags them. The Transit Gateway's
	// associations, propagations and routes have no Tags in CloudFormation.
	alwaysTaggable = []string{
		"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::S3::Bucket",
		"AWS::KMS::Key", "AWS::IAM::Role", "AWS::Logs::LogGroup",
		"AWS::EC2::TransitGateway", "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayRouteTable",
		"AWS::EC2::TransitGatewayVpcAttachment", "AWS::EC2::TransitGatewayConnect",
		"AWS::EC2::TransitGatewayPeeringAttachment", "AWS::EC2::TransitGatewayMulticastDomain",
		"AWS::CloudTrail::Trail", "AWS::SNS::Topic", "AWS::EC2::Instance", "AWS::EC2::Volume",
	}
)

// tagProblems lists what tags lacks for a resource of stack s.
func tagProblems(s *cfn.Stack, tags map[string]string) []string {
	want := []string{"Studio", "Tier", "CostCentre", "Owner", "ResourceGroup"}
	if isProduction(s) {
		want = append(want, "Production")
	}
	var probs []string
	for _, k := range want {
		if _, ok := tags[k]; !ok {
			probs = append(probs, "no "+k)
		}
	}
	if v, ok := tags["ResourceGroup"]; ok && !slices.Contains(resourceGroups, v) {
		probs = append(probs, fmt.Sprintf("ResourceGroup %q is not one of %s", v, strings.Join(resourceGroups, ", ")))
	}
	for _, k := range []string{"Studio", "Production"} {
		if v, ok := tags[k]; ok && s.Tags[k] != "" && v != s.Tags[k] {
			probs = append(probs, fmt.Sprintf("%s %q, but the stack's is %q", k, v, s.Tags[k]))
		}
	}
	return probs
}

func checkResourceTags(a *cfn.Assembly, report Reporter) {
	taggable := slices.Clone(alwaysTaggable)
	for _, r := range a.Resources() {
		if _, ok := r.Properties["Tags"]; ok && !slices.Contains(taggable, r.Type) {
			taggable = append(taggable, r.Type)
		}
	}
	for _, r := range a.Resources(taggable...) {
		tags, _ := r.Tags()
		if probs := tagProblems(r.Stack, tags); len(probs) > 0 {
			report(r, "Tags", "%s", strings.Join(probs, ", "))
		}
	}
}

func checkLaunchedTags(a *cfn.Assembly, report Reporter) {
	for _, lt := range a.Resources("AWS::EC2::LaunchTemplate") {
		specs := cfn.AsList(lt.Prop(ltData + ".TagSpecifications"))
		for _, kind := range []string{"instance", "volume"} {
			i := slices.IndexFunc(specs, func(s any) bool { return lt.Stack.String(cfn.AsMap(s)["ResourceType"]) == kind })
			if i < 0 {
				report(lt, ltData+".TagSpecifications", "no tag specification for the %ss it launches", kind)
				continue
			}
			path := fmt.Sprintf("%s.TagSpecifications[%d].Tags", ltData, i)
			tags, _ := lt.TagsAt(path)
			if probs := tagProblems(lt.Stack, tags); len(probs) > 0 {
				report(lt, path, "the %ss it launches: %s", kind, strings.Join(probs, ", "))
			}
		}
	}
}
