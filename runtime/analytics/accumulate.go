package analytics

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics/stats"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// MaxSteps is the longest path an instance's Sankey keeps (the most steps
// GET /paths answers).
const MaxSteps = tally.MaxSteps

// Accumulator folds one journey's records, in commit order, into the state
// its reports need: a little per instance, a little per stage.
type Accumulator struct {
	j            *ir.Journey
	since, until time.Time

	stageIdx map[string]int
	stages   []*stageAcc
	insts    map[string]*inst
	order    []*inst // in order of entry: reports are deterministic
	ignored  map[string]bool
	edges    map[[2]string]int
	sends    map[string]*Send
	sendOrd  []string
	metrics  []ir.Metric
	values   map[string]map[string][]float64 // metric -> stage -> response values
}

type stageAcc struct {
	name      string
	entered   int
	durations []float64
	leftTo    map[string]int
	exits     map[string]int
}

type inst struct {
	enteredAt time.Time
	stage     int // index into stages; -1 when ended
	stageAt   time.Time
	path      []int // stages entered in order, at most MaxSteps+1
	visited   []int // stages entered, each once, however long the path
	status    string
	end       string // the edge label of the end: end, goal:E, exit:C
	endAt     time.Time
	splits    map[int]string // split stage -> variant, the first assignment
}

// NewAccumulator starts the analytics of journey j (the program version
// that names its stages, goals and splits) over instances entered in
// [since, until).
func NewAccumulator(j *ir.Journey, since, until time.Time) *Accumulator {
	a := &Accumulator{j: j, since: since, until: until, stageIdx: map[string]int{},
		insts: map[string]*inst{}, ignored: map[string]bool{}, edges: map[[2]string]int{}, sends: map[string]*Send{}}
	for _, s := range j.Stages {
		a.stage(s.Name)
	}
	for _, s := range j.Stages {
		for _, act := range s.Actions {
			if act.Kind == ir.ActionSend {
				a.send(act.Name)
			}
		}
	}
	return a
}

// Measure declares the metrics the report scores, in the program's order
// (Program.Metrics): responses to any other metric are not reported.
func (a *Accumulator) Measure(ms []ir.Metric) {
	a.metrics = ms
	a.values = map[string]map[string][]float64{}
	for _, m := range ms {
		a.values[m.Name] = map[string][]float64{}
	}
}

func (a *Accumulator) stage(name string) int {
	if k, ok := a.stageIdx[name]; ok {
		return k
	}
	a.stageIdx[name] = len(a.stages)
	a.stages = append(a.stages, &stageAcc{name: name, leftTo: map[string]int{}, exits: map[string]int{}})
	return len(a.stages) - 1
}

func (a *Accumulator) send(name string) *Send {
	s := a.sends[name]
	if s == nil {
		s = &Send{Name: name, Fates: map[string]int{}, Delivery: map[string]int{}}
		a.sends[name] = s
		a.sendOrd = append(a.sendOrd, name)
	}
	return s
}

// EndLabel names where a transition to the end leads: `goal:EVENT` for a
// conversion, `exit:CAUSE` for an exit (an exit event's cause is already
// "exit:EVENT"; the engine's own exits, like step_limit, get the prefix),
// `end` for completing. The tallies name ends the same way.
func EndLabel(status, cause string) string { return tally.EndLabel(status, cause) }

// Add folds one record in. Records must come in commit order.
func (a *Accumulator) Add(r store.JourneyRecord) {
	switch {
	case r.Transition != nil:
		a.transition(r.Transition)
	case r.Send != nil:
		in := a.insts[r.Send.Instance]
		if in == nil {
			return
		}
		s := a.send(r.Send.Name)
		s.Fates[r.Send.Fate]++
		if r.Send.Delivery != "" {
			s.Delivery[r.Send.Delivery]++
		}
	case r.Response != nil:
		// Like a send, a response counts for an instance entered in the
		// range (the records come cut at until).
		byStage := a.values[r.Response.Metric]
		if byStage == nil || a.insts[r.Response.Instance] == nil {
			return
		}
		byStage[r.Response.Stage] = append(byStage[r.Response.Stage], r.Response.Value)
	}
}

func (a *Accumulator) transition(t *engine.Transition) {
	if t.From == "" {
		if t.At.Before(a.since) || !t.At.Before(a.until) {
			a.ignored[t.Instance] = true
			return
		}
		in := &inst{enteredAt: t.At, stage: -1}
		a.insts[t.Instance] = in
		a.order = append(a.order, in)
		a.arrive(in, t)
		return
	}
	in := a.insts[t.Instance]
	if in == nil || in.stage < 0 {
		return // entered outside the range, or a record after its end
	}
	if tally.IsNote(t) {
		return // a merge or a migration noting where the instance is
	}
	from := a.stages[in.stage]
	from.durations = append(from.durations, t.At.Sub(in.stageAt).Seconds())
	label := t.To
	if t.To == ir.End {
		label = EndLabel(t.Status, t.Cause)
	}
	if exit, ok := strings.CutPrefix(label, "exit:"); ok {
		from.exits[exit]++
	} else {
		from.leftTo[label]++
	}
	a.edges[[2]string{from.name, label}]++
	if variant, ok := strings.CutPrefix(t.Cause, "split:"); ok {
		if in.splits == nil {
			in.splits = map[int]string{}
		}
		if _, seen := in.splits[in.stage]; !seen {
			in.splits[in.stage] = variant
		}
	}
	a.arrive(in, t)
}

