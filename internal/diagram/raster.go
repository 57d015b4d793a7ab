package diagram

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"strconv"
	"strings"

	"github.com/fogleman/gg"
	"github.com/golang/freetype/truetype"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// PNG rasterizes the SVG Graphviz writes (Render) at scale, in pure Go
// with the Go fonts. It draws what Graphviz's SVG holds: polygons, paths
// of cubic Béziers, polylines and text, with their fill, stroke and dash.
// The WebAssembly Graphviz's own raster renderer fills curved edges, so
// renderenv draws the PNG from the SVG instead.
func PNG(svg []byte, scale float64) ([]byte, error) {
	r := &raster{scale: scale, faces: map[string]font.Face{}}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the diagram's SVG: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := r.start(dec, t); err != nil {
				return nil, err
			}
		}
	}
	if r.dc == nil {
		return nil, fmt.Errorf("the diagram's SVG has no <svg> element")
	}
	var buf bytes.Buffer
	if err := r.dc.EncodePNG(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// goFontFit shrinks the Go fonts to Helvetica's widths.
const goFontFit = 0.8

type raster struct {
	dc    *gg.Context
	scale float64
	faces map[string]font.Face
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (r *raster) start(dec *xml.Decoder, e xml.StartElement) error {
	switch e.Name.Local {
	case "svg":
		vb := numbers(attr(e, "viewBox"))
		if len(vb) != 4 {
			return fmt.Errorf("the diagram's SVG has no viewBox")
		}
		r.dc = gg.NewContext(int(vb[2]*r.scale+0.5), int(vb[3]*r.scale+0.5))
		r.dc.SetColor(color.White)
		r.dc.Clear()
		r.dc.Scale(r.scale, r.scale)
	case "g":
		// Graphviz's one transform: the graph group's translate.
		if tr := attr(e, "transform"); strings.Contains(tr, "translate(") && r.dc != nil {
			v := numbers(tr[strings.Index(tr, "translate("):])
			if len(v) == 2 {
				r.dc.Translate(v[0], v[1])
			}
		}
	case "polygon", "polyline":
		p := numbers(attr(e, "points"))
		for i := 0; i+1 < len(p); i += 2 {
			r.dc.LineTo(p[i], p[i+1])
		}
		if e.Name.Local == "polygon" {
			r.dc.ClosePath()
		}
		r.paint(e)
	case "path":
		r.path(attr(e, "d"))
		r.paint(e)
	case "ellipse":
		cx, _ := strconv.ParseFloat(attr(e, "cx"), 64)
		cy, _ := strconv.ParseFloat(attr(e, "cy"), 64)
		rx, _ := strconv.ParseFloat(attr(e, "rx"), 64)
		ry, _ := strconv.ParseFloat(attr(e, "ry"), 64)
		r.dc.DrawEllipse(cx, cy, rx, ry)
		r.paint(e)
	case "text":
		var s string
		if err := dec.DecodeElement(&s, &e); err != nil {
			return err
		}
		r.text(e, s)
	case "title":
		return dec.Skip()
	}
	return nil
}

// path draws Graphviz's path data: M, then C with any number of control
// point triples (absolute coordinates only, as Graphviz writes them).
func (r *raster) path(d string) {
	cmd := byte(0)
	var pts []float64
	flush := func() {
		switch cmd {
		case 'M':
			if len(pts) >= 2 {
				r.dc.MoveTo(pts[0], pts[1])
			}
		case 'C':
			for i := 0; i+5 < len(pts); i += 6 {
				r.dc.CubicTo(pts[i], pts[i+1], pts[i+2], pts[i+3], pts[i+4], pts[i+5])
			}
		case 'L':
			for i := 0; i+1 < len(pts); i += 2 {
				r.dc.LineTo(pts[i], pts[i+1])
			}
		}
		pts = pts[:0]
	}
	for i := 0; i < len(d); {
		c := d[i]
		if c == 'M' || c == 'C' || c == 'L' || c == 'Z' {
			flush()
			cmd = c
			if c == 'Z' {
				r.dc.ClosePath()
			}
			i++
			continue
		}
		j := i
		for j < len(d) && strings.IndexByte("MCLZ", d[j]) < 0 {
			j++
		}
		pts = append(pts, numbers(d[i:j])...)
		i = j
	}
	flush()
}

// paint fills and strokes the current path as the element says.
func (r *raster) paint(e xml.StartElement) {
	fill, stroke := colour(attr(e, "fill")), colour(attr(e, "stroke"))
	if fill != nil {
		r.dc.SetColor(fill)
		if stroke != nil {
			r.dc.FillPreserve()
		} else {
			r.dc.Fill()
		}
	}
	if stroke == nil {
		r.dc.ClearPath()
		return
	}
	r.dc.SetColor(stroke)
	w := 1.0
	if v, err := strconv.ParseFloat(attr(e, "stroke-width"), 64); err == nil {
		w = v
	}
	r.dc.SetLineWidth(w)
	if dash := numbers(attr(e, "stroke-dasharray")); len(dash) > 0 {
		r.dc.SetDash(dash...)
	} else {
		r.dc.SetDash()
	}
	r.dc.Stroke()
}

func (r *raster) text(e xml.StartElement, s string) {
	size, _ := strconv.ParseFloat(attr(e, "font-size"), 64)
	bold := attr(e, "font-weight") == "bold"
	r.dc.SetFontFace(r.face(size, bold))
	x, _ := strconv.ParseFloat(attr(e, "x"), 64)
	y, _ := strconv.ParseFloat(attr(e, "y"), 64)
	ax := 0.0
	switch attr(e, "text-anchor") {
	case "middle":
		ax = 0.5
	case "end":
		ax = 1
	}
	c := colour(attr(e, "fill"))
	if c == nil {
		c = color.Black
	}
	r.dc.SetColor(c)
	r.dc.DrawStringAnchored(s, x, y, ax, 0)
}

// face is the Go font at size (the SVG's user units), regular or bold.
func (r *raster) face(size float64, bold bool) font.Face {
	key := fmt.Sprintf("%v/%t", size, bold)
	if f, ok := r.faces[key]; ok {
		return f
	}
	ttf := goregular.TTF
	if bold {
		ttf = gobold.TTF
	}
	parsed, err := truetype.Parse(ttf)
	if err != nil {
		panic(err) // the embedded Go fonts always parse
	}
	// gg places text through its transform but draws the glyphs at the
	// face's own size: scale the face. Graphviz sized the boxes for
	// Helvetica, which the Go fonts outrun by about a fifth.
	f := truetype.NewFace(parsed, &truetype.Options{Size: size * r.scale * goFontFit, DPI: 72, Hinting: font.HintingFull})
	r.faces[key] = f
	return f
}

// colour reads an SVG paint: none, a name Graphviz writes, or #rrggbb.
func colour(v string) color.Color {
	switch v {
	case "", "none", "transparent":
		return nil
	case "white":
		return color.White
	case "black":
		return color.Black
	}
	if len(v) == 7 && v[0] == '#' {
		n, err := strconv.ParseUint(v[1:], 16, 32)
		if err == nil {
			return color.RGBA{uint8(n >> 16), uint8(n >> 8), uint8(n), 255}
		}
	}
	return color.Black
}

// numbers are the numbers of a list such as "1,2 3.5 -4" or "translate(4 669.2)".
func numbers(s string) []float64 {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == 'e' || r == '+')
	})
	out := make([]float64, 0, len(f))
	for _, x := range f {
		if v, err := strconv.ParseFloat(x, 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}
