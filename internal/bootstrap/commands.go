package bootstrap

import (
	"fmt"
	"slices"

	"github.com/renderenv/renderenv/internal/manifest"
)

// Env is one account and region of the estate to bootstrap.
type Env struct {
	Account, Region string
	// For says what the estate deploys there.
	For []string
}

func (e Env) String() string { return "aws://" + e.Account + "/" + e.Region }

// Envs are every account and region of the estate, each once: the
// management account (network, links, pipeline), the log-archive account,
// each pool's and each production's, in that order.
func Envs(e *manifest.Estate) []Env {
	st := &e.Studio
	var out []Env
	add := func(acct, rgn, what string) {
		for i := range out {
			if out[i].Account == acct && out[i].Region == rgn {
				if !slices.Contains(out[i].For, what) {
					out[i].For = append(out[i].For, what)
				}
				return
			}
		}
		out = append(out, Env{Account: acct, Region: rgn, For: []string{what}})
	}
	add(st.ManagementAccount, st.Region, "management")
	add(st.LogArchive(), st.Region, "log archive")
	for _, p := range st.Pools {
		add(p.Account, p.Region, "pool")
	}
	for _, p := range e.Productions {
		add(p.Account, p.Region, p.Name)
	}
	// The DR copies and the exchange stacks come after: a studio without
	// them bootstraps exactly what it did before.
	for _, p := range e.Productions {
		if p.Ingest != nil {
			add(p.Account, p.Ingest.DrRegion, p.Name+" DR")
		}
		if len(p.Vendors) > 0 {
			add(st.ExchangeAccount, p.Region, p.Name+" exchange")
		}
	}
	return out
}

// Paths are where the command writes the template.
const TemplateFile = "bootstrap-template.json"

// Command is the `cdk bootstrap` of one environment with the template at
// templatePath: the CLI's own flags record, in the bootstrap stack's
// parameters, the trusted account, the execution policy and the boundary
// the template creates (the template uses its own, whatever these say,
// and the CLI refuses --trust without an execution policy). --force
// replaces a bootstrap of another variant, which the CLI would otherwise
// silently keep.
func Command(o Options, env Env, templatePath string) []string {
	q := o.Qualifier
	if q == "" {
		q = DefaultQualifier
	}
	cmd := []string{"npx", "cdk", "bootstrap", env.String(),
		"--template", templatePath,
		"--qualifier", q,
		"--toolkit-stack-name", ToolkitStackName(q),
		"--trust", o.ManagementAccount,
		"--cloudformation-execution-policies", fmt.Sprintf("arn:aws:iam::%s:policy/%s", env.Account, execPolicyName(q)),
		"--custom-permissions-boundary", BoundaryName(q),
		"--force",
	}
	return cmd
}

// ToolkitStackName is the bootstrap stack of qualifier q: a stack of its
// own, beside the account's default CDKToolkit if it has one.
func ToolkitStackName(q string) string { return "CDKToolkit-" + q }

// OptionsOf are the template's options for an estate.
func OptionsOf(e *manifest.Estate) Options {
	o := Options{Studio: e.Studio.Studio, ManagementAccount: e.Studio.ManagementAccount,
		Deployers: e.Studio.Deployers, Pipeline: e.Studio.Pipeline.Enabled, Qualifier: e.Studio.BootstrapQualifier()}
	// Only an estate with a second region (a DR region) needs its
	// bootstraps told which one creates the account's policies.
	for _, env := range Envs(e) {
		if env.Region != e.Studio.Region {
			o.HomeRegion = e.Studio.Region
		}
	}
	return o
}