// arrive moves in to t.To: a stage, or its end.
func (a *Accumulator) arrive(in *inst, t *engine.Transition) {
	if t.To == ir.End {
		in.stage, in.status, in.end, in.endAt = -1, t.Status, EndLabel(t.Status, t.Cause), t.At
		return
	}
	k := a.stage(t.To)
	a.stages[k].entered++
	in.stage, in.stageAt = k, t.At
	if len(in.path) <= MaxSteps {
		in.path = append(in.path, k)
	}
	if !slices.Contains(in.visited, k) {
		in.visited = append(in.visited, k)
	}
}

// Report is the analytics document of what was added.
func (a *Accumulator) Report() *Analytics {
	maps := map[string]*ir.Map{}
	for _, s := range a.j.Stages {
		maps[s.Name] = s.Map
	}
	r := &Analytics{Journey: a.j.Name, Persona: a.j.Persona, Since: a.since, Until: a.until,
		Stages: []Stage{}, Edges: []Edge{}, Goals: []Goal{}, Sends: []Send{}, Splits: []Split{}, Metrics: []Metric{}}
	active := make([]int, len(a.stages))
	visitors := make([]int, len(a.stages))
	leaked := make([]int, len(a.stages))
	goalTimes := map[string][]float64{}
	for _, in := range a.order {
		r.Entered++
		leak := false
		switch in.status {
		case "":
			r.Active++
			active[in.stage]++
		case engine.StatusCompleted:
			r.Completed++
			leak = true
		case engine.StatusConverted:
			r.Converted++
			goalTimes[in.end] = append(goalTimes[in.end], in.endAt.Sub(in.enteredAt).Seconds())
		case engine.StatusExited:
			r.Exited++
			leak = true
		}
		for _, k := range in.visited {
			visitors[k]++
			if leak {
				leaked[k]++
			}
		}
	}
	for k, s := range a.stages {
		st := Stage{Name: s.name, Map: maps[s.name], Entered: s.entered, Active: active[k], LeftTo: s.leftTo, Exits: s.exits, Leaked: leaked[k]}
		if visitors[k] > 0 {
			st.Leakage = float64(leaked[k]) / float64(visitors[k])
		}
		st.MedianSeconds = stats.Quantile(s.durations, 0.5)
		st.P90Seconds = stats.Quantile(s.durations, 0.9)
		r.Stages = append(r.Stages, st)
	}
	for e, n := range a.edges {
		r.Edges = append(r.Edges, Edge{From: e[0], To: e[1], Count: n})
	}
	sort.Slice(r.Edges, func(i, k int) bool {
		ei, ek := r.Edges[i], r.Edges[k]
		if ei.From != ek.From {
			return a.order0(ei.From) < a.order0(ek.From)
		}
		return ei.To < ek.To
	})
	for _, g := range a.j.Goals {
		label := "goal:" + g.Event
		times := goalTimes[label]
		r.Goals = append(r.Goals, Goal{Name: g.Event, Conversions: len(times),
			Rate: stats.Rate(len(times), r.Entered), MedianSeconds: stats.Quantile(times, 0.5)})
	}
	for _, name := range a.sendOrd {
		r.Sends = append(r.Sends, *a.sends[name])
	}
	for _, s := range a.j.Stages {
		if s.Transition.Kind == ir.TransitionSplit {
			r.Splits = append(r.Splits, a.split(s))
		}
	}
	for _, m := range a.metrics {
		r.Metrics = append(r.Metrics, a.metric(m))
	}
	return r
}

// metric scores m over all its responses and over each stage's, the stages
// in the journey's order.
func (a *Accumulator) metric(m ir.Metric) Metric {
	byStage := map[string]stats.Responses{}
	for st, vs := range a.values[m.Name] {
		var r stats.Responses
		for _, v := range vs {
			r.Add(v)
		}
		byStage[st] = r
	}
	return metricReport(m, byStage, a.order0)
}

// metricReport scores m over the responses of each stage and over all of
// them; the stages in order (the journey's: order gives a stage's index),
// those the program no longer has by name.
func metricReport(m ir.Metric, byStage map[string]stats.Responses, order func(string) int) Metric {
	stages := make([]string, 0, len(byStage))
	for st := range byStage {
		stages = append(stages, st)
	}
	sort.Slice(stages, func(i, k int) bool {
		if oi, ok := order(stages[i]), order(stages[k]); oi != ok {
			return oi < ok
		}
		return stages[i] < stages[k]
	})
	out := Metric{Name: m.Name, Kind: m.Kind, ByStage: []StageMetric{}}
	var all stats.Responses
	for _, st := range stages {
		r := byStage[st]
		all = all.Plus(r)
		out.ByStage = append(out.ByStage, StageMetric{Stage: st, Responses: int(r.N), Score: r.Score(m.Kind)})
	}
	out.Responses = int(all.N)
	out.Score = all.Score(m.Kind)
	return out
}

