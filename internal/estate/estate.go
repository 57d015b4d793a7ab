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
	"github.com/renderenv/renderenv/internal/bootstrap"
	"github.com/renderenv/renderenv/internal/inventory"
	"github.com/renderenv/renderenv/internal/manifest"
	"github.com/renderenv/renderenv/internal/names"
)

// Names are the fixed names of the estate's stacks, roles and buckets.
type Names = names.Names

// Estate is the set of stacks built for one manifest folder.
type Estate struct {
	Names       Names
	Logging     awscdk.Stack
	Network     awscdk.Stack
	Pools       map[string]*Pool // by account
	Productions map[string]*Production
	Links       map[string]awscdk.Stack // by network name
	// DataPaths are the productions' DR and exchange stacks, by name.
	DataPaths map[string]awscdk.Stack
	Pipeline  *Pipeline // nil unless studio.yaml enables it
	// SuppressionUse counts, per entry of Suppressions, the resources it
	// was attached to (with Options.Checks).
	SuppressionUse map[int]int
	// Made lists, per production, the stacks its build created, in the
	// order it created them: its account's pool and the pool's link when
	// it was the pool's first member built, its own stack, its link.
	Made map[string][]awscdk.Stack
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
	for _, n := range slices.Sorted(maps.Keys(e.DataPaths)) {
		out = append(out, e.DataPaths[n])
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
	// Part builds one part of a sharded synthesis (internal/shard): the
	// whole estate by default.
	Part Part
}

// Part is what a build of a sharded synthesis holds.
type Part int

const (
	// Whole builds the shared stacks and the productions.
	Whole Part = iota
	// ProductionsOnly builds the productions Only names, their pools and
	// links, with empty stand-ins of the shared stacks that carry their
	// dependencies; the stand-ins are not part of the result.
	ProductionsOnly
)

// Build creates the stacks of e in app without the policy checks: see
// BuildWith. The estate must have passed validation.
func Build(app awscdk.App, e *manifest.Estate, only []string) (*Estate, error) {
	return BuildWith(app, e, Options{Only: only})
}

// BuildWith creates the stacks of e in app. The estate must have passed
// validation.
func BuildWith(app awscdk.App, e *manifest.Estate, opts Options) (*Estate, error) {
	// The shared stacks see every production, whatever only says.
	every := e.Resolved()
	resolved := every
	if opts.Part != Whole && e.Studio.Pipeline.Enabled {
		return nil, manifest.ErrorList{{File: "context", Field: "workers", Message: "cannot be more than 1 with pipeline.enabled: the pipeline must hold every production"}}
	}
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
		every:  every,
		out: &Estate{
			Pools:       map[string]*Pool{},
			Productions: map[string]*Production{},
			Links:       map[string]awscdk.Stack{},
			Made:        map[string][]awscdk.Stack{},
			DataPaths:   map[string]awscdk.Stack{},
		},
	}
	b.out.Names = b.names
	b.scope = func(string) constructs.Construct { return app }
	seedZones(app, s, resolved)
	if s.Pipeline.Enabled {
		if err := b.startPipeline(); err != nil {
			return nil, err
		}
	}
	b.shared(opts.Part)
	for _, r := range resolved {
		b.production(r)
	}
	if opts.Customize != nil {
		opts.Customize(b.out)
	}
	b.finish(opts, resolved)
	return b.out, nil
}

// shared builds the studio-wide stacks, or their stand-ins: stacks of the
// same names and environments, empty, that productions depend on.
func (b *builder) shared(part Part) {
	s := b.studio
	if part == ProductionsOnly {
		b.out.Logging = standIn(b.app, b.names.LoggingStack(), s.LogArchive(), s.Region)
		b.out.Network = standIn(b.app, b.names.NetworkStack(), s.ManagementAccount, s.Region)
		return
	}
	shared := SharedStackProps{Studio: s, Names: b.names, Productions: b.every}
	b.out.Logging = NewLoggingStack(b.scope(sharedGroup), shared).Stack
	b.out.Network = NewNetworkStack(b.scope(sharedGroup), shared, b.out.Logging).Stack
}

// standIn is an empty stack of a shared stack's name and environment; its
// one resource, a wait condition handle that does nothing, keeps the CDK's
// template validation from reporting an empty template.
func standIn(app awscdk.App, name, account, region string) awscdk.Stack {
	st := awscdk.NewStack(app, jsii.String(name), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}})
	awscdk.NewCfnWaitConditionHandle(st, jsii.String("StandIn"), nil)
	return st
}

// sharedGroup is the pipeline stage of the studio-wide stacks.
const sharedGroup = "shared"

// finish tags the plain resources of every stack and, with opts.Checks,
// attaches cdk-nag and the suppressions; then it finishes the pipeline.
// Both passes read one inventory of each stack. The pipeline synthesizes
// its stages when it is built, so everything goes on before it, and the
// suppressions on the pipeline's own resources after.
func (b *builder) finish(opts Options, resolved []manifest.Resolved) {
	if opts.Checks {
		Nag(b.app, b.out)
		b.out.SuppressionUse = map[int]int{}
	}
	for _, st := range b.out.Stacks() {
		if b.out.Pipeline != nil && st == b.out.Pipeline.Stack {
			continue
		}
		res := inventory.Of(st)
		tagging.TagPlainResources(st, res, b.boundary(st))
		if opts.Checks {
			ApplySuppressions(st, res, b.out.SuppressionUse)
		}
	}
	if b.out.Pipeline == nil {
		return
	}
	b.finishPipeline(resolved)
	if opts.Checks {
		st := b.out.Pipeline.Stack
		ApplySuppressions(st, inventory.Of(st), b.out.SuppressionUse)
	}
}

