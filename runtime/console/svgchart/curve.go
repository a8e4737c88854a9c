package svgchart

import (
	"fmt"
	"strings"
)

// Curve draws values on a fixed scale at evenly spaced columns, joined by
// a line: a journey map's emotion curve, one point a stage, from Min
// (bottom) to Max (top). Columns without a value (Set false) break the
// line. Its width is Columns × ColumnW so that it lines up under a table
// of the same column widths.
type Curve struct {
	Title    string
	Labels   []string // one a column
	Values   []float64
	Set      []bool
	Min, Max float64
	ColumnW  float64
}

const curveH = 110.0

// SVG draws the curve.
func (c Curve) SVG() string {
	cw := c.ColumnW
	if cw <= 0 {
		cw = 120
	}
	width := cw * float64(len(c.Labels))
	span := c.Max - c.Min
	if span <= 0 {
		span = 1
	}
	top, bottom := 14.0, curveH-22
	y := func(v float64) float64 { return bottom - (bottom-top)*(v-c.Min)/span }
	var w writer
	w.open(width, curveH, c.Title)
	// The neutral line, where the scale crosses zero.
	if c.Min < 0 && c.Max > 0 {
		w.printf(`<line x1="0" y1="%s" x2="%s" y2="%s" class="zero"/>`, num(y(0)), num(width), num(y(0)))
	}
	// Segments of consecutive set columns; each starts with M.
	var path []string
	prev := false
	for i := range c.Labels {
		set := i < len(c.Values) && i < len(c.Set) && c.Set[i]
		if set {
			cmd := " L"
			if !prev {
				cmd = " M"
			}
			path = append(path, cmd+num(cw*float64(i)+cw/2)+","+num(y(c.Values[i])))
		}
		prev = set
	}
	if len(path) > 0 {
		w.printf(`<path d="%s" class="curve"/>`, strings.TrimSpace(strings.Join(path, "")))
	}
	for i, l := range c.Labels {
		x := cw*float64(i) + cw/2
		if i < len(c.Set) && c.Set[i] {
			v := c.Values[i]
			w.printf(`<circle cx="%s" cy="%s" r="5" class="point"><title>%s: %s</title></circle>`, num(x), num(y(v)), esc(l), signed(v))
			w.text(x, y(v)-9, "middle", "num", signed(v))
		}
		w.text(x, curveH-6, "middle", "lbl", clip(l, 18))
	}
	return w.close()
}

// signed writes a value with its sign, and zero without one.
func signed(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%+g", v)
}
