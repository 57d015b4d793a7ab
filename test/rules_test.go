package test

import (
	"maps"
	"slices"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/rules"
)

// assemblyOf is the cfn model of a synthesized estate, built from the
// template files as written. The harness keeps no manifest.json, so each
// stack's tags are those its resources carry (cfn.NewAssembly) and its
// account and region are left unknown.
func assemblyOf(t *testing.T, s *Synthesized) *cfn.Assembly {
	t.Helper()
	var stacks []*cfn.Stack
	for _, name := range slices.Sorted(maps.Keys(s.Raw)) {
		st, err := cfn.ParseTemplate(name, s.Raw[name])
		if err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, st)
	}
	a, err := cfn.NewAssembly(stacks...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ruleEstates are every estate the other tests of the binary synthesize
// (the cache shares them): the shipped one, the generated ones and every
// studio shape.
func ruleEstates() []estateSpec {
	var out []estateSpec
	for _, spec := range slices.Concat(invariantEstates, reachabilityEstates, studioShapes()) {
		if !slices.ContainsFunc(out, func(o estateSpec) bool { return o.name == spec.name }) {
			out = append(out, spec)
		}
	}
	return out
}

// knownDefects are findings of the rule set on the estates that are real
// defects, reported and waiting for a fix in the constructs; a rule is
// never weakened to hide one. Each is expected only where it occurs (here,
// studios with the pipeline), and the test fails once it is fixed, so the
// list only shrinks.
var knownDefects = map[string]string{}

// Every rule of the rule set holds on the shipped estate and on the
// generated estates with every tier, isolation and studio shape.
func TestEveryRuleHoldsOnTheSynthesizedEstates(t *testing.T) {
	eachEstate(t, ruleEstates(), func(t *testing.T, s *Synthesized) {
		a := assemblyOf(t, s)
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
	})
}
