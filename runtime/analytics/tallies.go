package analytics

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics/stats"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// HourRange widens [since, until) to whole UTC hours, the cohorts the
// tallies keep: since floored, until ceiled. It returns the cohort hours
// [from, to) to sum (store.Tallies) and the times they start.
func HourRange(since, until time.Time) (from, to int64, start, end time.Time) {
	from, to = tally.Cohort(since), tally.Cohort(until)
	if !tally.CohortTime(to).Equal(until) {
		to++
	}
	return from, to, tally.CohortTime(from), tally.CohortTime(to)
}

// sums indexes summed tallies (store.Tallies.SumTallies) by kind.
type sums map[string][]store.Tally

func index(ts []store.Tally) sums {
	s := sums{}
	for _, t := range ts {
		s[t.Kind] = append(s[t.Kind], t)
	}
	return s
}

// n is the count of one tally; 0 when there is none.
func (s sums) n(kind, a, b string) int {
	var n int64
	for _, t := range s[kind] {
		if t.A == a && t.B == b {
			n += t.N
		}
	}
	return int(n)
}

// byA sums a kind's tallies by A.
func (s sums) byA(kind string) map[string]int {
	out := map[string]int{}
	for _, t := range s[kind] {
		out[t.A] += int(t.N)
	}
	return out
}

// histogram is a kind's duration histogram of one A (B is the bucket).
func (s sums) histogram(kind, a string) map[int]int64 {
	h := map[int]int64{}
	for _, t := range s[kind] {
		if t.A != a {
			continue
		}
		if b, err := strconv.Atoi(t.B); err == nil {
			h[b] += t.N
		}
	}
	return h
}

// FromTallies is the analytics document of journey j (the program version
// that names its stages, goals, sends and splits) from its tallies summed
// over the cohorts of a range (store.Tallies.SumTallies): the instances
// that entered in it, as they stand now. since and until are the range's
// whole hours (HourRange). It is what Accumulator.Report says of the same
// instances, but for the durations, which come from a histogram
// (stats.DurationBucket bounds their error), and for the order of what the
// program no longer names (stages and sends, by name here, by first record
// there).
func FromTallies(j *ir.Journey, metrics []ir.Metric, ts []store.Tally, since, until time.Time) *Analytics {
	s := index(ts)
	r := &Analytics{Journey: j.Name, Persona: j.Persona, Since: since, Until: until,
		Stages: []Stage{}, Edges: []Edge{}, Goals: []Goal{}, Sends: []Send{}, Splits: []Split{}, Metrics: []Metric{}}
	r.Entered = s.n(tally.KindEntered, "", "")
	status := s.byA(tally.KindStatus)
	r.Active, r.Completed, r.Converted, r.Exited = status[engine.StatusActive], status[engine.StatusCompleted],
		status[engine.StatusConverted], status[engine.StatusExited]

	stages, order := stageOrder(j, s)
	entered, active := s.byA(tally.KindStageEntered), s.byA(tally.KindStageActive)
	visitors, leaked := s.byA(tally.KindVisitors), s.byA(tally.KindLeaked)
	maps := map[string]*ir.Map{}
	for _, st := range j.Stages {
		maps[st.Name] = st.Map
	}
	byStage := map[string]*Stage{}
	for _, name := range stages {
		h := s.histogram(tally.KindStageTime, name)
		st := Stage{Name: name, Map: maps[name], Entered: entered[name], Active: active[name],
			MedianSeconds: stats.HistogramQuantile(h, 0.5), P90Seconds: stats.HistogramQuantile(h, 0.9),
			LeftTo: map[string]int{}, Exits: map[string]int{}, Leaked: leaked[name]}
		if v := visitors[name]; v > 0 {
			st.Leakage = float64(st.Leaked) / float64(v)
		}
		r.Stages = append(r.Stages, st)
	}
	for k := range r.Stages {
		byStage[r.Stages[k].Name] = &r.Stages[k]
	}
	for _, t := range s[tally.KindEdge] {
		r.Edges = append(r.Edges, Edge{From: t.A, To: t.B, Count: int(t.N)})
		st := byStage[t.A]
		if st == nil {
			continue
		}
		if exit, ok := strings.CutPrefix(t.B, "exit:"); ok {
			st.Exits[exit] += int(t.N)
		} else {
			st.LeftTo[t.B] += int(t.N)
		}
	}
	sort.Slice(r.Edges, func(i, k int) bool {
		ei, ek := r.Edges[i], r.Edges[k]
		if ei.From != ek.From {
			return order(ei.From) < order(ek.From)
		}
		return ei.To < ek.To
	})
	for _, g := range j.Goals {
		h := s.histogram(tally.KindGoalTime, "goal:"+g.Event)
		var n int64
		for _, c := range h {
			n += c
		}
		r.Goals = append(r.Goals, Goal{Name: g.Event, Conversions: int(n), Rate: stats.Rate(int(n), r.Entered),
			MedianSeconds: stats.HistogramQuantile(h, 0.5)})
	}
	r.Sends = sends(j, s)
	for _, st := range j.Stages {
		if st.Transition.Kind != ir.TransitionSplit {
			continue
		}
		vs := st.Transition.Variants
		assigned, converted := make([]int, len(vs)), make([]int, len(vs))
		for i, v := range vs {
			assigned[i] = s.n(tally.KindSplit, st.Name, v.Name)
			converted[i] = s.n(tally.KindSplitConverted, st.Name, v.Name)
		}
		r.Splits = append(r.Splits, splitReport(st, assigned, converted))
	}
	for _, m := range metrics {
		r.Metrics = append(r.Metrics, metricReport(m, responses(s, m.Name), order))
	}
	return r
}

