package evidence

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
)

// Stack is one stack of a cloud assembly, as ReadStacks returns it.
type Stack struct {
	Name     string
	Raw      []byte // the template as written
	Template map[string]any
	// DependsOn names the stacks of the same assembly that this one declares
	// a deploy-time dependency on (manifest.json `dependencies`).
	DependsOn []string
}

// ReadStacks reads the stacks of the cloud assembly in dir with
// cfn.ReadAssembly, with each template's bytes as written.
//
// Deprecated: read the assembly with cfn.ReadAssembly; this remains for the
// readers of test/ until they do.
func ReadStacks(dir string) ([]Stack, error) {
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return nil, err
	}
	var out []Stack
	for _, s := range a.Stacks {
		raw, err := os.ReadFile(filepath.Join(dir, s.TemplateFile))
		if err != nil || len(raw) != s.Size {
			// A nested assembly's template: its folder is not dir.
			raw = []byte(cfn.Compact(s.Raw))
		}
		st := Stack{Name: s.Name, Raw: raw, Template: s.Raw}
		for _, d := range s.Dependencies {
			if a.Stack(d) != nil {
				st.DependsOn = append(st.DependsOn, d)
			}
		}
		slices.Sort(st.DependsOn)
		out = append(out, st)
	}
	return out, nil
}

// WritePacks writes the evidence pack of each named production beside the
// templates of the cloud assembly in dir, as <studio>-<production>.evidence.md
// and .evidence.json. e is the whole estate, also when only some
// productions were synthesized: the checks compare each with the others.
// The assembly is read and the rule set run over it once, whatever the
// number of productions.
func WritePacks(dir string, e *manifest.Estate, productions []string) error {
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return err
	}
	ix, err := NewIndex(a, e)
	if err != nil {
		return err
	}
	for _, name := range productions {
		pack, err := ix.Report(name)
		if err != nil {
			return err
		}
		js, err := pack.JSON()
		if err != nil {
			return err
		}
		base := filepath.Join(dir, e.Studio.Studio+"-"+name+".evidence")
		if err := os.WriteFile(base+".md", []byte(pack.Markdown()), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(base+".json", js, 0o644); err != nil {
			return err
		}
	}
	return nil
}
