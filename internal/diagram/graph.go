package diagram

import (
	"fmt"
	"strings"

	"github.com/renderenv/renderenv/internal/cfn"
)

// graph writes DOT: nested clusters, nodes and labelled edges, each once.
type graph struct {
	a     *cfn.Assembly
	title string
	lines []string
	nodes map[string]bool
	edges map[string]bool
	depth int
}

func newGraph(title string) *graph {
	return &graph{title: title, nodes: map[string]bool{}, edges: map[string]bool{}}
}

func (g *graph) add(format string, args ...any) {
	g.lines = append(g.lines, strings.Repeat("  ", g.depth+1)+fmt.Sprintf(format, args...))
}

// open starts a cluster with a label and a fill colour; close ends it.
func (g *graph) open(id, label, fill string) {
	g.add("subgraph %q {", "cluster_"+id)
	g.depth++
	g.add("label=%s; style=\"rounded,filled\"; fillcolor=%q; color=\"#888888\"; fontname=\"Helvetica-Bold\";", quote(label), fill)
}

func (g *graph) close() {
	g.depth--
	g.add("}")
}

func (g *graph) node(id, label, shape string) {
	if g.nodes[id] {
		return
	}
	g.nodes[id] = true
	g.add("%q [label=%s, shape=%s];", id, quote(label), shape)
}

// filled is a node with its own fill colour.
func (g *graph) filled(id, label, fill string) {
	g.nodes[id] = true
	g.add("%q [label=%s, shape=box, style=\"rounded,filled\", fillcolor=%q];", id, quote(label), fill)
}

func (g *graph) has(id string) bool { return g.nodes[id] }

func (g *graph) edge(from, to, label, style string) {
	attrs := "label=" + quote(label)
	if style != "" {
		attrs += fmt.Sprintf(", style=%s", style)
	}
	g.edges[from+"->"+to] = true
	g.add("%q -> %q [%s];", from, to, attrs)
}

// edgeOnce draws an edge unless one joins the two nodes already.
func (g *graph) edgeOnce(from, to, label string) {
	if !g.edges[from+"->"+to] {
		g.edge(from, to, label, "")
	}
}

// String is the DOT document: left to right, labels in a sans-serif font.
func (g *graph) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph renderenv {\n  graph [label=%s, labelloc=t, fontname=\"Helvetica-Bold\", fontsize=16, rankdir=LR, splines=polyline, nodesep=0.3, ranksep=0.7];\n", quote(g.title))
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10, style=filled, fillcolor=white, margin=\"0.25,0.1\"];\n  edge [fontname=\"Helvetica\", fontsize=9, color=\"#444444\"];\n")
	for _, l := range g.lines {
		b.WriteString(l + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// wrap joins items, per lines of n.
func wrap(items []string, n int) string {
	var lines []string
	for i := 0; i < len(items); i += n {
		lines = append(lines, strings.Join(items[i:min(i+n, len(items))], ", "))
	}
	return strings.Join(lines, "\\n")
}

// quote is a DOT string: labels keep their \n line breaks.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
