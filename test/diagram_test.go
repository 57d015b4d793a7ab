package test

import (
	"bytes"
	"context"
	"encoding/xml"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/renderenv/renderenv/internal/diagram"
)

// The diagrams of the acme estate and of each kind of production match
// their golden DOT files (reviewed when they change, like the snapshots),
// and render to valid SVG (and nightfall's to PNG) with no system
// Graphviz. The README shows
// docs/nightfall.svg, rewritten with -update.
func TestDiagramsMatchGoldenFilesAndRenderToSVG(t *testing.T) {
	s := synth(t, acmeEstate)
	for _, name := range []string{"", "nightfall", "harbour", "brightside"} {
		var dot string
		var err error
		if name == "" {
			dot, err = diagram.Estate(s.Assembly, s.Manifests)
		} else {
			dot, err = diagram.Production(s.Assembly, s.Manifests, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		file := name
		if file == "" {
			file = "estate"
		}
		golden := filepath.Join("testdata", "diagrams", file+".dot")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(dot), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (write it with -update)", err)
		}
		if dot != string(want) {
			t.Errorf("%s differs from %s: review the change, then rewrite it with -update", file, golden)
		}
		svg, err := diagram.Render(context.Background(), dot, "svg")
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(svg, new(struct{})); err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s: not an SVG document: %v", file, err)
		}
		if name == "nightfall" {
			for _, want := range []string{"#f8d7d3", "tcp 4433", "static route 10.20.0.0/16", "no route", "KMS key content&#45;asset"} {
				if !bytes.Contains(svg, []byte(want)) {
					t.Errorf("nightfall's SVG lacks %q", want)
				}
			}
			if *update {
				if err := os.WriteFile(filepath.Join("..", "docs", "nightfall.svg"), svg, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The PNG is drawn from the SVG: Tier 1's fill is in it.
			b, err := diagram.Render(context.Background(), dot, "png")
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("nightfall's PNG: %v", err)
			}
			tier1 := false
			for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !tier1; y += 4 {
				for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 4 {
					if c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); c.R == 0xf8 && c.G == 0xd7 && c.B == 0xd3 {
						tier1 = true
						break
					}
				}
			}
			if !tier1 {
				t.Error("nightfall's PNG has no Tier 1 fill")
			}
		}
		if strings.Contains(dot, `"others"`) != (name != "") {
			t.Errorf("%s: the other productions' no-route node belongs to production pictures only", file)
		}
	}
}
