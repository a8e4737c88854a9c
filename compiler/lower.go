package compiler

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/lang/timespec"
)

// lower builds the IR from a workspace that has no errors. Everything it
// reads was checked and resolved by the earlier passes.
func (c *checker) lower() *ir.Program {
	p := &ir.Program{Format: ir.Format, Events: []ir.Event{}, Channels: []ir.Channel{}, Policies: []ir.Policy{}, Journeys: []ir.Journey{}}
	if c.customerDeclared {
		p.Customer = &ir.Customer{Traits: []ir.Field{}}
		for _, f := range c.traitOrder {
			p.Customer.Traits = append(p.Customer.Traits, c.lowerField(f))
		}
	}
	for _, e := range c.ws.Events {
		ev := ir.Event{Name: e.Name.Value, Description: c.text(e.Description), Properties: []ir.Field{}, Range: c.rng(e.Range)}
		for _, f := range c.events[e.Name.Value].order {
			ev.Properties = append(ev.Properties, c.lowerField(f))
		}
		p.Events = append(p.Events, ev)
	}
	for _, ch := range c.ws.Channels {
		out := ir.Channel{Name: ch.Name.Value, Type: c.channelTypes[ch.Name.Value], Settings: []ir.Setting{}, Range: c.rng(ch.Range)}
		for _, s := range ch.Settings {
			out.Settings = append(out.Settings, ir.Setting{Name: s.Name, Expr: c.expr(s)})
		}
		p.Channels = append(p.Channels, out)
	}
	for _, pd := range c.ws.Policies {
		pol := c.policies[pd.Name.Value]
		out := ir.Policy{Name: pd.Name.Value, SuppressedBy: pol.suppressed, Topic: pol.topic, Range: c.rng(pd.Range)}
		if pol.quietHours != nil {
			out.QuietHours = pol.quietHours.String()
		}
		if pol.sendWindow != nil {
			out.SendWindow = pol.sendWindow.String()
		}
		if pol.cap != nil {
			out.FrequencyCap = &ir.Cap{N: pol.cap.N, PerSeconds: int64(pol.cap.Per.Seconds())}
		}
		p.Policies = append(p.Policies, out)
	}
	for _, td := range c.ws.Topics {
		p.Topics = append(p.Topics, ir.Topic{Name: td.Name.Value, Description: c.text(td.Description), Default: c.topics[td.Name.Value].def, Range: c.rng(td.Range)})
	}
	for _, j := range c.ws.Journeys {
		p.Journeys = append(p.Journeys, c.lowerJourney(c.journeys[j.Name.Value]))
	}
	p.Moved = c.journeyMoves
	p.Metrics = c.metrics
	if len(c.templates) > 0 {
		p.Templates = c.templates
	}
	return p
}

func (c *checker) lowerField(f *field) ir.Field {
	return ir.Field{
		Name:        f.decl.Name.Value,
		Type:        c.typeString(f.decl.Type),
		Description: c.text(f.decl.Description),
		Range:       c.rng(f.decl.Range),
	}
}

// typeString writes a type expression as written, with runs of white space
// folded so that the IR does not change with indentation.
func (c *checker) typeString(a *lang.Attr) string {
	if a == nil {
		return "any"
	}
	src := string(a.Expr.Range().SliceBytes(c.src(a.Expr.Range())))
	return strings.Join(strings.Fields(src), " ")
}

func (c *checker) lowerJourney(jr *journey) ir.Journey {
	j := jr.decl
	out := ir.Journey{
		Name:        j.Name.Value,
		Description: c.text(j.Description),
		Persona:     c.text(j.Persona),
		Policy:      jr.policy,
		Reentry:     lowerReentry(jr.reentry),
		Entries:     c.triggers(j.Entries),
		Goals:       c.triggers(j.Goals),
		Exits:       c.triggers(j.Exits),
		Stages:      []ir.Stage{},
		InFlight:    jr.inFlight,
		Moved:       jr.moved,
		Removed:     jr.removed,
		Range:       c.rng(j.Range),
	}
	if len(j.Stages) > 0 {
		out.Start = j.Stages[0].Name.Value
	}
	for _, s := range j.Stages {
		st := c.lowerStage(s)
		st.Map = jr.maps[s.Name.Value]
		out.Stages = append(out.Stages, st)
	}
	out.Version = ir.Hash(&out)
	return out
}

func lowerReentry(r timespec.Reentry) ir.Reentry {
	switch r.Kind {
	case timespec.ReentryAlways:
		return ir.Reentry{Kind: ir.ReentryAlways}
	case timespec.ReentryAfter:
		return ir.Reentry{Kind: ir.ReentryAfter, AfterSeconds: int64(r.After.Seconds())}
	}
	return ir.Reentry{Kind: ir.ReentryNever}
}

func (c *checker) triggers(ts []*lang.Trigger) []ir.Trigger {
	out := []ir.Trigger{}
	for _, t := range ts {
		out = append(out, ir.Trigger{Event: t.Event.Value, When: c.optExpr(t.When), Range: c.rng(t.Range)})
	}
	return out
}

