package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxNesting bounds how deep nested assemblies (a pipeline's stages) go.
const maxNesting = 4

// ReadAssembly reads the cloud assembly in dir: manifest.json and the
// template of every stack artifact it lists, and of the nested assemblies
// (cdk:cloud-assembly artifacts, a pipeline's stages) recursively. Each
// stack carries the account, region, tags and dependencies its artifact
// declares.
func ReadAssembly(dir string) (*Assembly, error) {
	var stacks []*Stack
	if err := readManifest(dir, &stacks, 0); err != nil {
		return nil, err
	}
	if len(stacks) == 0 {
		return nil, fmt.Errorf("%s: the cloud assembly holds no stack", dir)
	}
	return NewAssembly(stacks...)
}

// manifest is the part of a cloud assembly's manifest.json read here.
type manifest struct {
	Artifacts map[string]struct {
		Type         string   `json:"type"`
		Environment  string   `json:"environment"`
		Dependencies []string `json:"dependencies"`
		Properties   struct {
			TemplateFile          string            `json:"templateFile"`
			StackName             string            `json:"stackName"`
			Tags                  map[string]string `json:"tags"`
			DirectoryName         string            `json:"directoryName"`
			TerminationProtection bool              `json:"terminationProtection"`
		} `json:"properties"`
	} `json:"artifacts"`
}

func readManifest(dir string, into *[]*Stack, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("%s: cloud assemblies nested more than %d deep", dir, maxNesting)
	}
	path := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no cloud assembly here (no manifest.json); run cdk synth first", dir)
		}
		return fmt.Errorf("reading the cloud assembly: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: not a cloud assembly manifest: %w", path, err)
	}
	for id, a := range m.Artifacts {
		switch a.Type {
		case "aws:cloudformation:stack":
			file := filepath.Join(dir, a.Properties.TemplateFile)
			tb, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("stack %s: %w", id, err)
			}
			name := a.Properties.StackName
			if name == "" {
				name = id
			}
			s, err := ParseTemplate(name, tb)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			s.Account, s.Region = environment(a.Environment)
			// Without tags in the manifest, NewAssembly takes the tags the
			// stack's resources share.
			s.Tags = a.Properties.Tags
			s.Dependencies = a.Dependencies
			s.TemplateFile = a.Properties.TemplateFile
			s.TerminationProtection = a.Properties.TerminationProtection
			*into = append(*into, s)
		case "cdk:cloud-assembly":
			if err := readManifest(filepath.Join(dir, a.Properties.DirectoryName), into, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// environment splits aws://ACCOUNT/REGION; unknown parts are "".
func environment(env string) (account, region string) {
	account, region, _ = strings.Cut(strings.TrimPrefix(env, "aws://"), "/")
	if strings.HasPrefix(account, "unknown") {
		account = ""
	}
	if strings.HasPrefix(region, "unknown") {
		region = ""
	}
	return account, region
}