func (a *Accumulator) order0(stage string) int { return a.stageIdx[stage] }

// Baseline is the arm a split's variants are compared against: the one
// going to `end`, else the one named holdout or control, else the first.
func Baseline(vs []ir.Variant) int {
	for k, v := range vs {
		if v.Goto == ir.End {
			return k
		}
	}
	for k, v := range vs {
		if v.Name == "holdout" || v.Name == "control" {
			return k
		}
	}
	return 0
}

func (a *Accumulator) split(s ir.Stage) Split {
	vs := s.Transition.Variants
	k := a.stageIdx[s.Name]
	assigned := make([]int, len(vs))
	converted := make([]int, len(vs))
	idx := map[string]int{}
	for i, v := range vs {
		idx[v.Name] = i
	}
	for _, in := range a.order {
		i, ok := idx[in.splits[k]]
		if !ok {
			continue
		}
		assigned[i]++
		if in.status == engine.StatusConverted {
			converted[i]++
		}
	}
	return splitReport(s, assigned, converted)
}

// splitReport is the experiment of split stage s from the instances each
// variant (in source order) was assigned and converted.
func splitReport(s ir.Stage, assigned, converted []int) Split {
	vs := s.Transition.Variants
	b := Baseline(vs)
	out := Split{Stage: s.Name, Baseline: vs[b].Name, Variants: []Variant{}}
	weights := make([]float64, len(vs))
	for i, v := range vs {
		weights[i] = float64(v.Weight)
	}
	out.SRMChi2, out.SRMPValue = stats.SampleRatio(assigned, weights)
	for i, v := range vs {
		x, n := converted[i], assigned[i]
		vr := Variant{Name: v.Name, Weight: v.Weight, Assigned: n, Converted: x, Rate: stats.Rate(x, n), PValue: 1, Verdict: "baseline"}
		if i != b {
			xb, nb := converted[b], assigned[b]
			vr.Lift, vr.CILow, vr.CIHigh = stats.Lift(x, n, xb, nb)
			vr.PValue = stats.Bonferroni(stats.TwoProportionPValue(x, n, xb, nb), len(vs)-1)
			vr.Verdict = stats.Verdict(x, n, xb, nb, vr.PValue)
		}
		out.Variants = append(out.Variants, vr)
	}
	return out
}

// Paths is the Sankey of the first steps stages of every instance added
// (steps is clamped to 1..MaxSteps).
func (a *Accumulator) Paths(steps int) *Paths {
	steps = max(1, min(steps, MaxSteps))
	links := map[[2]string]int{}
	for _, in := range a.order {
		prev := ""
		for i, k := range in.path {
			if i == steps {
				break
			}
			cur := tally.Node(i, a.stages[k].name)
			if prev != "" {
				links[[2]string{prev, cur}]++
			}
			prev = cur
		}
		if len(in.path) > steps || prev == "" {
			continue // it goes on beyond the steps shown, or never entered a stage
		}
		end := in.end
		if in.status == "" {
			end = tally.Active
		}
		links[[2]string{prev, tally.Node(len(in.path), end)}]++
	}
	return sankey(&Paths{Journey: a.j.Name, Since: a.since, Until: a.until, Steps: steps}, links)
}

// sankey completes p with links (source and target node names, as
// tally.Node makes them, to the instances that took it): the MaxLinks
// largest, the rest summed in Other, and the nodes the kept links use.
func sankey(p *Paths, links map[[2]string]int) *Paths {
	p.Nodes, p.Links = []Node{}, []Link{}
	for l, n := range links {
		if n != 0 {
			p.Links = append(p.Links, Link{Source: l[0], Target: l[1], Value: n})
		}
	}
	sort.Slice(p.Links, func(i, k int) bool {
		li, lk := p.Links[i], p.Links[k]
		if li.Value != lk.Value {
			return li.Value > lk.Value
		}
		if li.Source != lk.Source {
			return li.Source < lk.Source
		}
		return li.Target < lk.Target
	})
	if len(p.Links) > MaxLinks {
		for _, l := range p.Links[MaxLinks:] {
			p.Other.Links++
			p.Other.Value += l.Value
		}
		p.Links = p.Links[:MaxLinks]
	}
	used := map[string]bool{}
	for _, l := range p.Links {
		for _, name := range []string{l.Source, l.Target} {
			if used[name] {
				continue
			}
			used[name] = true
			step, stage, _ := tally.ParseNode(name)
			drop := strings.HasPrefix(stage, "exit:") || stage == ir.End
			p.Nodes = append(p.Nodes, Node{Name: name, Step: step, Stage: stage, DropOff: drop})
		}
	}
	sort.Slice(p.Nodes, func(i, k int) bool {
		if p.Nodes[i].Step != p.Nodes[k].Step {
			return p.Nodes[i].Step < p.Nodes[k].Step
		}
		return p.Nodes[i].Name < p.Nodes[k].Name
	})
	return p
}
