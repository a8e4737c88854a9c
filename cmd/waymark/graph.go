package main

import (
	"flag"
	"strings"

	"github.com/waymark-dev/waymark/compiler/diagram"
	"github.com/waymark-dev/waymark/compiler/ir"
)

var graphCommand = &command{
	name:     "graph",
	summary:  "draw journeys as state diagrams for a pull request (Mermaid or dot)",
	synopsis: "[--journey NAME] [--format mermaid|dot] PATH",
	help: `
Graph compiles the workspace at PATH and draws its journeys as state
diagrams: entries with their events and conditions, stages with their sends,
waits ("after 2d", "on ticket_opened", "at ..."), branch conditions, split
weights, and goals and exits as the end states "converted" and "exited".

--format mermaid (the default) writes one fenced Mermaid block per journey:
paste the output into a pull request or a Markdown file and GitHub draws it.
--format dot writes one Graphviz digraph with a cluster per journey.

When the workspace has errors, graph prints them as validate does, on
standard error, and exits 1.`,
	examples: `
# Draw every journey of a workspace for a pull request description.
waymark graph examples/phone_activation
# Draw one journey as an SVG with Graphviz.
waymark graph examples/phone_activation --journey phone_activation --format dot | dot -Tsvg > journey.svg`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		journey := fs.String("journey", "", "draw only the journey `NAME`")
		formats := make([]string, len(diagram.Formats))
		for i, f := range diagram.Formats {
			formats[i] = string(f)
		}
		format := newChoice(fs, "format", formats, "the diagram language")
		return func(e *env, args []string) int {
			return runGraph(e, args, *journey, diagram.Format(format.value))
		}
	},
}

func runGraph(e *env, args []string, journey string, format diagram.Format) int {
	w, code := e.compileArg(args)
	if w == nil {
		return code
	}
	if w.diags.HasErrors() {
		w.printText(e.stderr, w.diags)
		return exitProblem
	}
	p := w.result.Program
	if p == nil {
		return e.failf(exitProblem, "internal error: the compiler reported no error and produced no program")
	}
	journeys := p.Journeys
	if journey != "" {
		j := p.Journey(journey)
		if j == nil {
			names := make([]string, len(p.Journeys))
			for i, j := range p.Journeys {
				names[i] = j.Name
			}
			return e.failf(exitUsage, "no journey %q in %s; it has: %s", journey, w.dir, strings.Join(names, ", "))
		}
		journeys = []ir.Journey{*j}
	}
	if len(journeys) == 0 {
		return e.failf(exitProblem, "%s has no journeys to draw", w.dir)
	}
	if err := diagram.Write(e.stdout, format, journeys); err != nil {
		return e.failf(exitProblem, "%v", err)
	}
	return exitOK
}
