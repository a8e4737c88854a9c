package svgchart

import "fmt"

// Intervals draws estimates with their intervals on one axis around zero:
// an experiment's variants, each a lift over the baseline with its 95%
// interval. An interval that does not cross zero is drawn solid.
type Intervals struct {
	Title string
	Rows  []Interval
}

// Interval is one estimate; Note is written after the axis (the verdict).
type Interval struct {
	Label            string
	Value, Low, High float64
	Note             string
}

const (
	ivLabelW = 150.0
	ivAxisW  = 480.0
	ivNoteW  = 200.0
	ivRowH   = 30.0
	ivAxisH  = 22.0
)

// SVG draws the chart; values are shares, written as percentage points.
func (c Intervals) SVG() string {
	lo, hi := 0.0, 0.0
	for _, r := range c.Rows {
		lo, hi = min(lo, r.Low, r.Value), max(hi, r.High, r.Value)
	}
	if hi-lo == 0 {
		lo, hi = -0.1, 0.1
	}
	span := hi - lo
	lo, hi = lo-span*0.05, hi+span*0.05
	x := func(v float64) float64 { return ivLabelW + ivAxisW*(v-lo)/(hi-lo) }
	height := pad + ivRowH*float64(len(c.Rows)) + ivAxisH
	var w writer
	w.open(ivLabelW+ivAxisW+ivNoteW, height, c.Title)
	bottom := pad + ivRowH*float64(len(c.Rows))
	w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" class="zero"/>`, num(x(0)), num(pad/2), num(x(0)), num(bottom))
	w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" class="axis"/>`, num(ivLabelW), num(bottom), num(ivLabelW+ivAxisW), num(bottom))
	for _, v := range []float64{lo, 0, hi} {
		w.text(x(v), bottom+15, "middle", "lbl", fmt.Sprintf("%+.1f pp", 100*v))
	}
	for i, r := range c.Rows {
		y := pad + ivRowH*float64(i) + ivRowH/2
		w.text(ivLabelW-8, y+4, "end", "lbl", clip(r.Label, 20))
		class := "ci"
		if r.Low > 0 || r.High < 0 {
			class = "ci sure"
		}
		w.printf(`<g class="%s"><title>%s: %+.1f pp, 95%% interval %+.1f to %+.1f pp</title>`, class, esc(r.Label), 100*r.Value, 100*r.Low, 100*r.High)
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x(r.Low)), num(y), num(x(r.High)), num(y))
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x(r.Low)), num(y-6), num(x(r.Low)), num(y+6))
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x(r.High)), num(y-6), num(x(r.High)), num(y+6))
		w.printf(`<circle cx="%s" cy="%s" r="5"/></g>`, num(x(r.Value)), num(y))
		w.text(ivLabelW+ivAxisW+8, y+4, "start", "num", r.Note)
	}
	return w.close()
}
