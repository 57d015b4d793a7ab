package test

import (
	"fmt"
	"testing"
)

// The security invariants of DESIGN.md are the rule set (internal/rules):
// TestEveryRuleHoldsOnTheSynthesizedEstates runs every rule on the estates
// here, and TestRulesCatchInjectedFaults proves that the rules these tests
// once encoded still fail on a broken template. What stays here is what no
// rule can say, because a rule sees only the assembly: that the estate is
// complete against the manifests that asked for it, and that every template
// fits CloudFormation's quotas.

// findings are the violations one check finds in one estate, each naming
// the stack and logical id.
type findings []string

func (f *findings) add(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

// invariant checks one estate.
type invariant func(s *Synthesized, logf func(string, ...any)) findings

// checkEach runs an invariant on each estate as a subtest.
func checkEach(t *testing.T, specs []estateSpec, check invariant) {
	t.Helper()
	eachEstate(t, specs, func(t *testing.T, s *Synthesized) {
		for _, f := range check(s, t.Logf) {
			t.Error(f)
		}
	})
}

func TestEveryProductionIsBuiltAsItsManifestAsks(t *testing.T) {
	checkEach(t, checkedEstates, checkEveryProductionIsBuiltAsItsManifestAsks)
}

// checkEveryProductionIsBuiltAsItsManifestAsks: every production of the
// manifests has its stack, tagged with the studio and the production's name
// (the rules compare each resource's tags with its stack's), at least one
// render launch template and one asset bucket (ResourceGroup
// asset-storage, which the asset bucket rules RE-STO-004 and RE-STO-005
// select on); and every stack carries the studio's name.
func checkEveryProductionIsBuiltAsItsManifestAsks(s *Synthesized, logf func(string, ...any)) (f findings) {
	for _, st := range s.Assembly.Stacks {
		if got := st.Tags["Studio"]; got != s.studio() {
			f.add("%s: stack tag Studio is %q, want %q", st.Name, got, s.studio())
		}
	}
	assets := 0
	for _, p := range s.Manifests.Productions {
		name := s.names().ProductionStack(p.Name)
		st := s.Assembly.Stack(name)
		if st == nil {
			f.add("%s: production %s was not synthesized", name, p.Name)
			continue
		}
		if got := st.Tags["Production"]; got != p.Name {
			f.add("%s: stack tag Production is %q, want %q", name, got, p.Name)
		}
		if len(st.OfType("AWS::EC2::LaunchTemplate")) == 0 {
			f.add("%s: production stack without a render launch template", name)
		}
		n := 0
		for _, b := range st.OfType("AWS::S3::Bucket") {
			if tags, _ := b.Tags(); tags["ResourceGroup"] == "asset-storage" {
				n++
			}
		}
		if n != 1 {
			f.add("%s: %d asset buckets (ResourceGroup asset-storage), want one", name, n)
		}
		assets += n
	}
	logf("%d productions, %d asset buckets", len(s.Manifests.Productions), assets)
	return f
}

// CloudFormation quotas (per template).
const (
	maxResources     = 500
	maxOutputs       = 200
	maxParameters    = 200
	maxTemplateBytes = 1 << 20 // uploaded through the bootstrap bucket
	// A production stack must leave room to grow: render profiles and
	// endpoints add resources per production.
	productionHeadroom = 400
)

func TestTemplatesStayWithinCloudFormationLimits(t *testing.T) {
	checkEach(t, checkedEstates, checkTemplatesStayWithinCloudFormationLimits)
}

func checkTemplatesStayWithinCloudFormationLimits(s *Synthesized, logf func(string, ...any)) (f findings) {
	largest, largestStack := 0, ""
	for _, st := range s.Assembly.Stacks {
		n := len(st.Resources)
		if n >= maxResources {
			f.add("%s: %d resources, CloudFormation allows fewer than %d", st.Name, n, maxResources)
		}
		if o := len(st.Outputs); o >= maxOutputs {
			f.add("%s: %d outputs, CloudFormation allows fewer than %d", st.Name, o, maxOutputs)
		}
		if p := len(st.Parameters); p >= maxParameters {
			f.add("%s: %d parameters, CloudFormation allows fewer than %d", st.Name, p, maxParameters)
		}
		if st.Size >= maxTemplateBytes {
			f.add("%s: template is %d bytes, CloudFormation allows less than %d", st.Name, st.Size, maxTemplateBytes)
		}
		if s.IsProduction(st.Name) && n > largest {
			largest, largestStack = n, st.Name
		}
	}
	logf("largest production stack: %s with %d resources", largestStack, largest)
	if s.Name != acmeEstate.name && largest >= productionHeadroom {
		f.add("%s: %d resources; a production stack should stay below %d to leave headroom under CloudFormation's %d",
			largestStack, largest, productionHeadroom, maxResources)
	}
	return f
}
