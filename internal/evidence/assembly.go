package evidence

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/renderenv/renderenv/internal/manifest"
)

// ReadAssembly reads the stack templates of the cloud assembly in dir, and of
// the nested assemblies a pipeline's stages write, by stack name.
func ReadAssembly(dir string) (map[string]map[string]any, error) {
	stacks, err := ReadStacks(dir)
	if err != nil {
		return nil, err
	}
	templates := map[string]map[string]any{}
	for _, st := range stacks {
		templates[st.Name] = st.Template
	}
	return templates, nil
}

// Stack is one stack of a cloud assembly.
type Stack struct {
	Name     string
	Raw      []byte // the template as written
	Template map[string]any
	// DependsOn names the stacks of the same assembly that this one declares
	// a deploy-time dependency on (manifest.json `dependencies`).
	DependsOn []string
}

// ReadStacks reads the stacks of the cloud assembly in dir, and of the
// nested assemblies a pipeline's stages write.
func ReadStacks(dir string) ([]Stack, error) {
	var out []Stack
	if err := readAssembly(dir, &out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

func readAssembly(dir string, into *[]Stack, depth int) error {
	if depth > 3 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("reading the cloud assembly: %w", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type         string   `json:"type"`
			Dependencies []string `json:"dependencies"`
			Properties   struct {
				TemplateFile  string `json:"templateFile"`
				StackName     string `json:"stackName"`
				DirectoryName string `json:"directoryName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("reading the cloud assembly: %w", err)
	}
	// A stack artifact's id is its stack name unless it names another.
	stackName := func(id string) string {
		if name := m.Artifacts[id].Properties.StackName; name != "" {
			return name
		}
		return id
	}
	for _, id := range slices.Sorted(maps.Keys(m.Artifacts)) {
		a := m.Artifacts[id]
		switch a.Type {
		case "aws:cloudformation:stack":
			st := Stack{Name: stackName(id)}
			if st.Raw, err = os.ReadFile(filepath.Join(dir, a.Properties.TemplateFile)); err != nil {
				return err
			}
			if err := json.Unmarshal(st.Raw, &st.Template); err != nil {
				return fmt.Errorf("%s: %w", a.Properties.TemplateFile, err)
			}
			for _, d := range a.Dependencies {
				if m.Artifacts[d].Type == "aws:cloudformation:stack" {
					st.DependsOn = append(st.DependsOn, stackName(d))
				}
			}
			slices.Sort(st.DependsOn)
			*into = append(*into, st)
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
