package shard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Part is what a worker writes in PartFile.
type Part struct {
	// Productions are the worker's productions in the order it built
	// them, each with the stacks its build created, by artifact id.
	Productions []Built `json:"productions"`
}

// Built is one production's stacks.
type Built struct {
	Name   string   `json:"name"`
	Stacks []string `json:"stacks"`
}

// WritePart writes p into the worker's assembly folder.
func WritePart(dir string, p Part) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, PartFile), b, 0o644)
}

// The cloud assembly's own files, which Merge rewrites or leaves.
const (
	manifestFile = "manifest.json"
	treeFile     = "tree.json"
	treeChild    = "Tree" // the tree artifact's node among the root's children
)

// trailing are the artifact types a single process writes after the
// stacks.
var trailing = []string{"cdk:tree", "cdk:feature-flag-report"}

// Merge moves the stacks of the parts (worker assembly folders) into the
// assembly at dst, which holds the shared stacks and, when it has a part
// file, productions of its own, and rewrites dst's manifest.json and
// tree.json: the productions' stacks follow the shared ones, production by
// production in order (the manifests' order), each production's stacks in
// the order its build created them, as one process building the whole
// estate writes them. Every production of order must come from exactly one
// part.
func Merge(dst string, parts []string, order []string) error {
	man, err := readNested(filepath.Join(dst, manifestFile), "artifacts")
	if err != nil {
		return err
	}
	tree, err := readNested(filepath.Join(dst, treeFile), "tree", "children")
	if err != nil {
		return err
	}
	blocks := map[string]*block{}
	own := filepath.Join(dst, PartFile)
	_, err = os.Stat(own)
	hasOwn := err == nil
	dirs := slices.Clone(parts)
	if hasOwn {
		dirs = append(dirs, dst)
	}
	for _, dir := range dirs {
		if err := readPart(dir, blocks); err != nil {
			return err
		}
	}
	for _, name := range order {
		if blocks[name] == nil {
			return fmt.Errorf("merging the synthesis: no worker built production %s", name)
		}
	}
	if err := everyStackPlaced(man.inner, blocks); err != nil {
		return err
	}
	// dst's own productions leave their place, to be put back in order.
	listed := map[string]bool{}
	for _, b := range blocks {
		for _, id := range b.built.Stacks {
			listed[id], listed[id+".assets"] = true, true
		}
	}
	isListed := func(m member) bool { return listed[m.key] }
	man.inner.members = slices.DeleteFunc(man.inner.members, isListed)
	tree.inner.members = slices.DeleteFunc(tree.inner.members, isListed)
	var artifacts, nodes []member
	for _, name := range order {
		b := blocks[name]
		for _, id := range b.built.Stacks {
			for _, a := range b.part.artifacts.members {
				if a.key == id || a.key == id+".assets" {
					artifacts = append(artifacts, a)
				}
			}
			node, ok := b.part.tree.inner.get(id)
			if !ok {
				return fmt.Errorf("merging the synthesis: %s: tree.json has no node %s", b.part.dir, id)
			}
			nodes = append(nodes, member{id, node})
			if b.part.dir == dst {
				continue
			}
			if err := b.part.move(dst, id); err != nil {
				return err
			}
		}
	}
	man.inner.insertBefore(artifacts, func(m member) bool { return slices.Contains(trailing, artifactType(m.value)) })
	tree.inner.insertBefore(nodes, func(m member) bool { return m.key == treeChild })
	if err := man.write(filepath.Join(dst, manifestFile), "  "); err != nil {
		return err
	}
	if err := tree.write(filepath.Join(dst, treeFile), ""); err != nil {
		return err
	}
	if hasOwn {
		if err := os.Remove(own); err != nil {
			return err
		}
	}
	return mergeReports(dst, parts)
}

// block is one production's stacks in the part that built them.
type block struct {
	built Built
	part  *part
}

// part is a worker's assembly.
type part struct {
	dir       string
	artifacts *object // manifest.json's artifacts
	tree      *nested
	files     map[string][]string // artifact id -> the files it names
}

