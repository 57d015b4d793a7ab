package diagram

import (
	"bytes"
	"context"
	"fmt"

	"github.com/goccy/go-graphviz"
)

// pngScale is the PNG's pixels per SVG unit (a point).
const pngScale = 1.5

// Render lays out a DOT document with Graphviz (compiled to WebAssembly:
// no system package) as "svg", or as "png" drawn from that SVG (PNG); "dot"
// returns it unchanged.
func Render(ctx context.Context, dot, format string) ([]byte, error) {
	if format == "dot" {
		return []byte(dot), nil
	}
	if format != "svg" && format != "png" {
		return nil, fmt.Errorf("format %q: use svg, png or dot", format)
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
	if err := g.Render(ctx, graph, graphviz.SVG, &buf); err != nil {
		return nil, err
	}
	if format == "png" {
		return PNG(buf.Bytes(), pngScale)
	}
	return buf.Bytes(), nil
}
