package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/renderenv/renderenv/internal/cfn"
)

// Count is the size of a synthesized cloud assembly.
type Count struct {
	Stacks    int
	Resources int
	// Constructs is the number of nodes in tree.json, the app's whole
	// construct tree (what aspects such as cdk-nag visit).
	Constructs int
	// PerStack is the resource count of each template, by stack name.
	PerStack map[string]int
}

// countAssembly reads the templates (through internal/cfn) and the
// construct tree of a cloud assembly folder.
func countAssembly(dir string) (Count, error) {
	c := Count{PerStack: map[string]int{}}
	a, err := cfn.ReadAssembly(dir)
	if err != nil {
		return c, err
	}
	for _, st := range a.Stacks {
		c.PerStack[st.Name] = len(st.Resources)
		c.Stacks++
		c.Resources += len(st.Resources)
	}
	// tree.json is the construct tree, not a template: cfn has no model of
	// it, and the count needs only its shape.
	var tree struct {
		Tree node `json:"tree"`
	}
	if err := readJSON(filepath.Join(dir, "tree.json"), &tree); err == nil {
		c.Constructs = tree.Tree.count()
	}
	return c, nil
}

type node struct {
	Children map[string]node `json:"children"`
}

func (n node) count() int {
	total := 1
	for _, c := range n.Children {
		total += c.count()
	}
	return total
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