func (c *checker) lowerStage(s *lang.Stage) ir.Stage {
	out := ir.Stage{Name: s.Name.Value, Description: c.text(s.Description), Actions: []ir.Action{}, Range: c.rng(s.Range)}
	for _, a := range s.Actions {
		switch a := a.(type) {
		case *lang.Send:
			ref, _ := lang.AsReference(a.Channel.Expr)
			act := ir.Action{Kind: ir.ActionSend, Name: a.Name.Value, Channel: ref.Name, Fields: []ir.Setting{}, Range: c.rng(a.Range)}
			if a.Topic != nil {
				tref, _ := lang.AsReference(a.Topic.Expr)
				act.Topic = tref.Name
			}
			for _, f := range a.Fields {
				act.Fields = append(act.Fields, ir.Setting{Name: f.Name, Expr: c.expr(f)})
			}
			out.Actions = append(out.Actions, act)
		case *lang.Update:
			act := ir.Action{Kind: ir.ActionUpdate, Traits: []ir.Setting{}, Range: c.rng(a.Range)}
			for _, t := range a.Traits {
				act.Traits = append(act.Traits, ir.Setting{Name: t.Name, Expr: c.expr(t)})
			}
			out.Actions = append(out.Actions, act)
		case *lang.Emit:
			out.Actions = append(out.Actions, ir.Action{Kind: ir.ActionEmit, Event: a.Event.Value, Properties: c.optExpr(a.Properties), Range: c.rng(a.Range)})
		}
	}
	out.Transition = c.lowerTransition(s)
	return out
}

func (c *checker) lowerTransition(s *lang.Stage) ir.Transition {
	switch {
	case s.Goto != nil:
		return ir.Transition{Kind: ir.TransitionGoto, Goto: c.targets[s.Goto], Range: c.rng(s.Goto.Range)}
	case len(s.Branches) > 0:
		t := ir.Transition{Kind: ir.TransitionBranch, Range: c.rng(s.Branches[0].Range)}
		for _, b := range s.Branches {
			t.Branches = append(t.Branches, ir.Branch{When: c.optExpr(b.When), Goto: c.targets[b.Goto], Range: c.rng(b.Range)})
		}
		return t
	case len(s.Splits) > 0:
		sp := s.Splits[0]
		t := ir.Transition{Kind: ir.TransitionSplit, Range: c.rng(sp.Range)}
		for _, v := range sp.Variants {
			t.Variants = append(t.Variants, ir.Variant{Name: v.Name.Value, Weight: c.weights[v], Goto: c.targets[v.Goto], Range: c.rng(v.Range)})
		}
		return t
	case s.Waits():
		var first hcl.Range
		t := ir.Transition{Kind: ir.TransitionWait}
		for _, on := range s.Ons {
			t.Ons = append(t.Ons, ir.On{Event: on.Event.Value, When: c.optExpr(on.When), Goto: c.targets[on.Goto], Range: c.rng(on.Range)})
			first = earliest(first, on.Range)
		}
		for _, af := range s.Afters {
			d := c.durations[af]
			t.Afters = append(t.Afters, ir.After{Seconds: int64(d.Seconds()), Spec: timespec.FormatDuration(d), Goto: c.targets[af.Goto], Range: c.rng(af.Range)})
			first = earliest(first, af.Range)
		}
		for _, at := range s.Ats {
			t.Ats = append(t.Ats, ir.At{Time: c.expr(at.Time), Goto: c.targets[at.Goto], Range: c.rng(at.Range)})
			first = earliest(first, at.Range)
		}
		t.Range = c.rng(first)
		return t
	}
	return ir.Transition{Kind: ir.TransitionNone, Range: c.rng(hcl.Range{Filename: s.Range.Filename, Start: s.Range.End, End: s.Range.End})}
}

func earliest(a, b hcl.Range) hcl.Range {
	if a.Filename == "" || b.Start.Byte < a.Start.Byte {
		return b
	}
	return a
}

// expr keeps an attribute's expression as its exact source text.
func (c *checker) expr(a *lang.Attr) ir.Expr {
	r := a.Expr.Range()
	return ir.Expr{Src: string(r.SliceBytes(c.src(r))), Range: c.rng(r)}
}

func (c *checker) optExpr(a *lang.Attr) *ir.Expr {
	if a == nil {
		return nil
	}
	e := c.expr(a)
	return &e
}

// text reads a description, which the schema requires to be a literal.
func (c *checker) text(a *lang.Attr) string {
	if a == nil {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return string(a.Expr.Range().SliceBytes(c.src(a.Expr.Range())))
	}
	return v.AsString()
}

func (c *checker) rng(r hcl.Range) ir.Range {
	return ir.Range{
		File:  r.Filename,
		Start: ir.Pos{Line: r.Start.Line, Col: r.Start.Column, Byte: r.Start.Byte},
		End:   ir.Pos{Line: r.End.Line, Col: r.End.Column, Byte: r.End.Byte},
	}
}
