package svgchart

// Graph is a directed graph drawn in layers from left to right: a
// journey's stages and the moves between them. Layers come from the
// longest path from the first node over the graph without its back edges
// (found by a depth-first walk in node order), so a loop is drawn as an
// arc back, below the boxes, and the forward flow reads left to right.
type Graph struct {
	Title string
	Nodes []Node // the first is where the flow starts
	Edges []Edge
}

// Node is a box: Label inside in bold, Sub under it (the live count).
// Kind styles it: "stage", or "end", "goal", "exit" for the ends.
type Node struct {
	ID, Label, Sub, Kind string
}

// Edge is an arrow; Label is written at its middle (a count, a share).
type Edge struct {
	From, To, Label string
}

const (
	nodeW   = 150.0
	nodeH   = 48.0
	layerDX = 210.0
	rowDY   = 72.0
	pad     = 16.0
	loopDY  = 36.0 // room under the boxes for the arcs of back edges
)

type placed struct{ x, y float64 }

// layout returns each node's top-left corner and the edges that go back.
func (g Graph) layout() (map[string]placed, map[int]bool, float64, float64) {
	index := map[string]int{}
	for i, n := range g.Nodes {
		index[n.ID] = i
	}
	out := make([][]int, len(g.Nodes)) // edge indexes by source
	for k, e := range g.Edges {
		if i, ok := index[e.From]; ok {
			if _, ok := index[e.To]; ok {
				out[i] = append(out[i], k)
			}
		}
	}
	// Back edges: those reaching a node on the walk's stack.
	back := map[int]bool{}
	state := make([]int, len(g.Nodes)) // 0 new, 1 on stack, 2 done
	var order []int                    // reverse post-order: a topological order without back edges
	var walk func(i int)
	walk = func(i int) {
		state[i] = 1
		for _, k := range out[i] {
			j := index[g.Edges[k].To]
			switch state[j] {
			case 0:
				walk(j)
			case 1:
				back[k] = true
			}
		}
		state[i] = 2
		order = append(order, i)
	}
	for i := range g.Nodes {
		if state[i] == 0 {
			walk(i)
		}
	}
	layer := make([]int, len(g.Nodes))
	for o := len(order) - 1; o >= 0; o-- {
		i := order[o]
		for _, k := range out[i] {
			if back[k] {
				continue
			}
			j := index[g.Edges[k].To]
			layer[j] = max(layer[j], layer[i]+1)
		}
	}
	rows := map[int]int{}
	pos := map[string]placed{}
	maxLayer, maxRow := 0, 0
	for i, n := range g.Nodes {
		l := layer[i]
		r := rows[l]
		rows[l]++
		pos[n.ID] = placed{pad + layerDX*float64(l), pad + rowDY*float64(r)}
		maxLayer, maxRow = max(maxLayer, l), max(maxRow, r)
	}
	width := 2*pad + layerDX*float64(maxLayer) + nodeW
	height := 2*pad + rowDY*float64(maxRow) + nodeH + loopDY
	return pos, back, width, height
}

// SVG draws the graph.
func (g Graph) SVG() string {
	pos, back, width, height := g.layout()
	var w writer
	w.open(width, height, g.Title)
	w.printf(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" class="arrowhead"/></marker></defs>`)
	for k, e := range g.Edges {
		a, ok1 := pos[e.From]
		b, ok2 := pos[e.To]
		if !ok1 || !ok2 {
			continue
		}
		var d string
		var lx, ly float64
		if back[k] || b.x <= a.x {
			// An arc under the boxes, from the source's bottom to the
			// target's bottom.
			x1, y1 := a.x+nodeW/2, a.y+nodeH
			x2, y2 := b.x+nodeW/2+10, b.y+nodeH
			low := height - 12 // below every box
			d = "M" + num(x1) + "," + num(y1) + " C" + num(x1) + "," + num(low) + " " + num(x2) + "," + num(low) + " " + num(x2) + "," + num(y2)
			lx, ly = (x1+x2)/2, low-8
		} else {
			x1, y1 := a.x+nodeW, a.y+nodeH/2
			x2, y2 := b.x, b.y+nodeH/2
			mx := (x1 + x2) / 2
			d = "M" + num(x1) + "," + num(y1) + " C" + num(mx) + "," + num(y1) + " " + num(mx) + "," + num(y2) + " " + num(x2) + "," + num(y2)
			lx, ly = mx, (y1+y2)/2-4
		}
		w.printf(`<path d="%s" class="edge" marker-end="url(#arrow)"><title>%s → %s %s</title></path>`, d, esc(e.From), esc(e.To), esc(e.Label))
		if e.Label != "" {
			w.text(lx, ly, "middle", "elbl", e.Label)
		}
	}
	for _, n := range g.Nodes {
		p := pos[n.ID]
		kind := n.Kind
		if kind == "" {
			kind = "stage"
		}
		w.printf(`<g class="node %s"><title>%s %s</title>`, esc(kind), esc(n.Label), esc(n.Sub))
		w.printf(`<rect x="%s" y="%s" width="%s" height="%s" rx="6"/>`, num(p.x), num(p.y), num(nodeW), num(nodeH))
		w.text(p.x+nodeW/2, p.y+20, "middle", "nname", clip(n.Label, 20))
		if n.Sub != "" {
			w.text(p.x+nodeW/2, p.y+38, "middle", "nsub", clip(n.Sub, 22))
		}
		w.printf(`</g>`)
	}
	return w.close()
}
