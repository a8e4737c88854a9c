package diagram

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
)

// graph is one journey as the renderers draw it.
type graph struct {
	name     string
	stages   []state
	edges    []edge // entries first, then each stage's transitions
	outcomes []edge // goals (to converted) and exits (to exited), from the journey as a whole
}

// state is a stage: its name and one line per action.
type state struct {
	name  string
	lines []string
}

// Endpoints of edges that are not stages.
const (
	start     = "\x00start"
	end       = "\x00end" // completed
	converted = "converted"
	exited    = "exited"
)

// edge goes from a stage (or start) to a stage (or end, converted, exited).
// Stage endpoints are stage names.
type edge struct {
	from, to string
	label    string
}

func build(j *ir.Journey) *graph {
	g := &graph{name: j.Name}
	first := end
	if j.Start != "" {
		first = j.Start
	}
	for _, e := range j.Entries {
		g.edges = append(g.edges, edge{start, first, trigger(e.Event, e.When)})
	}
	for _, s := range j.Stages {
		st := state{name: s.Name}
		for _, a := range s.Actions {
			st.lines = append(st.lines, action(a))
		}
		g.stages = append(g.stages, st)
		g.edges = append(g.edges, transitions(s.Name, s.Transition)...)
	}
	for _, t := range j.Goals {
		g.outcomes = append(g.outcomes, edge{start, converted, trigger(t.Event, t.When)})
	}
	for _, t := range j.Exits {
		g.outcomes = append(g.outcomes, edge{start, exited, trigger(t.Event, t.When)})
	}
	return g
}

// transitions returns the edges that leave stage from by t.
func transitions(from string, t ir.Transition) []edge {
	var out []edge
	add := func(to, label string) {
		if to == ir.End {
			to = end
		}
		out = append(out, edge{from, to, label})
	}
	switch t.Kind {
	case ir.TransitionGoto:
		add(t.Goto, "")
	case ir.TransitionBranch:
		for _, b := range t.Branches {
			label := "else"
			if b.When != nil {
				label = source(b.When.Src)
			}
			add(b.Goto, label)
		}
	case ir.TransitionSplit:
		total := 0
		for _, v := range t.Variants {
			total += v.Weight
		}
		for _, v := range t.Variants {
			add(v.Goto, percent(v.Weight, total)+" "+v.Name)
		}
	case ir.TransitionWait:
		for _, o := range t.Ons {
			add(o.Goto, "on "+trigger(o.Event, o.When))
		}
		for _, a := range t.Afters {
			add(a.Goto, "after "+a.Spec)
		}
		for _, a := range t.Ats {
			add(a.Goto, "at "+source(a.Time.Src))
		}
	default: // ir.TransitionNone: the journey completes
		add(ir.End, "")
	}
	return out
}

// trigger labels an event with its condition: `order_completed when event.amount > 100`.
func trigger(event string, when *ir.Expr) string {
	if when == nil {
		return event
	}
	return event + " when " + source(when.Src)
}

func action(a ir.Action) string {
	switch a.Kind {
	case ir.ActionSend:
		return "send " + a.Name + " via " + a.Channel
	case ir.ActionUpdate:
		names := make([]string, len(a.Traits))
		for i, t := range a.Traits {
			names[i] = t.Name
		}
		return "update " + strings.Join(names, ", ")
	case ir.ActionEmit:
		return "emit " + a.Event
	}
	return a.Kind
}

// percent writes weight as a share of total: "45%", "33.3%".
func percent(weight, total int) string {
	if total <= 0 {
		return "0%"
	}
	p := math.Round(float64(weight)*1000/float64(total)) / 10
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

var lineBreak = regexp.MustCompile(`[ \t]*\r?\n\s*`)

// source fits an expression's source text on one line: each line break and
// the indentation around it become one space.
func source(src string) string {
	return lineBreak.ReplaceAllString(strings.TrimSpace(src), " ")
}

// ids gives names identifiers made of [A-Za-z0-9_] only, unique among
// themselves and never one of the reserved words.
type ids struct {
	byName   map[string]string
	used     map[string]bool
	reserved func(id string) bool
}

func newIDs(reserved func(id string) bool, taken ...string) *ids {
	r := &ids{byName: map[string]string{}, used: map[string]bool{}, reserved: reserved}
	for _, t := range taken {
		r.used[strings.ToLower(t)] = true
	}
	return r
}

// id returns name's identifier, making one on first use.
func (r *ids) id(name string) string {
	if id, ok := r.byName[name]; ok {
		return id
	}
	base := sanitize(name)
	if r.reserved != nil && r.reserved(base) {
		base = "s_" + base
	}
	id := base
	for n := 2; r.used[strings.ToLower(id)]; n++ {
		id = fmt.Sprintf("%s_%d", base, n)
	}
	r.used[strings.ToLower(id)] = true
	r.byName[name] = id
	return id
}

func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "stage"
	}
	return b.String()
}
