package diagram

import (
	"bufio"
	"io"
	"sort"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Marks say how a journey's stages changed, for a diagram of a change (the
// plan's pull-request comment): each styled by a class of its own.
type Marks struct {
	Added   []string          // stages of the new journey that are new
	Changed []string          // stages of the new journey that changed in place
	Moved   map[string]string // new name -> old name: stages renamed by a `moved` block
	// Removed are stages of the old journey that are gone, drawn beside the
	// new ones; the value is where a `removed` block sends their
	// customers (a stage, "end") or "" when they exit.
	Removed map[string]string
}

// Mermaid classes of MermaidMarked, and their styles: GitHub's diff colours.
var markClasses = []struct{ name, style string }{
	{"added", "fill:#dafbe1,stroke:#1a7f37,color:#0b3d1a"},
	{"changed", "fill:#fff8c5,stroke:#9a6700,color:#3b2300"},
	{"moved", "fill:#ddf4ff,stroke:#0969da,color:#0a3069"},
	{"removed", "fill:#ffebe9,stroke:#cf222e,color:#82071e,stroke-dasharray:4 3"},
}

// MermaidMarked writes one journey as a fenced Mermaid state diagram whose
// stages are styled by how they changed (classes added, changed, moved and
// removed), with the removed stages drawn beside the others and an edge to
// where a `removed` block sends their customers. Mermaid cannot style a
// state inside a composite state, so unlike Mermaid the stages are drawn at
// the top level, and the journey's goals and exits (reachable from every
// stage) are left out.
func MermaidMarked(w io.Writer, j *ir.Journey, m Marks) error {
	bw := bufio.NewWriter(w)
	g := build(j)
	node := mermaidNodes()
	line := func(parts ...string) {
		bw.WriteString("  ")
		for _, p := range parts {
			bw.WriteString(p)
		}
		bw.WriteByte('\n')
	}
	edge := func(from, to, label string) {
		if label == "" {
			line(from, " --> ", to)
			return
		}
		line(from, " --> ", to, " : ", mermaidLabel(label))
	}

	bw.WriteString("```mermaid\nstateDiagram-v2\n")
	line("%% journey ", mermaidLabel(g.name))
	classes := map[string][]string{}
	mark := func(class, name string) { classes[class] = append(classes[class], node(name)) }
	for _, s := range g.stages {
		id := node(s.name)
		line(`state "`, mermaidName(s.name), `" as `, id)
		if old, ok := m.Moved[s.name]; ok {
			line(id, " : ", mermaidLabel("moved from "+old))
			mark("moved", s.name)
		}
		for _, l := range s.lines {
			line(id, " : ", mermaidLabel(l))
		}
	}
	for _, name := range m.Added {
		mark("added", name)
	}
	for _, name := range m.Changed {
		mark("changed", name)
	}
	removed := make([]string, 0, len(m.Removed))
	for name := range m.Removed {
		removed = append(removed, name)
	}
	sort.Strings(removed)
	for _, name := range removed {
		id := node(name)
		line(`state "`, mermaidName(name), `" as `, id)
		line(id, " : ", mermaidLabel("removed"))
		mark("removed", name)
	}
	for _, e := range g.edges {
		edge(node(e.from), node(e.to), e.label)
	}
	for _, name := range removed {
		switch to := m.Removed[name]; to {
		case "":
			edge(node(name), exited, "stage_removed")
		case ir.End:
			edge(node(name), "[*]", "removed")
		default:
			edge(node(name), node(to), "removed")
		}
	}
	for _, c := range markClasses {
		if len(classes[c.name]) == 0 {
			continue
		}
		line("classDef ", c.name, " ", c.style)
		line("class ", strings.Join(classes[c.name], ","), " ", c.name)
	}
	bw.WriteString("```\n")
	return bw.Flush()
}
