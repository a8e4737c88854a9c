package diff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// WriteJSON writes a document (a *Diff or a *Plan) as indented JSON, the
// same bytes for the same document.
func WriteJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteText writes the diff for a terminal: one line per change, indented
// under its journey and stage, each with its place in the new program.
func WriteText(w io.Writer, d *Diff) error {
	bw := bufio.NewWriter(w)
	writeDiffText(bw, d, "")
	return bw.Flush()
}

func writeDiffText(w *bufio.Writer, d *Diff, indent string) {
	if d.Empty() {
		fmt.Fprintf(w, "%sNo changes.\n", indent)
		return
	}
	for _, j := range d.Journeys {
		fmt.Fprintf(w, "%sjourney %s: %s%s\n", indent, j.Name, journeyChange(j), at(j.Range))
		for _, c := range j.Changes {
			fmt.Fprintf(w, "%s  %s\n", indent, changeLine(c))
		}
		for _, s := range j.Stages {
			fmt.Fprintf(w, "%s  stage %s: %s%s\n", indent, s.Name, stageChange(s), at(s.Range))
			for _, c := range s.Changes {
				fmt.Fprintf(w, "%s    %s\n", indent, changeLine(c))
			}
		}
	}
	for _, sec := range []struct {
		name    string
		changes []Change
	}{{"channels", d.Channels}, {"policies", d.Policies}, {"schemas", d.Schemas}, {"templates", d.Templates}} {
		if len(sec.changes) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s%s:\n", indent, sec.name)
		for _, c := range sec.changes {
			fmt.Fprintf(w, "%s  %s\n", indent, changeLine(c))
		}
	}
}

func journeyChange(j JourneyDiff) string {
	if j.Change == Moved {
		return "moved from " + j.From
	}
	return j.Change
}

func stageChange(s StageDiff) string {
	switch {
	case s.Change == Moved:
		return "moved from " + s.From
	case s.Change == Removed && s.Goto == ir.End:
		return "removed, its customers complete"
	case s.Change == Removed && s.Goto != "":
		return "removed, its customers go to " + s.Goto
	case s.Change == Removed:
		return "removed, its customers exit"
	}
	return s.Change
}

// changeLine is `what: kind old -> new  (file:line:col)`.
func changeLine(c Change) string {
	var b strings.Builder
	b.WriteString(c.What + ": " + c.Kind)
	switch c.Kind {
	case Added:
		if c.New != "" {
			b.WriteString(" " + quote(c.New))
		}
	case Removed:
		if c.Old != "" {
			b.WriteString(" " + quote(c.Old))
		}
	case Changed:
		b.WriteString(" " + quote(c.Old) + " -> " + quote(c.New))
	}
	b.WriteString(at(c.Range))
	return b.String()
}

// quote shows a description as it reads, quoted when it is empty or has
// surrounding space.
func quote(s string) string {
	if s == "" || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}

// at is "  (file:line:col)", or nothing for no range.
func at(r *ir.Range) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("  (%s)", Pos(r))
}

// Pos writes a range's start as file:line:col.
func Pos(r *ir.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.File, r.Start.Line, r.Start.Col)
}

// WritePlanText writes the plan for a terminal: the headline, what happens
// to the customers in flight per journey and stage, held sends and timers
// that move earlier, then the diff.
func WritePlanText(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s.\n", p.Headline())
	fmt.Fprintf(bw, "Running %s, candidate %s.\n", p.BaseVersion, p.Version)
	for _, j := range p.Journeys {
		fmt.Fprintf(bw, "\njourney %s (%s): %s in flight\n", j.Name, j.Change, customers(j.InFlight))
		for _, im := range j.Impact {
			fmt.Fprintf(bw, "  %-20s %8d  %s\n", im.Stage, im.Customers, im.Describe())
		}
		for _, h := range j.Held {
			fmt.Fprintf(bw, "  held: %d sends of %s in %s: %s\n", h.Sends, h.Send, h.Stage, heldNote(h))
		}
		for _, t := range j.Earlier {
			fmt.Fprintf(bw, "  timers: %s in %s fire earlier, %d of them at once\n", customers(t.Customers), t.Stage, t.AtOnce)
		}
	}
	if p.Changes != nil {
		fmt.Fprintf(bw, "\nChanges:\n")
		writeDiffText(bw, p.Changes, "  ")
	}
	return bw.Flush()
}

func heldNote(h HeldImpact) string {
	if h.Reason == HeldPolicyChanged {
		return "the policy changed: decided anew when due"
	}
	return "the send changed: they go out as they were evaluated"
}

// Reasons of a HeldImpact.
const (
	HeldSendChanged   = "send changed"
	HeldPolicyChanged = "policy changed"
)