func readPart(dir string, blocks map[string]*block) error {
	b, err := os.ReadFile(filepath.Join(dir, PartFile))
	if err != nil {
		return fmt.Errorf("merging the synthesis: %w", err)
	}
	var info Part
	if err := json.Unmarshal(b, &info); err != nil {
		return fmt.Errorf("merging the synthesis: %s: %w", filepath.Join(dir, PartFile), err)
	}
	man, err := readNested(filepath.Join(dir, manifestFile), "artifacts")
	if err != nil {
		return err
	}
	tree, err := readNested(filepath.Join(dir, treeFile), "tree", "children")
	if err != nil {
		return err
	}
	p := &part{dir: dir, artifacts: man.inner, tree: tree, files: map[string][]string{}}
	for _, a := range man.inner.members {
		files, err := p.filesOf(a)
		if err != nil {
			return err
		}
		p.files[a.key] = files
	}
	for _, built := range info.Productions {
		if _, dup := blocks[built.Name]; dup {
			return fmt.Errorf("merging the synthesis: production %s was built by two workers", built.Name)
		}
		blocks[built.Name] = &block{built: built, part: p}
	}
	return nil
}

// filesOf are the files an artifact names: a stack's template and
// metadata, an asset manifest and the assets it lists.
func (p *part) filesOf(a member) ([]string, error) {
	var art struct {
		Properties struct {
			TemplateFile string `json:"templateFile"`
			File         string `json:"file"`
		} `json:"properties"`
		AdditionalMetadataFile string `json:"additionalMetadataFile"`
	}
	if err := json.Unmarshal(a.value, &art); err != nil {
		return nil, fmt.Errorf("merging the synthesis: %s: artifact %s: %w", p.dir, a.key, err)
	}
	var out []string
	for _, f := range []string{art.Properties.TemplateFile, art.AdditionalMetadataFile, art.Properties.File} {
		if f != "" {
			out = append(out, f)
		}
	}
	if artifactType(a.value) != "cdk:asset-manifest" {
		return out, nil
	}
	b, err := os.ReadFile(filepath.Join(p.dir, art.Properties.File))
	if err != nil {
		return nil, fmt.Errorf("merging the synthesis: %w", err)
	}
	var assets struct {
		Files map[string]struct {
			Source struct {
				Path string `json:"path"`
			} `json:"source"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &assets); err != nil {
		return nil, fmt.Errorf("merging the synthesis: %s: %w", art.Properties.File, err)
	}
	// The assets: Lambda code folders, and the stack's own template.
	for _, f := range assets.Files {
		if f.Source.Path != "" {
			out = append(out, f.Source.Path)
		}
	}
	return out, nil
}

// move moves the files of a stack (and of its asset manifest) into dst.
// An asset folder another stack brought already is the same asset: its
// name is its content's hash.
func (p *part) move(dst, stack string) error {
	for _, id := range []string{stack + ".assets", stack} {
		for _, f := range p.files[id] {
			from, to := filepath.Join(p.dir, f), filepath.Join(dst, f)
			if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) {
				continue // moved with an earlier stack of this part
			}
			if _, err := os.Stat(to); err == nil {
				if info, _ := os.Stat(from); info.IsDir() {
					continue
				}
				if err := sameFile(from, to); err != nil {
					return err
				}
				continue
			}
			if err := os.Rename(from, to); err != nil {
				return fmt.Errorf("merging the synthesis: %w", err)
			}
		}
	}
	return nil
}

func sameFile(a, b string) error {
	x, err := os.ReadFile(a)
	if err != nil {
		return err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(x, y) {
		return fmt.Errorf("merging the synthesis: %s and %s differ", a, b)
	}
	return nil
}

func artifactType(raw json.RawMessage) string {
	var a struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Type
}

// everyStackPlaced checks that each stack a worker wrote is either a
// stand-in of a shared stack (shared holds it) or one of a production's:
// a stack no production's build listed would be lost in the merge.
func everyStackPlaced(shared *object, blocks map[string]*block) error {
	listed := map[*part]map[string]bool{}
	for _, b := range blocks {
		if listed[b.part] == nil {
			listed[b.part] = map[string]bool{}
		}
		for _, id := range b.built.Stacks {
			listed[b.part][id] = true
		}
	}
	for p, ids := range listed {
		for _, a := range p.artifacts.members {
			if artifactType(a.value) != "aws:cloudformation:stack" || ids[a.key] {
				continue
			}
			if _, standIn := shared.get(a.key); !standIn {
				return fmt.Errorf("merging the synthesis: %s: stack %s belongs to no production the worker built", p.dir, a.key)
			}
		}
	}
	return nil
}
