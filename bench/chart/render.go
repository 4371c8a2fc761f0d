package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

var (
	white     = color.RGBA{255, 255, 255, 255}
	ink       = color.RGBA{40, 40, 40, 255}
	gridMajor = color.RGBA{200, 200, 200, 255}
	gridMinor = color.RGBA{238, 238, 238, 255}
	// palette gives knownEngines their colours, in order, then the rest.
	palette = []color.RGBA{
		{31, 119, 180, 255},  // iam: blue
		{90, 90, 90, 255},    // bare: grey
		{255, 127, 14, 255},  // casbin: orange
		{44, 160, 44, 255},   // cedar: green
		{148, 103, 189, 255}, // opa: purple
		{214, 39, 40, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255},
	}
)

// logAxis maps values on a log10 scale onto pixels [p0, p1]: decades
// lo..hi hold the data and get gridlines, with a little padding.
type logAxis struct {
	lo, hi int
	p0, p1 float64
}

func newLogAxis(min, max, p0, p1 float64) logAxis {
	a := logAxis{lo: int(math.Floor(math.Log10(min))), hi: int(math.Ceil(math.Log10(max))), p0: p0, p1: p1}
	if a.hi == a.lo {
		a.hi++
	}
	return a
}

func (a logAxis) pos(v float64) float64 {
	pad := 0.06 * float64(a.hi-a.lo)
	lo, hi := float64(a.lo)-pad, float64(a.hi)+pad
	return a.p0 + (math.Log10(v)-lo)/(hi-lo)*(a.p1-a.p0)
}

// decadeLabel writes 10^e with SI steps of 1000: units[0] for e < 3,
// units[1] for 3 <= e < 6, and so on ("100ns", "1µs", "10k").
func decadeLabel(e int, units []string) string {
	i := min(max(e/3, 0), len(units)-1)
	return strconv.FormatFloat(math.Pow10(e-3*i), 'f', -1, 64) + units[i]
}

// writePNG draws the series as a w x h PNG chart.
func writePNG(wr io.Writer, ss []series, title string, w, h int) error {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	const s = 2 // font scale: 10x14 pixel glyphs
	legend := 0 // the legend's width, right of the plot
	for _, se := range ss {
		legend = max(legend, 46+textWidth(se.engine, s)+16)
	}
	left, right, top, bottom := 96, w-max(legend+20, 140), 64, h-70
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, se := range ss {
		for _, p := range se.points {
			minX, maxX = math.Min(minX, p.size), math.Max(maxX, p.size)
			minY, maxY = math.Min(minY, p.ns), math.Max(maxY, p.ns)
		}
	}
	xa := newLogAxis(minX, maxX, float64(left), float64(right))
	ya := newLogAxis(minY, maxY, float64(bottom), float64(top))

	// Minor gridlines at 2..9 of each decade, then labelled decade ones.
	for e := xa.lo; e < xa.hi; e++ {
		for k := 2.0; k < 10; k++ {
			x := int(xa.pos(k * math.Pow10(e)))
			fill(img, x, top, x+1, bottom, gridMinor)
		}
	}
	for e := ya.lo; e < ya.hi; e++ {
		for k := 2.0; k < 10; k++ {
			y := int(ya.pos(k * math.Pow10(e)))
			fill(img, left, y, right, y+1, gridMinor)
		}
	}
	for e := xa.lo; e <= xa.hi; e++ {
		x := int(xa.pos(math.Pow10(e)))
		fill(img, x, top, x+1, bottom, gridMajor)
		fill(img, x, bottom, x+1, bottom+6, ink)
		label := decadeLabel(e, []string{"", "k", "M", "G"})
		text(img, x-textWidth(label, s)/2, bottom+12, label, s, ink)
	}
	for e := ya.lo; e <= ya.hi; e++ {
		y := int(ya.pos(math.Pow10(e)))
		fill(img, left, y, right, y+1, gridMajor)
		fill(img, left-6, y, left, y+1, ink)
		label := decadeLabel(e, []string{"ns", "µs", "ms", "s"})
		text(img, left-12-textWidth(label, s), y-7*s/2, label, s, ink)
	}
	// Frame, titles.
	fill(img, left, top, right+1, top+1, ink)
	fill(img, left, bottom, right+1, bottom+1, ink)
	fill(img, left, top, left+1, bottom, ink)
	fill(img, right, top, right+1, bottom, ink)
	text(img, (left+right-textWidth(title, 3))/2, 18, title, 3, ink)
	xt := "world size (principals, log scale)"
	text(img, (left+right-textWidth(xt, s))/2, bottom+40, xt, s, ink)
	text(img, left-textWidth("ns/check", s)/2, top-22, "ns/check", s, ink)

	// Series: lines, then markers on top, then the legend entry.
	other := len(knownEngines)
	for i, se := range ss {
		j := slices.Index(knownEngines, se.engine)
		if j < 0 {
			j, other = other, other+1
		}
		c := palette[j%len(palette)]
		for j := 1; j < len(se.points); j++ {
			a, b := se.points[j-1], se.points[j]
			line(img, xa.pos(a.size), ya.pos(a.ns), xa.pos(b.size), ya.pos(b.ns), c)
		}
		for _, p := range se.points {
			x, y := int(math.Round(xa.pos(p.size))), int(math.Round(ya.pos(p.ns)))
			disc(img, x, y, 6, white)
			disc(img, x, y, 4, c)
		}
		lx, ly := right+20, top+10+i*30
		line(img, float64(lx), float64(ly+7), float64(lx+36), float64(ly+7), c)
		disc(img, lx+18, ly+7, 4, c)
		text(img, lx+46, ly, se.engine, s, ink)
	}
	return png.Encode(wr, img)
}

