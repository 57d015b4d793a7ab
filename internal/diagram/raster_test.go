package diagram

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// A curved edge (fill none) is stroked, never filled; a filled polygon is
// filled; text is drawn; the image has the viewBox's size at the scale.
func TestPNGDrawsWhatTheSVGSays(t *testing.T) {
	svg := `<svg width="100pt" height="60pt" viewBox="0.00 0.00 100.00 60.00" xmlns="http://www.w3.org/2000/svg">
<g id="graph0" class="graph" transform="scale(1 1) rotate(0) translate(4 56)">
<title>t</title>
<polygon fill="#f8d7d3" stroke="#888888" points="0,0 20,0 20,-20 0,-20 0,0"/>
<path fill="none" stroke="black" d="M30,-5C40,-50 80,-50 90,-5"/>
<text text-anchor="middle" x="50" y="-2" font-family="Helvetica,sans-Serif" font-size="8.00">a&#45;b</text>
</g>
</svg>`
	b, err := PNG([]byte(svg), 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != (image.Point{200, 120}) {
		t.Errorf("size %v, want 200x120", got)
	}
	at := func(x, y float64) color.RGBA { // SVG coordinates inside the group
		return color.RGBAModel.Convert(img.At(int((x+4)*2), int((y+56)*2))).(color.RGBA)
	}
	if c := at(10, -10); c.R != 0xf8 || c.G != 0xd7 || c.B != 0xd3 {
		t.Errorf("the polygon is not filled: %v", c)
	}
	if c := at(60, -20); c.R != 255 || c.G != 255 || c.B != 255 {
		t.Errorf("inside the curve is painted %v: a path with fill none was filled", c)
	}
	dark := 0
	for x := 40; x < 60; x++ {
		for y := -8; y < 0; y++ {
			if c := at(float64(x), float64(y)); c.R < 128 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Error("the text was not drawn")
	}
	if _, err := PNG([]byte("<svg></svg>"), 1); err == nil {
		t.Error("an SVG without a viewBox was drawn")
	}
}
