package test

import (
	"slices"
	"testing"

	"github.com/renderenv/renderenv/internal/rules"
)

// ruleEstates are the estates other than the studio shapes that the tests
// of the binary synthesize (the cache shares them): the shipped one and the
// generated ones. The shapes run the rules in
// TestEveryStudioShapeKeepsEveryInvariant.
func ruleEstates() []estateSpec {
	return append(slices.Clone(checkedEstates), withoutOrganization(9, 3))
}

// knownDefects are findings of the rule set on the estates that are real
// defects, reported and waiting for a fix in the constructs; a rule is
// never weakened to hide one. Each is expected only where it occurs (here,
// studios with the pipeline), and the test fails once it is fixed, so the
// list only shrinks.
var knownDefects = map[string]string{}

// Every rule of the rule set holds on the acme estate and on the generated
// estates with every tier and isolation (and every studio shape, in
// TestEveryStudioShapeKeepsEveryInvariant).
func TestEveryRuleHoldsOnTheSynthesizedEstates(t *testing.T) {
	eachEstate(t, ruleEstates(), checkRules)
}

// checkRules runs the rule set on one estate.
func checkRules(t *testing.T, s *Synthesized) {
	a := s.Assembly
	known := map[string]bool{}
	for _, f := range rules.Run(a) {
		where := f.Stack + "/" + f.LogicalID + ": " + f.Rule + ": " + f.Path
		if why, ok := knownDefects[where]; ok && s.Manifests.Studio.Pipeline.Enabled {
			known[where] = true
			t.Logf("known defect, to be fixed: %s (%s)", f, why)
			continue
		}
		t.Error(f)
	}
	if s.Manifests.Studio.Pipeline.Enabled {
		for k := range knownDefects {
			if !known[k] {
				t.Errorf("%s is fixed: take it off knownDefects", k)
			}
		}
	}
	// A rule over an estate that lacks what it checks would pass
	// vacuously: the estates hold every kind of resource the rules
	// are about.
	for _, typ := range []string{"AWS::EC2::VPC", "AWS::EC2::LaunchTemplate", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::S3::BucketPolicy",
		"AWS::CloudTrail::Trail", "AWS::EC2::FlowLog", "AWS::Logs::LogGroup", "AWS::EC2::TransitGatewayRouteTablePropagation",
		"AWS::EC2::SecurityGroup", "AWS::IAM::Role", "AWS::EC2::InternetGateway", "AWS::EC2::NatGateway"} {
		if len(a.Resources(typ)) == 0 {
			t.Errorf("the %s estate has no %s", s.Name, typ)
		}
	}
}
