package chart

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"testing"
)

func TestRenderDecodes(t *testing.T) {
	red := color.RGBA{200, 0, 0, 255}
	blue := color.RGBA{0, 0, 200, 255}
	panels := []Panel{
		{Title: "req/s", XLabels: []string{"1", "16", "64"}, Series: []Series{
			{Name: "native", Color: red, Y: []float64{1000, 20000, 25000}},
			{Name: "wasm", Color: blue, Y: []float64{900, math.NaN(), 21000}},
		}},
		{Title: "p99 ms", XLabels: []string{"1", "16", "64"}, Series: []Series{
			{Name: "native", Color: red, Y: []float64{0.1, 0.5, 2}},
		}},
		{Title: "empty", XLabels: []string{"1"}},
	}
	var buf bytes.Buffer
	if err := Render(&buf, "test chart: all glyphs 0123456789 ()%=+-_/.,:?", 2, panels); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	// Some pixel of each series color must have been drawn.
	found := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			found[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}] = true
		}
	}
	for _, c := range []color.RGBA{red, blue} {
		if !found[c] {
			t.Errorf("color %v not drawn", c)
		}
	}
}

func TestGlyphShapes(t *testing.T) {
	for r, g := range glyphs {
		for i, row := range g {
			if len(row) != 5 {
				t.Errorf("glyph %q row %d has %d columns, want 5", r, i, len(row))
			}
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{1, 1}, {1.1, 2}, {3, 5}, {7, 10}, {23000, 25000}, {0.3, 0.5}} {
		if got := niceCeil(tc.in); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
