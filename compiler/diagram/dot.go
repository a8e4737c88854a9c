package diagram

import (
	"bufio"
	"io"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Dot writes the journeys as one Graphviz digraph with a cluster per journey.
// Inside it, a dashed cluster holds the stages, so that goals and exits can
// leave from its border (compound edges) to the "converted" and "exited"
// end states. Render it with `dot -Tsvg`.
//
// Node identifiers are quoted: "KEY.STAGE" for a stage and "KEY:start",
// "KEY:end", "KEY:converted", "KEY:exited" for the others, where KEY is the
// journey's name sanitised to [A-Za-z0-9_] (made unique when two names
// sanitise alike).
func Dot(w io.Writer, journeys []ir.Journey) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("digraph waymark {\n")
	bw.WriteString("  compound=true;\n")
	bw.WriteString("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n")
	bw.WriteString("  edge [fontname=\"Helvetica\", fontsize=10];\n")
	keys := newIDs(nil)
	for i := range journeys {
		g := build(&journeys[i])
		writeDot(bw, g, keys.id(g.name))
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func writeDot(w *bufio.Writer, g *graph, key string) {
	node := func(name string) string {
		switch name {
		case start:
			return dotQuote(key + ":start")
		case end:
			return dotQuote(key + ":end")
		case converted, exited:
			return dotQuote(key + ":" + name)
		}
		return dotQuote(key + "." + name)
	}
	line := func(indent int, parts ...string) {
		w.WriteString(strings.Repeat("  ", indent))
		for _, p := range parts {
			w.WriteString(p)
		}
		w.WriteByte('\n')
	}
	stagesCluster := dotQuote("cluster_" + key + ":stages")

	w.WriteString("\n")
	line(1, "subgraph ", dotQuote("cluster_"+key), " {")
	line(2, "label=", dotQuote("journey "+g.name), ";")
	line(2, node(start), ` [shape=point, width=0.2];`)

	line(2, "subgraph ", stagesCluster, " {")
	line(3, `label=""; style=dashed;`)
	completes := false
	for _, e := range g.edges {
		completes = completes || e.to == end
	}
	for _, s := range g.stages {
		label := strings.Join(append([]string{s.name}, s.lines...), "\n")
		line(3, node(s.name), " [label=", dotQuote(label), "];")
	}
	if completes {
		line(3, node(end), ` [shape=doublecircle, label="completed"];`)
	}
	line(2, "}")

	ends := map[string]bool{}
	for _, e := range g.outcomes {
		ends[e.to] = true
	}
	for _, to := range []string{converted, exited} {
		if ends[to] {
			line(2, node(to), " [shape=doublecircle, label=", dotQuote(to), "];")
		}
	}

	for _, e := range g.edges {
		line(2, node(e.from), " -> ", node(e.to), dotAttrs(e.label, ""), ";")
	}
	// Goals and exits leave the stages' cluster from its border; the edge is
	// drawn from the last stage, which tends to rank the end states below it.
	for _, e := range g.outcomes {
		if len(g.stages) == 0 {
			line(2, node(start), " -> ", node(e.to), dotAttrs(e.label, ""), ";")
			continue
		}
		last := g.stages[len(g.stages)-1].name
		line(2, node(last), " -> ", node(e.to), dotAttrs(e.label, stagesCluster), ";")
	}
	line(1, "}")
}

func dotAttrs(label, ltail string) string {
	var attrs []string
	if label != "" {
		attrs = append(attrs, "label="+dotQuote(label))
	}
	if ltail != "" {
		attrs = append(attrs, "ltail="+ltail, "style=dashed")
	}
	if len(attrs) == 0 {
		return ""
	}
	return " [" + strings.Join(attrs, ", ") + "]"
}

// dotEscaper escapes a dot quoted string: backslashes and quotes are
// escaped, and line breaks become dot's centred line break.
var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

func dotQuote(s string) string { return `"` + dotEscaper.Replace(s) + `"` }
