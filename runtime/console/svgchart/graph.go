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
	loopDY  = 24.0             // room under the boxes for the lanes of back edges
	laneDY  = 10.0             // between two back edges' lanes
	gapDX   = 14.0             // a back edge's way down, in the gap left of its source
	padL    = pad + gapDX + 12 // room for the way up into the first layer
)

func isStage(n Node) bool { return n.Kind == "" || n.Kind == "stage" }

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
	// The ends (end, goals, exits) go in a last layer of their own, so
	// that no arrow into them crosses a stage.
	maxStage := 0
	for i, n := range g.Nodes {
		if isStage(n) {
			maxStage = max(maxStage, layer[i])
		}
	}
	rows := map[int]int{}
	pos := map[string]placed{}
	maxLayer, maxRow := 0, 0
	for i, n := range g.Nodes {
		l := layer[i]
		if !isStage(n) {
			l = maxStage + 1
		}
		r := rows[l]
		rows[l]++
		pos[n.ID] = placed{padL + layerDX*float64(l), pad + rowDY*float64(r)}
		maxLayer, maxRow = max(maxLayer, l), max(maxRow, r)
	}
	// An edge within a layer, or one that spans layers (it would cross
	// the boxes between), is drawn along a lane below like a back edge.
	for k, e := range g.Edges {
		a, ok1 := pos[e.From]
		b, ok2 := pos[e.To]
		if ok1 && ok2 && (b.x <= a.x || b.x-a.x > layerDX) {
			back[k] = true
		}
	}
	nback := len(back)
	width := padL + pad + layerDX*float64(maxLayer) + nodeW
	height := 2*pad + rowDY*float64(maxRow) + nodeH + loopDY + laneDY*float64(nback)
	return pos, back, width, height
}

// SVG draws the graph.
func (g Graph) SVG() string {
	pos, back, width, height := g.layout()
	bottom := 0.0
	for _, p := range pos {
		bottom = maxf(bottom, p.y+nodeH)
	}
	bottom += loopDY / 2
	lane := 0
	var labels []label
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
		if back[k] {
			// Orthogonal, through free space only: out of the source's
			// left side (right side, going forward) into the gap beside
			// its layer, down to a lane of
			// its own under every box, along it to the gap before the
			// target's layer, up, and into the target's left side below
			// where the forward arrows arrive.
			lane++
			x1, y1 := a.x, a.y+nodeH*0.75
			gx1 := a.x - gapDX - 3*float64(lane%4)
			if b.x > a.x { // forward over a layer: out of the right side
				x1, gx1 = a.x+nodeW, a.x+nodeW+gapDX+3*float64(lane%4)
			}
			low := bottom + laneDY*float64(lane)
			gx2 := b.x - gapDX - 3*float64(lane%4)
			x2, y2 := b.x, b.y+nodeH*0.75
			d = "M" + num(x1) + "," + num(y1) + " H" + num(gx1) + " V" + num(low) + " H" + num(gx2) + " V" + num(y2) + " H" + num(x2)
			// Lanes lie close together: their labels alternate between
			// a third and two thirds of the way, so that they do not meet.
			f := 1.0 / 3
			if lane%2 == 0 {
				f = 2.0 / 3
			}
			lx, ly = gx1+(gx2-gx1)*f, low-3
		} else {
			x1, y1 := a.x+nodeW, a.y+nodeH/2
			x2, y2 := b.x, b.y+nodeH/2
			mx := (x1 + x2) / 2
			d = "M" + num(x1) + "," + num(y1) + " C" + num(mx) + "," + num(y1) + " " + num(mx) + "," + num(y2) + " " + num(x2) + "," + num(y2)
			lx, ly = bezier(0.5, x1, mx, mx, x2), bezier(0.5, y1, y1, y2, y2)-4
		}
		w.printf(`<path d="%s" class="edge" marker-end="url(#arrow)"><title>%s → %s %s</title></path>`, d, esc(e.From), esc(e.To), esc(e.Label))
		if e.Label != "" {
			labels = append(labels, label{lx, ly, e.Label})
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
	// Labels last, over the boxes and lines (with a white halo, in the
	// style sheet), so that none is hidden.
	for _, l := range labels {
		w.text(l.x, l.y, "middle", "elbl", clip(l.s, 24))
	}
	return w.close()
}

type label struct {
	x, y float64
	s    string
}

// bezier is a cubic Bézier curve's coordinate at t.
func bezier(t, p0, p1, p2, p3 float64) float64 {
	u := 1 - t
	return u*u*u*p0 + 3*u*u*t*p1 + 3*u*t*t*p2 + t*t*t*p3
}
