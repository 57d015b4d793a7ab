package evidence

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"

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
	// The index is complete and only read from here on: the packs are
	// written by one goroutine per CPU, each taking the next production.
	next := make(chan string)
	errs := make(chan error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				if err := writePack(ix, dir, e.Studio.Studio, name); err != nil {
					errs <- err
					for range next {
					}
					return
				}
			}
		}()
	}
	for _, name := range productions {
		next <- name
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// writePack writes one production's pack as Markdown and JSON.
func writePack(ix *Index, dir, studio, name string) error {
	pack, err := ix.Report(name)
	if err != nil {
		return err
	}
	js, err := pack.JSON()
	if err != nil {
		return err
	}
	base := filepath.Join(dir, studio+"-"+name+".evidence")
	if err := os.WriteFile(base+".md", []byte(pack.Markdown()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".json", js, 0o644)
}
