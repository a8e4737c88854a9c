package svgchart

import "fmt"

// Bars is a horizontal bar chart: one row a label, each row one bar or a
// stack of parts (sends by fate). A funnel is Bars with one part a row.
type Bars struct {
	Title string
	Rows  []Row
	// Max is the value of a full-width bar; 0 takes the largest row total.
	Max float64
}

// Row is one bar. Note is written after the bar (a count, a rate).
type Row struct {
	Label string
	Parts []Part
	Note  string
}

// Part is one segment of a bar. Series names the colour: parts with the
// same series share one across rows, and the legend lists each once.
type Part struct {
	Series string
	Value  float64
}

const (
	barLabelW = 170.0
	barW      = 420.0
	barNoteW  = 130.0
	barRowH   = 28.0
	barH      = 18.0
	barTop    = 8.0
	legendH   = 24.0
)

// SVG draws the chart.
func (c Bars) SVG() string {
	series := []string{}
	seen := map[string]int{}
	total := func(r Row) float64 {
		t := 0.0
		for _, p := range r.Parts {
			t += p.Value
		}
		return t
	}
	max := c.Max
	for _, r := range c.Rows {
		max = maxf(max, total(r))
		for _, p := range r.Parts {
			if _, ok := seen[p.Series]; !ok {
				seen[p.Series] = len(series)
				series = append(series, p.Series)
			}
		}
	}
	legend := len(series) > 1
	height := barTop*2 + barRowH*float64(len(c.Rows))
	if legend {
		height += legendH
	}
	width := barLabelW + barW + barNoteW
	var w writer
	w.open(width, height, c.Title)
	for i, r := range c.Rows {
		y := barTop + barRowH*float64(i)
		w.text(barLabelW-8, y+barH-4, "end", "lbl", clip(r.Label, 24))
		w.printf(`<rect x="%s" y="%s" width="%s" height="%s" class="track"/>`, num(barLabelW), num(y), num(barW), num(barH))
		x := barLabelW
		for _, p := range r.Parts {
			if p.Value <= 0 || max <= 0 {
				continue
			}
			pw := barW * p.Value / max
			w.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s: %s %s</title></rect>`,
				num(x), num(y), num(pw), num(barH), Palette[seen[p.Series]%len(Palette)], esc(r.Label), esc(p.Series), num(p.Value))
			x += pw
		}
		note := r.Note
		if note == "" {
			note = num(total(r))
		}
		w.text(barLabelW+barW+8, y+barH-4, "start", "num", note)
	}
	if legend {
		y := height - legendH + 4
		x := barLabelW
		for i, s := range series {
			w.printf(`<rect x="%s" y="%s" width="12" height="12" fill="%s"/>`, num(x), num(y), Palette[i%len(Palette)])
			w.text(x+16, y+11, "start", "lbl", s)
			x += 24 + 8*float64(len([]rune(s)))
		}
	}
	return w.close()
}

func maxf(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

// Percent writes a share as a percentage with one decimal.
func Percent(part, whole float64) string {
	if whole <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*part/whole)
}
