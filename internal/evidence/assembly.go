package evidence

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/renderenv/renderenv/internal/manifest"
)

// ReadAssembly reads the stack templates of the cloud assembly in dir, and of
// the nested assemblies a pipeline's stages write, by stack name.
func ReadAssembly(dir string) (map[string]map[string]any, error) {
	templates := map[string]map[string]any{}
	if err := readAssembly(dir, templates, 0); err != nil {
		return nil, err
	}
	return templates, nil
}

func readAssembly(dir string, into map[string]map[string]any, depth int) error {
	if depth > 3 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("reading the cloud assembly: %w", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile  string `json:"templateFile"`
				StackName     string `json:"stackName"`
				DirectoryName string `json:"directoryName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("reading the cloud assembly: %w", err)
	}
	for id, a := range m.Artifacts {
		switch a.Type {
		case "aws:cloudformation:stack":
			name := a.Properties.StackName
			if name == "" {
				name = id
			}
			tb, err := os.ReadFile(filepath.Join(dir, a.Properties.TemplateFile))
			if err != nil {
				return err
			}
			var t map[string]any
			if err := json.Unmarshal(tb, &t); err != nil {
				return fmt.Errorf("%s: %w", a.Properties.TemplateFile, err)
			}
			into[name] = t
		case "cdk:cloud-assembly":
			if err := readAssembly(filepath.Join(dir, a.Properties.DirectoryName), into, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// WritePacks writes the evidence pack of each named production beside the
// templates of the cloud assembly in dir, as <studio>-<production>.evidence.md
// and .evidence.json. e is the whole estate, also when only some
// productions were synthesized: the checks compare each with the others.
func WritePacks(dir string, e *manifest.Estate, productions []string) error {
	templates, err := ReadAssembly(dir)
	if err != nil {
		return err
	}
	ix, err := NewIndex(templates, e)
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
