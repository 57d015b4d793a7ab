package test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/names"
)

// deployedBefore returns whether stack dep has finished deploying before
// stack starts, for every deployment of the estate. With the CDK CLI
// (`cdk deploy --all --concurrency 8`) that is a dependency in the cloud
// assembly's manifest.json, direct or through other stacks; with the
// pipeline it is an earlier pipeline stage, or an earlier run order in the
// same stage (CDK Pipelines derives the run order from the same
// dependencies).
func (s *Synthesized) deployedBefore() func(dep, stack string) bool {
	if s.Manifests.Studio.Pipeline.Enabled {
		pos := s.pipelinePositions()
		return func(dep, stack string) bool {
			a, okA := pos[dep]
			b, okB := pos[stack]
			return okA && okB && cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) < 0
		}
	}
	return func(dep, stack string) bool {
		seen := map[string]bool{}
		todo := []string{stack}
		for len(todo) > 0 {
			next := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for _, d := range s.dependsOn(next) {
				if d == dep {
					return true
				}
				if !seen[d] {
					seen[d] = true
					todo = append(todo, d)
				}
			}
		}
		return false
	}
}

// dependsOn names the stacks of the estate that stack declares a
// deploy-time dependency on (manifest.json dependencies; assets left out).
func (s *Synthesized) dependsOn(stack string) []string {
	var out []string
	if st := s.Assembly.Stack(stack); st != nil {
		for _, d := range st.Dependencies {
			if s.Has(d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// pipelinePositions maps each stack the pipeline deploys to the stage index
// and run order of its CloudFormation action.
func (s *Synthesized) pipelinePositions() map[string][2]float64 {
	pos := map[string][2]float64{}
	for _, p := range s.Assembly.Resources("AWS::CodePipeline::Pipeline") {
		for i, stage := range cfn.AsList(p.Properties["Stages"]) {
			for _, action := range cfn.AsList(cfn.AsMap(stage)["Actions"]) {
				stack := p.Stack.String(cfn.At(action, "Configuration.StackName"))
				if stack == "" || p.Stack.String(cfn.At(action, "ActionTypeId.Provider")) != "CloudFormation" {
					continue
				}
				order, _ := cfn.Number(cfn.At(action, "RunOrder"))
				pos[stack] = [2]float64{float64(i), order}
			}
		}
	}
	return pos
}

// deployNeeds maps each stack of s to the stacks it needs at deploy time:
// a production looks up the Transit Gateway and the network's parameters,
// and without an organization it writes its own trail into the
// log-archive bucket; a production that uses its pool's VPC or keys reads
// them from the pool stack; a pool looks up the same network; a link attaches its
// production's or pool's VPC to the network's route tables; without an
// organization a network in its own account trails into the log archive too.
// With a log-archive account of its own, every stack with a VPC (network,
// pool, production) copies its flow logs into the log-archive bucket, whose
// policy must admit them before the flow log is created.
func (s *Synthesized) deployNeeds() map[string][]string {
	st := &s.Manifests.Studio
	logging, network := s.names().LoggingStack(), s.NetworkStack()
	noOrganization := st.OrganizationID == ""
	archive := st.LogArchive() != st.ManagementAccount
	needs := map[string][]string{}
	if archive {
		needs[network] = []string{logging}
	}
	for _, r := range s.Manifests.Resolved() {
		stack := s.names().ProductionStack(r.Name)
		if !s.Has(stack) {
			continue
		}
		needs[stack] = []string{network}
		if noOrganization || archive {
			needs[stack] = append(needs[stack], logging)
		}
		if r.PooledVpc || r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey {
			needs[stack] = append(needs[stack], s.names().PoolStack(r.Pool.Account))
		}
	}
	for _, stack := range s.Stacks() {
		switch {
		case strings.HasSuffix(stack, names.LinkSuffix):
			needs[stack] = []string{network, strings.TrimSuffix(stack, names.LinkSuffix)}
		case strings.HasPrefix(stack, st.Studio+"-"+names.PoolPrefix):
			needs[stack] = []string{network}
			if archive {
				needs[stack] = append(needs[stack], logging)
			}
		}
	}
	return needs
}

// TestEveryStackDependsOnTheStacksItNeedsAtDeployTime: the CLI and the
// pipeline deploy a stack as soon as the stacks it declares as dependencies
// are deployed, so a production deployed alongside the network fails its
// Transit Gateway look-up on a fresh estate, and one deployed before the
// logging stack fails its trail. Read from the cloud assembly of the
// acme estate and of every studio shape (with and without an
// organization, a separate log archive, pools and the pipeline).
func TestEveryStackDependsOnTheStacksItNeedsAtDeployTime(t *testing.T) {
	eachEstate(t, append([]estateSpec{acmeEstate}, studioShapes()...), func(t *testing.T, s *Synthesized) {
		if s.Manifests.Studio.Pipeline.Enabled {
			pos := s.pipelinePositions()
			for _, stack := range s.Stacks() {
				if _, ok := pos[stack]; !ok && stack != s.names().PipelineStack() {
					t.Errorf("the pipeline does not deploy %s", stack)
				}
			}
		}
		before := s.deployedBefore()
		needs := s.deployNeeds()
		links := 0
		for _, stack := range s.Stacks() {
			for _, dep := range needs[stack] {
				if !s.Has(dep) {
					t.Errorf("%s needs %s, which the estate does not have (stacks %v)", stack, dep, s.Stacks())
				} else if !before(dep, stack) {
					t.Errorf("%s does not depend on %s: it may deploy before %s exists (declared dependencies: %v)", stack, dep, dep, s.dependsOn(stack))
				}
			}
			if strings.HasSuffix(stack, names.LinkSuffix) {
				links++
			}
		}
		// The rules above must have had something to check.
		if links == 0 || len(needs) < len(s.Manifests.Productions)+links {
			t.Errorf("found %d links and %d stacks with needs among %v: the stack kinds were not recognised", links, len(needs), s.Stacks())
		}
	})
}
