package diagram

import (
	"bytes"
	"context"
	"fmt"

	"github.com/goccy/go-graphviz"
)

// Formats are what Render writes. PNG is not among them: the WebAssembly
// Graphviz's raster renderer fills curved edges and drops node outlines, so
// a PNG would misdraw the picture; render the DOT with a system Graphviz
// (dot -Tpng) or convert the SVG instead.
var Formats = []string{"svg", "dot"}

// Render lays out a DOT document with Graphviz (compiled to WebAssembly:
// no system package) as "svg"; "dot" returns it unchanged.
func Render(ctx context.Context, dot, format string) ([]byte, error) {
	if format == "dot" {
		return []byte(dot), nil
	}
	if format != "svg" {
		return nil, fmt.Errorf("format %q: use svg or dot", format)
	}
	g, err := graphviz.New(ctx)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	graph, err := graphviz.ParseBytes([]byte(dot))
	if err != nil {
		return nil, fmt.Errorf("the diagram is not valid DOT: %w", err)
	}
	defer graph.Close()
	var buf bytes.Buffer
	if err := g.Render(ctx, graph, graphviz.Format(format), &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