// boundary is the ARN of the permissions boundary that CDK gives every role
// of st at synthesis (PermissionsBoundaryContext, which NewApp sets), or
// nil without one.
func (b *builder) boundary(st awscdk.Stack) *string {
	if st.Node().TryGetContext(jsii.String(PermissionsBoundaryContext)) == nil {
		return nil
	}
	return st.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("iam"), Resource: jsii.String("policy"), Region: jsii.String(""),
		ResourceName: jsii.String(bootstrap.BoundaryName(b.studio.BootstrapQualifier())),
	})
}

// production builds one production's stack, its account's pool on first
// use, and the link stack of whichever network it runs in.
func (b *builder) production(r manifest.Resolved) {
	b.current = r.Name
	var pool *Pool
	if r.Pool != nil && (r.PooledVpc || r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey) {
		pool = b.pool(r.Pool)
	}
	paths := DataPathStackProps{Studio: b.studio, Names: b.names, Production: r, Tags: productionTags(r), Logging: b.out.Logging}
	var dr awscdk.Stack
	if r.Ingest != nil {
		dr = NewDrStack(b.scope(r.Name), paths)
		b.out.DataPaths[*dr.StackName()] = dr
		b.made(dr)
	}
	p := NewProductionStack(b.scope(r.Name), ProductionStackProps{
		Studio: b.studio, Names: b.names, Production: r, Pool: pool,
		Network: b.out.Network, Logging: b.out.Logging, Dr: dr,
	})
	b.out.Productions[r.Name] = p
	b.made(p.Stack)
	if len(r.Vendors) > 0 {
		x := NewExchangeStack(b.scope(r.Name), paths)
		if ownTrail(b.studio, b.studio.ExchangeAccount) {
			dependsOn(x, b.out.Logging, "delivers its trail to the central bucket")
		}
		b.out.DataPaths[*x.StackName()] = x
		b.made(x)
	}
	if !r.PooledVpc {
		b.link(r.Name, LinkStackProps{Owner: *p.Stack.StackName(), Account: r.Account, Cidr: r.VpcCidr, Tags: p.Tags, Target: p.Stack})
	}
}

// pool returns the pool stack of an account, building it and its link on
// first use, so a selective synth builds only the pools its productions use.
func (b *builder) pool(pl *manifest.Pool) *Pool {
	if p, ok := b.out.Pools[pl.Account]; ok {
		return p
	}
	var members []manifest.Resolved
	for _, r := range b.every {
		if r.Pool != nil && r.Pool.Account == pl.Account && r.Pool.Region == pl.Region && (r.PooledVpc || r.PooledRootKey || r.PooledAssetKey || r.PooledLoggingKey) {
			members = append(members, r)
		}
	}
	p := NewPoolStack(b.scope(sharedGroup), PoolStackProps{Studio: b.studio, Names: b.names, Pool: pl, Network: b.out.Network, Logging: b.out.Logging, Members: members})
	b.out.Pools[pl.Account] = p
	b.made(p.Stack)
	b.link(sharedGroup, LinkStackProps{Owner: *p.Stack.StackName(), Account: pl.Account, Cidr: pl.VpcCidr, Tags: p.Tags, Target: p.Stack})
	return p
}

// link builds the link stack of one network, in the pipeline stage group.
func (b *builder) link(group string, props LinkStackProps) {
	props.Studio, props.Names, props.Network = b.studio, b.names, b.out.Network
	l := NewLinkStack(b.scope(group), props)
	b.out.Links[b.names.LinkStack(props.Owner)] = l
	b.made(l)
}

// made records a stack the current production's build created.
func (b *builder) made(st awscdk.Stack) {
	b.out.Made[b.current] = append(b.out.Made[b.current], st)
}

type builder struct {
	app awscdk.App
	// scope is where a group's stacks go: the app, or a pipeline stage.
	scope          func(group string) constructs.Construct
	pipelineSource pipelines.CodePipelineSource
	studio         *manifest.Studio
	names          Names
	out            *Estate
	// every is the whole estate, whatever Options.Only selects.
	every []manifest.Resolved
	// current is the production being built.
	current string
}

// seedZones records each account and region's availability zones in the
// app context, where a stack with a concrete environment looks them up, so
// that synthesis needs no credentials and never sees placeholder zones.
func seedZones(app awscdk.App, s *manifest.Studio, resolved []manifest.Resolved) {
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
	add(s.ManagementAccount, s.Region, manifest.Zones(s.AvailabilityZones, s.Region))
	add(s.LogArchive(), s.Region, manifest.Zones(s.AvailabilityZones, s.Region))
	for _, r := range resolved {
		add(r.Account, r.Region, manifest.Zones(r.AvailabilityZones, r.Region))
		if r.Pool != nil {
			add(r.Pool.Account, r.Pool.Region, manifest.Zones(r.Pool.AvailabilityZones, r.Pool.Region))
		}
	}
	for key, set := range zones {
		app.Node().SetContext(jsii.String(key), slices.Sorted(maps.Keys(set)))
	}
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
