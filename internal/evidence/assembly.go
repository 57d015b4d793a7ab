package evidence

import (
	"os"
	"path/filepath"

	"github.com/renderenv/renderenv/internal/cfn"
	"github.com/renderenv/renderenv/internal/manifest"
)

// WritePacks writes the evidence pack of each named production beside the
// templates of the cloud assembly in dir, as <studio>-<production>.evidence.md
// and .evidence.json. e is the whole estate, also when only some
// productions were synthesized: the checks compare each with the others.
// The assembly is read and the rule set run over it once, whatever the
// number of productions. matrices is the access matrix by production (see
// Index.SetAccess); without it, nil, the access checks are limited.
func WritePacks(dir string, e *manifest.Estate, productions []string, matrices map[string]AccessMatrix) error {
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return err
	}
	ix, err := NewIndex(a, e)
	if err != nil {
		return err
	}
	ix.SetAccess(matrices)
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
