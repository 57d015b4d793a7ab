package manifest

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/renderenv/renderenv/internal/fixtures"
)

// FuzzDecodeNeverPanics feeds arbitrary bytes to Load, as a production file
// next to the acme fixture's studio.yaml and as the studio.yaml of its pooled
// production. Whatever the bytes, Load must not panic, must return an estate
// exactly when it returns no errors, and must name a file in every error.
// Each run loads few files: the fuzzer minimizes every new input by running
// it many times, and a slow target spends the whole -fuzztime doing that.
// Run it with
//
//	go test -run x -fuzz FuzzDecodeNeverPanics -fuzztime 60s ./internal/manifest
//
// Crashers it finds land in testdata/fuzz/FuzzDecodeNeverPanics and are then
// replayed by every go test.
func FuzzDecodeNeverPanics(f *testing.F) {
	examples := map[string][]byte{}
	err := fs.WalkDir(fixtures.Acme, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fixtures.Acme, path)
		examples[path] = data
		f.Add(data)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	// The odd files of the invalid cases are seeds too.
	odd, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*", "*.y*ml"))
	for _, name := range odd {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: x\nrenderProfiles:\n  a: &p {instanceTypes: [a, b]}\n  b: *p\n"))
	f.Add([]byte("tier: 1\ntier: 2\n? [k]\n: v\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		asProduction := fstest.MapFS{
			"studio.yaml": {Data: examples["studio.yaml"]},
			"fuzz.yaml":   {Data: data},
		}
		asStudio := fstest.MapFS{
			"studio.yaml":     {Data: data},
			"brightside.yaml": {Data: examples["brightside.yaml"]},
		}
		for _, fsys := range []fstest.MapFS{asProduction, asStudio} {
			est, errs := Load(fsys, label)
			if (est == nil) != (len(errs) > 0) {
				t.Fatalf("Load returned estate %v with %d errors", est != nil, len(errs))
			}
			for _, e := range errs {
				if e.File == "" || e.Message == "" || e.Line < 0 {
					t.Errorf("error without file, message or line: %#v", e)
				}
			}
			if !slices.Equal(errs, errs.Sorted()) {
				t.Errorf("errors are not sorted:\n%v", errs)
			}
		}
	})
}
