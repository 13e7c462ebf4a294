package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"
)

// Series is one line: Y[i] is the value at the panel's XLabels[i]; NaN
// leaves a gap.
type Series struct {
	Name  string
	Color color.RGBA
	Y     []float64
}

// Panel is one chart: categorical x axis, linear y axis from zero.
type Panel struct {
	Title   string
	XLabels []string
	Series  []Series
}

const (
	panelW, panelH = 520, 320
	margin         = 14
	scale          = 2 // font pixel size
	legendRowH     = 11 * scale
)

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{210, 210, 210, 255}
)

// Render writes a PNG with a title, a legend of every series name seen (in
// first-seen order) and the panels laid out cols per row.
func Render(w io.Writer, title string, cols int, panels []Panel) error {
	if cols < 1 || len(panels) == 0 {
		return fmt.Errorf("chart: need at least one panel and one column")
	}
	var legend []Series
	seen := map[string]bool{}
	for _, p := range panels {
		for _, s := range p.Series {
			if !seen[s.Name] {
				seen[s.Name] = true
				legend = append(legend, s)
			}
		}
	}
	rows := (len(panels) + cols - 1) / cols
	width := cols*panelW + margin
	// Two legend columns when every name fits in half the width, else one.
	legendCols := 2
	for _, s := range legend {
		if 32+textWidth(s.Name) > width/2-margin {
			legendCols = 1
		}
	}
	top := margin + 9*scale + margin + legendRowH*((len(legend)+legendCols-1)/legendCols) + margin
	img := image.NewRGBA(image.Rect(0, 0, width, top+rows*panelH))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	text(img, margin, margin, title, black)
	for i, s := range legend {
		x := margin + (i%legendCols)*(width/legendCols)
		y := margin + 9*scale + margin + (i/legendCols)*legendRowH
		fillRect(img, x, y+2, 24, 3*scale, s.Color)
		text(img, x+32, y, s.Name, black)
	}
	for i, p := range panels {
		drawPanel(img, margin+(i%cols)*panelW, top+(i/cols)*panelH, p)
	}
	return png.Encode(w, img)
}

func drawPanel(img *image.RGBA, x0, y0 int, p Panel) {
	text(img, x0, y0, p.Title, black)
	// Plot area inside the panel, leaving room for axis labels.
	left, right := x0+70, x0+panelW-30
	top, bottom := y0+12*scale, y0+panelH-20*scale
	maxY := 0.0
	for _, s := range p.Series {
		for _, v := range s.Y {
			if !math.IsNaN(v) && v > maxY {
				maxY = v
			}
		}
	}
	if maxY <= 0 {
		maxY = 1
	}
	maxY = niceCeil(maxY)
	const ticks = 4
	for t := 0; t <= ticks; t++ {
		y := bottom - (bottom-top)*t/ticks
		hline(img, left, right, y, grey)
		label := fmtNum(maxY * float64(t) / ticks)
		text(img, left-8-textWidth(label), y-7*scale/2, label, black)
	}
	vline(img, left, top, bottom, black)
	hline(img, left, right, bottom, black)
	n := len(p.XLabels)
	xAt := func(i int) int {
		if n == 1 {
			return (left + right) / 2
		}
		return left + 10 + (right-left-20)*i/(n-1)
	}
	for i, l := range p.XLabels {
		x := xAt(i)
		vline(img, x, bottom, bottom+4, black)
		text(img, x-textWidth(l)/2, bottom+8, l, black)
	}
	for _, s := range p.Series {
		px, py := -1, -1
		for i, v := range s.Y {
			if i >= n || math.IsNaN(v) {
				px = -1
				continue
			}
			x := xAt(i)
			y := bottom - int(float64(bottom-top)*v/maxY)
			fillRect(img, x-3, y-3, 7, 7, s.Color)
			if px >= 0 {
				line(img, px, py, x, y, s.Color)
			}
			px, py = x, y
		}
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so tick labels
// are short.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func fmtNum(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case v >= 1e4:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "K"
	case v >= 10 || v == 0:
		return fmt.Sprintf("%.0f", v)
	default:
		return trimZero(fmt.Sprintf("%.2f", v))
	}
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func textWidth(s string) int { return len([]rune(s)) * 6 * scale }

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs['?']
		}
		for row, bits := range g {
			for col, b := range bits {
				if b == '#' {
					fillRect(img, x+col*scale, y+row*scale, scale, scale, c)
				}
			}
		}
		x += 6 * scale
	}
}

func fillRect(img *image.RGBA, x, y, w, h int, c color.RGBA) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) { fillRect(img, x0, y, x1-x0+1, 1, c) }
func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) { fillRect(img, x, y0, 1, y1-y0+1, c) }

// line draws a 2-pixel-thick segment by stepping along its longer axis.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := x1-x0, y1-y0
	steps := max(abs(dx), abs(dy), 1)
	for i := 0; i <= steps; i++ {
		x := x0 + dx*i/steps
		y := y0 + dy*i/steps
		fillRect(img, x, y, 2, 2, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
