package diagram

import (
	"bufio"
	"io"
	"regexp"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// Mermaid writes each journey as a Markdown fenced block holding one Mermaid
// stateDiagram-v2, blocks separated by a blank line: GitHub renders each block
// in a pull request or an issue as it is pasted. Within a diagram the journey
// is a composite state named after it, so that its goals and exits can leave
// it from any stage:
//
//	```mermaid
//	stateDiagram-v2
//	  %% journey welcome
//	  state "welcome" as journey{
//	    state "greet" as greet
//	    greet : send hello via email
//	    [*] --> greet : signed_up
//	    greet --> [*]
//	  }
//	  journey --> converted : first_order
//	  converted --> [*]
//	```
func Mermaid(w io.Writer, journeys []ir.Journey) error {
	bw := bufio.NewWriter(w)
	for i := range journeys {
		if i > 0 {
			bw.WriteString("\n")
		}
		writeMermaid(bw, build(&journeys[i]))
	}
	return bw.Flush()
}

// mermaidJourney identifies a diagram's composite state. Stage identifiers
// never take it, nor the end states' "converted" and "exited".
const mermaidJourney = "journey"

func writeMermaid(w *bufio.Writer, g *graph) {
	node := mermaidNodes()
	line := func(indent int, parts ...string) {
		w.WriteString(strings.Repeat("  ", indent))
		for _, p := range parts {
			w.WriteString(p)
		}
		w.WriteByte('\n')
	}
	edge := func(indent int, from, to, label string) {
		if label == "" {
			line(indent, from, " --> ", to)
			return
		}
		line(indent, from, " --> ", to, " : ", mermaidLabel(label))
	}

	line(0, "```mermaid")
	line(0, "stateDiagram-v2")
	line(1, "%% journey ", mermaidLabel(g.name))
	line(1, `state "`, mermaidName(g.name), `" as `, mermaidJourney, "{")
	for _, s := range g.stages {
		id := node(s.name)
		line(2, `state "`, mermaidName(s.name), `" as `, id)
		for _, l := range s.lines {
			line(2, id, " : ", mermaidLabel(l))
		}
	}
	for _, e := range g.edges {
		edge(2, node(e.from), node(e.to), e.label)
	}
	line(1, "}")
	ends := map[string]bool{}
	for _, e := range g.outcomes {
		edge(1, mermaidJourney, e.to, e.label)
		ends[e.to] = true
	}
	for _, to := range []string{converted, exited} {
		if ends[to] {
			line(1, to, " --> [*]")
		}
	}
	line(0, "```")
}

// mermaidNodes returns the function that names a diagram's nodes: "[*]"
// for the start and the end, a unique identifier for each stage.
func mermaidNodes() func(name string) string {
	ids := newIDs(mermaidReserved, mermaidJourney, converted, exited)
	return func(name string) string {
		switch name {
		case start, end:
			return "[*]"
		}
		return ids.id(name)
	}
}

// mermaidReserved reports whether id would be read as a keyword of a state
// diagram rather than as a state. Mermaid's lexer matches "default" anywhere
// an identifier starts; the others only when a space follows, as it does in
// "id --> other".
func mermaidReserved(id string) bool {
	l := strings.ToLower(id)
	if strings.HasPrefix(l, "default") || strings.HasPrefix(l, "acc") {
		return true
	}
	switch l {
	case "state", "note", "class", "classdef", "scale", "hide", "direction", "style",
		"end", "as", "click", "statediagram":
		return true
	}
	return false
}

// Mermaid reads a label (the text after " : " in a transition or a state
// description) up to the first ':' or ';' and renders it as HTML and
// Markdown, while it decodes its own entity codes (#quot;) only in state
// names and descriptions, not in transition labels. So labels are written
// as they are, except that ':' and ';' become look-alikes (U+2236 RATIO,
// U+037E GREEK QUESTION MARK), a zero-width space follows '<' or '&' where
// HTML would read a tag or an entity, and one separates "direction" from a
// following "TB", "LR"..., which Mermaid would take for a direction
// statement anywhere on a line.
var (
	labelEscaper     = strings.NewReplacer(":", "\u2236", ";", "\u037e", "\r", " ", "\n", " ")
	labelMarkup      = regexp.MustCompile(`([<&])([A-Za-z/!?#])`)
	labelDirection   = regexp.MustCompile(`(?i)(direction)(\s+(?:tb|bt|rl|lr))`)
	zeroWidthSpace   = "\u200b"
	stateNameEscaper = strings.NewReplacer(
		"#", "#35;", `"`, "#quot;", ":", "#58;", ";", "#59;", "%", "#37;",
		"<", "#lt;", ">", "#gt;", "&", "#amp;", "\r", " ", "\n", " ")
)

// mermaidLabel writes s as a transition label or a state description.
func mermaidLabel(s string) string {
	s = labelEscaper.Replace(s)
	s = labelMarkup.ReplaceAllString(s, "${1}"+zeroWidthSpace+"${2}")
	return labelDirection.ReplaceAllString(s, "${1}"+zeroWidthSpace+"${2}")
}

// mermaidName writes s inside the quotes of `state "..." as id`, where
// Mermaid decodes its entity codes: every character it would otherwise
// read is written as one.
func mermaidName(s string) string { return stateNameEscaper.Replace(s) }