// stageOrder lists the journey's stages, then those the tallies name that
// the program no longer has, by name; order is a stage's index in that
// list (0 for one not in it, as Accumulator orders them).
func stageOrder(j *ir.Journey, s sums) ([]string, func(string) int) {
	idx := map[string]int{}
	var names []string
	for _, st := range j.Stages {
		idx[st.Name] = len(names)
		names = append(names, st.Name)
	}
	var extra []string
	for _, t := range s[tally.KindStageEntered] {
		if _, ok := idx[t.A]; !ok && !contains(extra, t.A) {
			extra = append(extra, t.A)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		idx[name] = len(names)
		names = append(names, name)
	}
	return names, func(stage string) int { return idx[stage] }
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sends are the journey's send actions in stage order, then the sends the
// tallies name that the program no longer has, by name.
func sends(j *ir.Journey, s sums) []Send {
	var names []string
	for _, st := range j.Stages {
		for _, act := range st.Actions {
			if act.Kind == ir.ActionSend && !contains(names, act.Name) {
				names = append(names, act.Name)
			}
		}
	}
	var extra []string
	for _, kind := range []string{tally.KindSendFate, tally.KindSendDelivery} {
		for _, t := range s[kind] {
			if !contains(names, t.A) && !contains(extra, t.A) {
				extra = append(extra, t.A)
			}
		}
	}
	sort.Strings(extra)
	out := []Send{}
	for _, name := range append(names, extra...) {
		sd := Send{Name: name, Fates: map[string]int{}, Delivery: map[string]int{}}
		for _, t := range s[tally.KindSendFate] {
			if t.A == name {
				sd.Fates[t.B] += int(t.N)
			}
		}
		for _, t := range s[tally.KindSendDelivery] {
			if t.A == name {
				sd.Delivery[t.B] += int(t.N)
			}
		}
		out = append(out, sd)
	}
	return out
}

// responses are a metric's sufficient statistics by stage.
func responses(s sums, metric string) map[string]stats.Responses {
	out := map[string]stats.Responses{}
	for _, kind := range []string{tally.KindResponse, tally.KindResponsePromoter, tally.KindResponseDetractor, tally.KindResponseSatisfied} {
		for _, t := range s[kind] {
			if t.A != metric {
				continue
			}
			r := out[t.B]
			switch kind {
			case tally.KindResponse:
				r.N += t.N
				r.Sum += t.Sum
			case tally.KindResponsePromoter:
				r.Promoters += t.N
			case tally.KindResponseDetractor:
				r.Detractors += t.N
			case tally.KindResponseSatisfied:
				r.Satisfied += t.N
			}
			out[t.B] = r
		}
	}
	for st, r := range out {
		if r.N == 0 {
			delete(out, st) // counted in no response: nothing to score
		}
	}
	return out
}

// PathsFromTallies is the Sankey of the first steps stages (clamped to
// 1..MaxSteps) of the instances whose tallies ts sums, as
// Accumulator.Paths draws it.
func PathsFromTallies(j *ir.Journey, ts []store.Tally, steps int, since, until time.Time) *Paths {
	steps = max(1, min(steps, MaxSteps))
	links := map[[2]string]int{}
	for _, t := range ts {
		if t.Kind != tally.KindPath && t.Kind != tally.KindPathEnd {
			continue
		}
		step, _, ok := tally.ParseNode(t.B)
		if !ok {
			continue
		}
		// A link to step i shows when i < steps; a path of L stages ends
		// in a node of step L, shown when L <= steps.
		if (t.Kind == tally.KindPath && step < steps) || (t.Kind == tally.KindPathEnd && step <= steps) {
			links[[2]string{t.A, t.B}] += int(t.N)
		}
	}
	return sankey(&Paths{Journey: j.Name, Since: since, Until: until, Steps: steps}, links)
}