// fill paints the rectangle [x0, x1) x [y0, y1).
func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(c), image.Point{}, draw.Src)
}

// disc paints a filled circle of radius r around (cx, cy).
func disc(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if dx*dx+dy*dy <= r*r+r/2 {
				img.SetRGBA(cx+dx, cy+dy, c)
			}
		}
	}
}

// line paints a 3-pixel-wide segment from (x0, y0) to (x1, y1).
func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		disc(img, int(math.Round(x0+t*(x1-x0))), int(math.Round(y0+t*(y1-y0))), 1, c)
	}
}

// textWidth is the width in pixels of s drawn at scale.
func textWidth(s string, scale int) int {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	return (6*n - 1) * scale
}

// text draws s with its top-left corner at (x, y), each font pixel a
// scale x scale square. Letters without a glyph of their own are drawn in
// lower case; any other rune as '?'. Text is 9*scale pixels tall.
func text(img *image.RGBA, x, y int, s string, scale int, c color.RGBA) {
	for _, r := range s {
		g, ok := font[r]
		if !ok {
			if g, ok = font[[]rune(strings.ToLower(string(r)))[0]]; !ok {
				g = font['?']
			}
		}
		top := y
		if strings.ContainsRune(descenders, r) {
			top += 2 * scale
		}
		for row, bits := range g {
			for col := 0; col < 5; col++ {
				if bits&(1<<(4-col)) != 0 {
					fill(img, x+col*scale, top+row*scale, x+(col+1)*scale, top+(row+1)*scale, c)
				}
			}
		}
		x += 6 * scale
	}
}

// font is a 5x7 bitmap font: seven rows per glyph, the high bit of five
// on the left. The descenders' glyphs start at the x-height and are drawn
// two rows lower, so text is nine rows tall.
const descenders = "gpqyµ"

var font = map[rune][7]uint8{
	' ': {},
	'?': {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100},
	'.': {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100},
	',': {0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000},
	'_': {0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111},
	'-': {0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000},
	'/': {0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000},
	'(': {0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010},
	')': {0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000},
	'0': {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110},
	'1': {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},
	'2': {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111},
	'3': {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110},
	'4': {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010},
	'5': {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110},
	'6': {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110},
	'7': {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000},
	'8': {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110},
	'9': {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100},
	'a': {0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111},
	'b': {0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110},
	'c': {0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110},
	'd': {0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111},
	'e': {0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110},
	'f': {0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000},
	'g': {0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110},
	'h': {0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001},
	'i': {0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110},
	'j': {0b00010, 0b00000, 0b00110, 0b00010, 0b00010, 0b10010, 0b01100},
	'k': {0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010},
	'l': {0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},
	'm': {0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10001, 0b10001},
	'n': {0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001},
	'o': {0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110},
	'p': {0b11110, 0b10001, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000},
	'q': {0b01111, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b00001},
	'r': {0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000},
	's': {0b00000, 0b00000, 0b01110, 0b10000, 0b01110, 0b00001, 0b11110},
	't': {0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110},
	'u': {0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101},
	'v': {0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100},
	'w': {0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010},
	'x': {0b00000, 0b00000, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001},
	'y': {0b10001, 0b10001, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110},
	'z': {0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111},
	'µ': {0b10001, 0b10001, 0b10001, 0b10011, 0b11101, 0b10000, 0b10000},
	'M': {0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001},
}
