// Package estate turns a validated manifest folder into the studio's stacks:
// logging and network (shared), a pool per account with pooled Tier 3
// productions, and per production its own stack plus a link stack in the
// management account.
package estate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/renderenv/renderenv/constructs/tagging"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Estate is the set of stacks built for one manifest folder.
type Estate struct {
	Names       Names
	Logging     awscdk.Stack
	Network     awscdk.Stack
	Pools       map[string]*Pool // by account
	Productions map[string]*Production
	Links       map[string]awscdk.Stack // by network name
	Pipeline    *Pipeline               // nil unless studio.yaml enables it
	// SuppressionUse counts, per entry of Suppressions, the resources it
	// was attached to (with Options.Checks).
	SuppressionUse map[int]int
}

// Stacks returns every stack, shared first, then by name.
func (e *Estate) Stacks() []awscdk.Stack {
	out := []awscdk.Stack{e.Logging, e.Network}
	if e.Pipeline != nil {
		out = append(out, e.Pipeline.Stack)
	}
	for _, a := range slices.Sorted(maps.Keys(e.Pools)) {
		out = append(out, e.Pools[a].Stack)
	}
	for _, n := range slices.Sorted(maps.Keys(e.Productions)) {
		out = append(out, e.Productions[n].Stack)
	}
	for _, n := range slices.Sorted(maps.Keys(e.Links)) {
		out = append(out, e.Links[n])
	}
	return out
}

// Options shape a build.
type Options struct {
	// Only, when not empty, limits the productions to those named; the
	// shared stacks are always built, the same as without it.
	Only []string
	// Checks attaches cdk-nag and the reviewed suppressions.
	Checks bool
	// Customize, when set, runs after the stacks are built and before the
	// checks and the pipeline are attached: the place to add a studio's own
	// resources to the estate.
	Customize func(*Estate)
}

// Build creates the stacks of e in app without the policy checks: see
// BuildWith. The estate must have passed validation.
func Build(app awscdk.App, e *manifest.Estate, only []string) (*Estate, error) {
	return BuildWith(app, e, Options{Only: only})
}

// BuildWith creates the stacks of e in app. The estate must have passed
// validation.
func BuildWith(app awscdk.App, e *manifest.Estate, opts Options) (*Estate, error) {
	// The shared stacks see every production, whatever only says: they
	// hold the accounts the Transit Gateway is shared with and that deliver
	// trails, so a selective deploy of them must not drop the others.
	every := e.Resolved()
	resolved := every
	if len(opts.Only) > 0 {
		if e.Studio.Pipeline.Enabled {
			return nil, manifest.ErrorList{{File: "context", Field: "only", Message: "cannot be combined with pipeline.enabled: the pipeline must hold every production"}}
		}
		selected := *e
		if errs := selected.Only(opts.Only); len(errs) > 0 {
			return nil, errs
		}
		resolved = selected.Resolved()
	}
	s := &e.Studio
	b := &builder{
		app:    app,
		studio: s,
		names:  Names{Studio: s.Studio, Region: s.Region, LogArchive: s.LogArchive()},
		out: &Estate{
			Pools:       map[string]*Pool{},
			Productions: map[string]*Production{},
			Links:       map[string]awscdk.Stack{},
		},
	}
	b.out.Names = b.names
	b.scope = func(string) constructs.Construct { return app }
	b.seedZones(resolved)
	if s.Pipeline.Enabled {
		b.startPipeline()
	}
	b.out.Logging = b.logging(every)
	b.out.Network = b.network(every)
	for _, r := range resolved {
		b.production(r)
	}
	if opts.Customize != nil {
		opts.Customize(b.out)
	}
	// The pipeline synthesizes its stages when it is built, so checks and
	// suppressions go on before it, and on the pipeline's own resources after.
	var deployed []awscdk.Stack
	for _, st := range b.out.Stacks() {
		if b.out.Pipeline == nil || st != b.out.Pipeline.Stack {
			deployed = append(deployed, st)
		}
	}
	if opts.Checks {
		Nag(app, b.out)
		b.out.SuppressionUse = ApplySuppressions(deployed)
	}
	if s.Pipeline.Enabled {
		b.finishPipeline(resolved)
		if opts.Checks {
			for i, n := range ApplySuppressions([]awscdk.Stack{b.out.Pipeline.Stack}) {
				b.out.SuppressionUse[i] += n
			}
		}
	}
	return b.out, nil
}

