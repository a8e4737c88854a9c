package diff

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/waymark-dev/waymark/compiler/diagram"
	"github.com/waymark-dev/waymark/compiler/ir"
)

// CommentMarker opens the Markdown plan, and DiffMarker the Markdown diff,
// so that a CI job can find its earlier comment on a pull request and
// update it in place instead of adding another.
const (
	CommentMarker = "<!-- waymark-plan -->"
	DiffMarker    = "<!-- waymark-diff -->"
)

// WritePlanMarkdown writes the plan as a pull-request comment: the
// headline, a table per journey (stage | customers | what happens), the
// journey's graph in the candidate with its added, changed, moved and
// removed stages styled, and the full diff folded in <details>. cand is
// the candidate program, for the graphs (nil: no graphs).
func WritePlanMarkdown(w io.Writer, p *Plan, cand *ir.Program) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n### Waymark plan: %s\n\n", CommentMarker, cell(p.Headline()))
	fmt.Fprintf(bw, "Running `%s`, candidate `%s`.\n", p.BaseVersion, p.Version)
	s := p.Summary
	if s.InFlight > 0 {
		fmt.Fprintf(bw, "\n| in flight | stay | moved | redirected | left | exited | pinned |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		fmt.Fprintf(bw, "| %d | %d | %d | %d | %d | %d | %d |\n", s.InFlight, s.Stay, s.Moved, s.Redirected, s.Left, s.Exited, s.Pinned)
	}
	shown := map[string]bool{}
	for _, j := range p.Journeys {
		shown[j.Name] = true
		fmt.Fprintf(bw, "\n#### Journey `%s`: %s, %s in flight\n", j.Name, j.Change, customers(j.InFlight))
		if len(j.Impact) > 0 {
			fmt.Fprintf(bw, "\n| stage | customers | what happens |\n|---|---:|---|\n")
			for _, im := range j.Impact {
				fmt.Fprintf(bw, "| `%s` | %d | %s |\n", cell(im.Stage), im.Customers, cell(im.Describe()))
			}
		}
		if len(j.Held) > 0 || len(j.Earlier) > 0 {
			bw.WriteString("\n")
		}
		for _, h := range j.Held {
			fmt.Fprintf(bw, "- %d held sends of `%s` in `%s`: %s\n", h.Sends, cell(h.Send), cell(h.Stage), heldNote(h))
		}
		for _, t := range j.Earlier {
			fmt.Fprintf(bw, "- timers of %s in `%s` fall due earlier; %d fire at once\n", customers(t.Customers), cell(t.Stage), t.AtOnce)
		}
		writeGraph(bw, p.Changes, cand, j.Name)
	}
	if p.Changes != nil {
		// Journeys that changed without anyone in flight still get their
		// graph: the reviewer sees every changed journey.
		for _, jd := range p.Changes.Journeys {
			if shown[jd.Name] || jd.Change == Removed {
				continue
			}
			fmt.Fprintf(bw, "\n#### Journey `%s`: %s, nobody in flight\n", jd.Name, jd.Change)
			writeGraph(bw, p.Changes, cand, jd.Name)
		}
		writeDetails(bw, p.Changes)
	}
	return bw.Flush()
}

// WriteMarkdown writes the diff for a pull request: a table of changes per
// journey, its graph with the changed stages styled, and the details.
func WriteMarkdown(w io.Writer, d *Diff, cand *ir.Program) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\n### Waymark diff: %s\n", DiffMarker, d.headline())
	for _, j := range d.Journeys {
		fmt.Fprintf(bw, "\n#### Journey `%s`: %s\n", j.Name, journeyChange(j))
		if len(j.Stages) > 0 {
			fmt.Fprintf(bw, "\n| stage | change |\n|---|---|\n")
			for _, s := range j.Stages {
				fmt.Fprintf(bw, "| `%s` | %s |\n", cell(s.Name), cell(stageChange(s)))
			}
		}
		writeGraph(bw, d, cand, j.Name)
	}
	writeDetails(bw, d)
	return bw.Flush()
}

func (d *Diff) headline() string {
	if d.Empty() {
		return "no changes"
	}
	counts := map[string]int{}
	for _, j := range d.Journeys {
		counts[j.Change]++
	}
	var parts []string
	for _, k := range []string{Added, Changed, Moved, Removed} {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	other := len(d.Channels) + len(d.Policies) + len(d.Schemas) + len(d.Templates)
	head := "journeys: none changed"
	if len(parts) > 0 {
		head = "journeys: " + strings.Join(parts, ", ")
	}
	if other > 0 {
		head += fmt.Sprintf("; %d other changes (channels, policies, schemas, templates)", other)
	}
	return head
}

// writeGraph draws the candidate's journey name with its stages marked by
// the diff.
func writeGraph(w *bufio.Writer, d *Diff, cand *ir.Program, name string) {
	if cand == nil {
		return
	}
	j := cand.Journey(name)
	if j == nil || len(j.Stages) == 0 {
		return
	}
	w.WriteString("\n")
	diagram.MermaidMarked(w, j, marksOf(d, j))
}

// marksOf reads the diagram marks of a journey off the diff.
func marksOf(d *Diff, j *ir.Journey) diagram.Marks {
	m := diagram.Marks{Moved: map[string]string{}, Removed: map[string]string{}}
	var jd *JourneyDiff
	if d != nil {
		jd = d.Journey(j.Name)
	}
	if jd == nil {
		return m
	}
	if jd.Change == Added {
		for _, s := range j.Stages {
			m.Added = append(m.Added, s.Name)
		}
		return m
	}
	for _, s := range jd.Stages {
		switch s.Change {
		case Added:
			m.Added = append(m.Added, s.Name)
		case Changed:
			m.Changed = append(m.Changed, s.Name)
		case Moved:
			m.Moved[s.Name] = s.From
		case Removed:
			m.Removed[s.Name] = s.Goto
		}
	}
	return m
}

func writeDetails(w *bufio.Writer, d *Diff) {
	fmt.Fprintf(w, "\n<details><summary>Full diff</summary>\n\n```text\n")
	var buf strings.Builder
	bw := bufio.NewWriter(&buf)
	writeDiffText(bw, d, "")
	bw.Flush()
	// A fence inside the diff (a template's source) must not close ours.
	w.WriteString(strings.ReplaceAll(buf.String(), "```", "`\u200b``"))
	fmt.Fprintf(w, "```\n\n</details>\n")
}

// cell makes text safe inside a Markdown table cell or heading.
func cell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
	return s
}
