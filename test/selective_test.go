package test

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/renderenv/renderenv/internal/estategen"
)

// withoutOrganization is a generated estate whose studio has no AWS
// Organization: the Transit Gateway is shared with each production account
// and every production account delivers its own trail, so the shared stacks
// list the accounts of every production.
func withoutOrganization(n, accounts int) estateSpec {
	return estateSpec{
		name: "generated-without-organization",
		files: func() map[string][]byte {
			files := estategen.Generate(n, accounts)
			files["studio.yaml"] = regexp.MustCompile(`(?m)^organization(Id|ManagementAccount): .*\n`).ReplaceAll(files["studio.yaml"], nil)
			return files
		},
	}
}

// TestSelectiveSynthBuildsTheSameTemplates: `cdk deploy -c only=<name>`
// deploys the shared stacks it synthesizes too, so each stack a selective
// synth builds must be the very template of the full synth, byte for byte;
// a shared stack narrowed to one production would revoke the others'
// Transit Gateway share and trail delivery.
func TestSelectiveSynthBuildsTheSameTemplates(t *testing.T) {
	for _, spec := range []estateSpec{withoutOrganization(9, 3), generated} {
		t.Run(spec.name, func(t *testing.T) {
			full := synth(t, spec)
			// p0003 is a pooled Tier 3 production: its pool stack and the
			// pool's link come with it, and it has no link of its own.
			only := spec
			only.only = []string{estategen.Name(2)}
			sel := synth(t, only)
			name, pool := estategen.Studio+"-"+estategen.Name(2), estategen.Studio+"-pool-"+estategen.SharedAccount(0)
			want := []string{estategen.Studio + "-logging", estategen.Studio + "-network", name, pool, pool + "-link"}
			for _, stack := range want {
				if !sel.Has(stack) {
					t.Errorf("only=%s did not build %s (built %v)", estategen.Name(2), stack, sel.Stacks())
				}
			}
			for stack, got := range sel.Raw {
				wantTpl, ok := full.Raw[stack]
				switch {
				case !ok:
					t.Errorf("only=%s built %s, which the full synth does not have", estategen.Name(2), stack)
				case !bytes.Equal(got, wantTpl):
					t.Errorf("only=%s: %s differs from the full synth's", estategen.Name(2), stack)
				}
			}
			if len(sel.Assembly.Stacks) >= len(full.Assembly.Stacks) {
				t.Errorf("only=%s built %d stacks, the full synth %d", estategen.Name(2), len(sel.Assembly.Stacks), len(full.Assembly.Stacks))
			}
		})
	}
}