type builder struct {
	app awscdk.App
	// scope is where a group's stacks go: the app, or a pipeline stage.
	scope          func(group string) constructs.Construct
	pipelineSource pipelines.CodePipelineSource
	studio         *manifest.Studio
	names          Names
	out            *Estate
}

// seedZones records each account and region's availability zones in the
// app context, where a stack with a concrete environment looks them up, so
// that synthesis needs no credentials and never sees placeholder zones.
func (b *builder) seedZones(resolved []manifest.Resolved) {
	zones := map[string]map[string]bool{}
	add := func(account, region string, zs []string) {
		key := fmt.Sprintf("availability-zones:account=%s:region=%s", account, region)
		if zones[key] == nil {
			zones[key] = map[string]bool{}
		}
		for _, z := range zs {
			zones[key][z] = true
		}
	}
	s := b.studio
	add(s.ManagementAccount, s.Region, manifest.Zones(s.AvailabilityZones, s.Region))
	add(s.LogArchive(), s.Region, manifest.Zones(s.AvailabilityZones, s.Region))
	for _, r := range resolved {
		add(r.Account, r.Region, manifest.Zones(r.AvailabilityZones, r.Region))
		if r.Pool != nil {
			add(r.Pool.Account, r.Pool.Region, manifest.Zones(r.Pool.AvailabilityZones, r.Pool.Region))
		}
	}
	for key, set := range zones {
		b.app.Node().SetContext(jsii.String(key), slices.Sorted(maps.Keys(set)))
	}
}

// stack creates a stack with an explicit environment and the tags of ISE 1.2.
// group is "shared" or a production's name: the pipeline deploys each group
// as one stage.
func (b *builder) stack(group, name, account, region, description string, tags map[string]string) awscdk.Stack {
	st := awscdk.NewStack(b.scope(group), jsii.String(name), &awscdk.StackProps{
		StackName:   jsii.String(name),
		Env:         &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
		Description: jsii.String(description),
		// Termination protection: a stack that holds an estate's network or
		// evidence is never deleted by one careless command.
		TerminationProtection: jsii.Bool(true),
	})
	all := map[string]string{tagging.KeyStudio: b.studio.Studio, tagging.KeyOwner: b.studio.SharedOwner()}
	for k, v := range tags {
		all[k] = v
	}
	tagging.Apply(st, all)
	tagging.CoverPlainResources(st, all)
	return st
}

// sharedTags are the tags of the studio-wide stacks.
func (b *builder) sharedTags(group tagging.ResourceGroup) map[string]string {
	return map[string]string{
		tagging.KeyTier:          "shared",
		tagging.KeyCostCentre:    "shared",
		tagging.KeyResourceGroup: string(group),
	}
}

// productionAccounts are the accounts that hold productions or pools,
// excluding the management account itself.
func (b *builder) productionAccounts(resolved []manifest.Resolved) []string {
	set := map[string]bool{}
	for _, r := range resolved {
		if r.Account != b.studio.ManagementAccount {
			set[r.Account] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// ParseOnly splits the only context value: "a,b" or ["a","b"].
func ParseOnly(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		for _, p := range strings.Split(t, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	case []any:
		for _, p := range t {
			out = append(out, ParseOnly(p)...)
		}
	}
	return out
}

// dependsOn orders two stacks of one stage. Between stages the pipeline's
// order (shared stacks first) already holds, and CDK refuses such links.
func dependsOn(from, to awscdk.Stack, reason string) {
	if *awscdk.Stage_Of(from).Node().Path() == *awscdk.Stage_Of(to).Node().Path() {
		from.AddStackDependency(to, jsii.String(reason))
	}
}
