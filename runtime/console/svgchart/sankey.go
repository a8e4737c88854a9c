package svgchart

import (
	"cmp"
	"slices"
)

// Sankey draws flows between nodes in columns (a journey's paths: step by
// step, how many customers went from one stage to the next). A link's
// width is proportional to its value; a node is as tall as the larger of
// what flows in and out of it.
type Sankey struct {
	Title string
	Nodes []SankeyNode
	Links []SankeyLink
}

// SankeyNode is a node in column Column; Kind styles it: "" for a stage,
// "goal", or "drop" for a drop-off (an exit, or completing without the goal).
type SankeyNode struct {
	ID, Label string
	Column    int
	Kind      string
}

// SankeyLink is a flow of Value from Source to Target (node ids).
type SankeyLink struct {
	Source, Target string
	Value          float64
}

const (
	sankeyW     = 960.0
	sankeyH     = 360.0
	sankeyNodeW = 12.0
	sankeyGap   = 10.0
	sankeyLblW  = 130.0 // room for the last column's labels
)

// SVG draws the chart.
func (s Sankey) SVG() string {
	in, out := map[string]float64{}, map[string]float64{}
	for _, l := range s.Links {
		out[l.Source] += l.Value
		in[l.Target] += l.Value
	}
	size := func(id string) float64 { return maxf(in[id], out[id]) }
	cols := map[int][]SankeyNode{}
	maxCol := 0
	for _, n := range s.Nodes {
		cols[n.Column] = append(cols[n.Column], n)
		maxCol = max(maxCol, n.Column)
	}
	// The scale fits the fullest column, gaps included.
	scale := 0.0
	for _, ns := range cols {
		total := 0.0
		for _, n := range ns {
			total += size(n.ID)
		}
		if total > 0 {
			k := (sankeyH - 2*pad - sankeyGap*float64(len(ns)-1)) / total
			if scale == 0 || k < scale {
				scale = k
			}
		}
	}
	type box struct{ x, y, h float64 }
	boxes := map[string]box{}
	dx := (sankeyW - 2*pad - sankeyNodeW - sankeyLblW) / float64(max(maxCol, 1))
	for c := 0; c <= maxCol; c++ {
		ns := cols[c]
		// Largest first, then by name: the main path runs along the top.
		slices.SortStableFunc(ns, func(a, b SankeyNode) int {
			if d := cmp.Compare(size(b.ID), size(a.ID)); d != 0 {
				return d
			}
			return cmp.Compare(a.ID, b.ID)
		})
		y := pad
		for _, n := range ns {
			h := maxf(size(n.ID)*scale, 1)
			boxes[n.ID] = box{pad + dx*float64(c), y, h}
			y += h + sankeyGap
		}
	}
	kind := map[string]string{}
	for _, n := range s.Nodes {
		kind[n.ID] = n.Kind
	}
	// Links leave each node top-down in the order of their targets' y,
	// and arrive in the order of their sources' y, so that they do not
	// cross at the nodes.
	links := slices.Clone(s.Links)
	slices.SortStableFunc(links, func(a, b SankeyLink) int {
		if d := cmp.Compare(boxes[a.Source].y, boxes[b.Source].y); d != 0 {
			return d
		}
		return cmp.Compare(boxes[a.Target].y, boxes[b.Target].y)
	})
	outY, inY := map[string]float64{}, map[string]float64{}
	type ribbon struct {
		l          SankeyLink
		y0, y1, th float64
	}
	var rs []ribbon
	for _, l := range links {
		a, okA := boxes[l.Source]
		_, okB := boxes[l.Target]
		if !okA || !okB || l.Value <= 0 {
			continue
		}
		th := l.Value * scale
		rs = append(rs, ribbon{l: l, y0: a.y + outY[l.Source], th: th})
		outY[l.Source] += th
	}
	slices.SortStableFunc(rs, func(a, b ribbon) int {
		if d := cmp.Compare(boxes[a.l.Target].y, boxes[b.l.Target].y); d != 0 {
			return d
		}
		return cmp.Compare(boxes[a.l.Source].y, boxes[b.l.Source].y)
	})
	for i := range rs {
		rs[i].y1 = boxes[rs[i].l.Target].y + inY[rs[i].l.Target]
		inY[rs[i].l.Target] += rs[i].th
	}
	var w writer
	w.open(sankeyW, sankeyH, s.Title)
	for _, r := range rs {
		a, b := boxes[r.l.Source], boxes[r.l.Target]
		x0, x1 := a.x+sankeyNodeW, b.x
		mx := (x0 + x1) / 2
		d := "M" + num(x0) + "," + num(r.y0) + " C" + num(mx) + "," + num(r.y0) + " " + num(mx) + "," + num(r.y1) + " " + num(x1) + "," + num(r.y1) +
			" V" + num(r.y1+r.th) + " C" + num(mx) + "," + num(r.y1+r.th) + " " + num(mx) + "," + num(r.y0+r.th) + " " + num(x0) + "," + num(r.y0+r.th) + "Z"
		w.printf(`<path d="%s" class="flow %s"><title>%s → %s: %s</title></path>`, d, esc(kind[r.l.Target]), esc(labelOf(s.Nodes, r.l.Source)), esc(labelOf(s.Nodes, r.l.Target)), num(r.l.Value))
	}
	for _, n := range s.Nodes {
		b, ok := boxes[n.ID]
		if !ok {
			continue
		}
		w.printf(`<rect x="%s" y="%s" width="%s" height="%s" class="snode %s"><title>%s: %s</title></rect>`, num(b.x), num(b.y), num(sankeyNodeW), num(b.h), esc(n.Kind), esc(n.Label), num(size(n.ID)))
		w.text(b.x+sankeyNodeW+4, b.y+b.h/2+4, "start", "lbl", clip(n.Label, 18)+" "+num(size(n.ID)))
	}
	return w.close()
}

func labelOf(ns []SankeyNode, id string) string {
	for _, n := range ns {
		if n.ID == id {
			return n.Label
		}
	}
	return id
}
