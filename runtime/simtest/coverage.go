package simtest

import (
	"fmt"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// Edge is a transition a journey can make, named as the engine records it:
// from a stage ("" for an entry), to a stage or "end", by a cause such as
// "goto", "branch:2", "split:sms", "on:paid", "after:2d", "at", "complete",
// "entry:signed_up", "goal:paid" or "exit:unsubscribed".
type Edge struct {
	From, To, Cause string
}

func (e Edge) String() string {
	from := e.From
	if from == "" {
		from = "(entry)"
	}
	if from == "*" {
		from = "(any stage)"
	}
	return fmt.Sprintf("%s → %s by %s", from, e.To, e.Cause)
}

// JourneyCoverage tells which stages and transitions of one journey the
// tests reached.
type JourneyCoverage struct {
	Journey            string
	Stages             []string // every stage, in source order
	ReachedStages      map[string]bool
	Edges              []Edge
	ReachedEdges       map[Edge]bool
	MissedStages       []string
	MissedEdges        []Edge
	StagesPct, EdgePct float64
}

// Edges lists every transition of j. Goals and exits can fire from any
// stage; they count as one edge each, from "*".
func Edges(j *ir.Journey) []Edge {
	var out []Edge
	seen := map[Edge]bool{}
	add := func(e Edge) {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	for _, t := range j.Entries {
		add(Edge{"", j.Start, "entry:" + t.Event})
	}
	for _, s := range j.Stages {
		t := s.Transition
		switch t.Kind {
		case ir.TransitionNone:
			add(Edge{s.Name, ir.End, "complete"})
		case ir.TransitionGoto:
			add(Edge{s.Name, t.Goto, "goto"})
		case ir.TransitionBranch:
			for k, b := range t.Branches {
				add(Edge{s.Name, b.Goto, fmt.Sprintf("branch:%d", k+1)})
			}
		case ir.TransitionSplit:
			for _, v := range t.Variants {
				add(Edge{s.Name, v.Goto, "split:" + v.Name})
			}
		case ir.TransitionWait:
			for _, o := range t.Ons {
				add(Edge{s.Name, o.Goto, "on:" + o.Event})
			}
			for _, a := range t.Afters {
				add(Edge{s.Name, a.Goto, "after:" + a.Spec})
			}
			for _, a := range t.Ats {
				add(Edge{s.Name, a.Goto, "at"})
			}
		}
	}
	for _, g := range j.Goals {
		add(Edge{"*", ir.End, "goal:" + g.Event})
	}
	for _, x := range j.Exits {
		add(Edge{"*", ir.End, "exit:" + x.Event})
	}
	return out
}

// Coverage computes, per journey, what the results reached.
func Coverage(p *ir.Program, results []*Result) []JourneyCoverage {
	var out []JourneyCoverage
	for i := range p.Journeys {
		j := &p.Journeys[i]
		jc := JourneyCoverage{Journey: j.Name, ReachedStages: map[string]bool{}, ReachedEdges: map[Edge]bool{}, Edges: Edges(j)}
		for _, s := range j.Stages {
			jc.Stages = append(jc.Stages, s.Name)
		}
		for _, r := range results {
			for _, tr := range r.Reached {
				if tr.Journey != j.Name {
					continue
				}
				if tr.To != ir.End {
					jc.ReachedStages[tr.To] = true
				}
				jc.ReachedEdges[edgeOf(tr)] = true
			}
		}
		for _, s := range jc.Stages {
			if !jc.ReachedStages[s] {
				jc.MissedStages = append(jc.MissedStages, s)
			}
		}
		for _, e := range jc.Edges {
			if !jc.ReachedEdges[e] {
				jc.MissedEdges = append(jc.MissedEdges, e)
			}
		}
		jc.StagesPct = pct(len(jc.Stages)-len(jc.MissedStages), len(jc.Stages))
		jc.EdgePct = pct(len(jc.Edges)-len(jc.MissedEdges), len(jc.Edges))
		out = append(out, jc)
	}
	return out
}

// edgeOf names a recorded transition as a static edge; goals and exits
// come from any stage.
func edgeOf(tr engine.Transition) Edge {
	if len(tr.Cause) > 5 && (tr.Cause[:5] == "goal:" || tr.Cause[:5] == "exit:") {
		return Edge{"*", ir.End, tr.Cause}
	}
	return Edge{tr.From, tr.To, tr.Cause}
}

func pct(n, of int) float64 {
	if of == 0 {
		return 100
	}
	return 100 * float64(n) / float64(of)
}
