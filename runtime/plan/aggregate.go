package plan

import (
	"slices"
	"sort"

	"github.com/waymark-dev/waymark/compiler/diff"
	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
)

// Aggregator counts what a migration does, in the plan's shape: per
// journey and stage, how many instances get each disposition; held sends
// whose send or policy changed; timers that fall due earlier. The dry run
// (Run) and the reload's own account (runtime/reload) both count with it,
// from the engine's Migrations, so they cannot count differently. It is not
// safe for concurrent use; Merge joins the counts of several.
type Aggregator struct {
	journeys map[string]*journeyCounts
}

type journeyCounts struct {
	impact  map[diff.Impact]int // Customers zero: the key
	held    map[diff.HeldImpact]int
	earlier map[string]*diff.TimerImpact
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{journeys: map[string]*journeyCounts{}}
}

func (a *Aggregator) journey(name string) *journeyCounts {
	j := a.journeys[name]
	if j == nil {
		j = &journeyCounts{impact: map[diff.Impact]int{}, held: map[diff.HeldImpact]int{}, earlier: map[string]*diff.TimerImpact{}}
		a.journeys[name] = j
	}
	return j
}

// Add counts one instance's migration.
func (a *Aggregator) Add(m engine.Migration) {
	key := diff.Impact{Stage: m.Stage, Disposition: m.Disposition}
	switch m.Disposition {
	case engine.MigrationMoved, engine.MigrationRedirected, engine.MigrationLeft:
		key.To = m.To
	case engine.MigrationExited:
		key.Cause = m.Cause
	}
	a.journey(m.Journey).impact[key]++
}

// AddN counts n instances of journey in stage with disposition d (the
// reload counts pinned instances so: its Steps do not report them).
func (a *Aggregator) AddN(journey, stage, d string, n int) {
	if n > 0 {
		a.journey(journey).impact[diff.Impact{Stage: stage, Disposition: d}] += n
	}
}

// AddHeld counts one held send.
func (a *Aggregator) AddHeld(journey, stage, send, reason string) {
	a.journey(journey).held[diff.HeldImpact{Stage: stage, Send: send, Reason: reason}]++
}

// AddEarlier counts one instance whose next timer falls due earlier;
// atOnce when it is due already.
func (a *Aggregator) AddEarlier(journey, stage string, atOnce bool) {
	j := a.journey(journey)
	t := j.earlier[stage]
	if t == nil {
		t = &diff.TimerImpact{Stage: stage}
		j.earlier[stage] = t
	}
	t.Customers++
	if atOnce {
		t.AtOnce++
	}
}

// Merge adds b's counts to a's.
func (a *Aggregator) Merge(b *Aggregator) {
	for name, bj := range b.journeys {
		j := a.journey(name)
		for k, n := range bj.impact {
			j.impact[k] += n
		}
		for k, n := range bj.held {
			j.held[k] += n
		}
		for stage, t := range bj.earlier {
			x := j.earlier[stage]
			if x == nil {
				x = &diff.TimerImpact{Stage: stage}
				j.earlier[stage] = x
			}
			x.Customers += t.Customers
			x.AtOnce += t.AtOnce
		}
	}
}

// Journeys returns the counts as the plan's journeys and their summary.
// changes (may be nil) gives each journey its change and the order:
// the diff's, then journeys it does not name by name. base (may be nil)
// orders each journey's stages as the running program does.
func (a *Aggregator) Journeys(changes *diff.Diff, base *ir.Program) ([]diff.JourneyPlan, diff.Summary) {
	var sum diff.Summary
	names := make([]string, 0, len(a.journeys))
	for name := range a.journeys {
		names = append(names, name)
	}
	rank := map[string]int{}
	change := map[string]string{}
	oldName := map[string]string{}
	if changes != nil {
		for i, jd := range changes.Journeys {
			rank[jd.Name] = i + 1
			change[jd.Name] = jd.Change
			oldName[jd.Name] = jd.From
		}
	}
	sort.Slice(names, func(i, k int) bool {
		ri, rk := rank[names[i]], rank[names[k]]
		switch {
		case ri != rk && ri != 0 && rk != 0:
			return ri < rk
		case ri != rk:
			return ri != 0 // named by the diff first
		}
		return names[i] < names[k]
	})
	out := make([]diff.JourneyPlan, 0, len(names))
	for _, name := range names {
		j := a.journeys[name]
		jp := diff.JourneyPlan{Name: name, Change: change[name], Impact: []diff.Impact{}}
		if jp.Change == "" {
			jp.Change = diff.Unchanged
		}
		order := stageOrder(base, name, oldName[name])
		for k, n := range j.impact {
			k.Customers = n
			jp.Impact = append(jp.Impact, k)
			jp.InFlight += n
			sum.Add(k.Disposition, n)
		}
		sort.Slice(jp.Impact, func(x, y int) bool {
			a, b := jp.Impact[x], jp.Impact[y]
			if oa, ob := order(a.Stage), order(b.Stage); oa != ob {
				return oa < ob
			}
			if a.Stage != b.Stage {
				return a.Stage < b.Stage
			}
			if da, db := slices.Index(diff.Dispositions, a.Disposition), slices.Index(diff.Dispositions, b.Disposition); da != db {
				return da < db
			}
			return a.To+a.Cause < b.To+b.Cause
		})
		for k, n := range j.held {
			k.Sends = n
			jp.Held = append(jp.Held, k)
		}
		sort.Slice(jp.Held, func(x, y int) bool {
			a, b := jp.Held[x], jp.Held[y]
			if oa, ob := order(a.Stage), order(b.Stage); oa != ob {
				return oa < ob
			}
			return a.Stage+"\x00"+a.Send+"\x00"+a.Reason < b.Stage+"\x00"+b.Send+"\x00"+b.Reason
		})
		for _, t := range j.earlier {
			jp.Earlier = append(jp.Earlier, *t)
		}
		sort.Slice(jp.Earlier, func(x, y int) bool {
			a, b := jp.Earlier[x], jp.Earlier[y]
			if oa, ob := order(a.Stage), order(b.Stage); oa != ob {
				return oa < ob
			}
			return a.Stage < b.Stage
		})
		out = append(out, jp)
	}
	return out, sum
}

// stageOrder returns the rank of each stage of a journey in the running
// program (its old name first when a moved block renamed it); unknown
// stages rank after every known one.
func stageOrder(base *ir.Program, name, old string) func(stage string) int {
	var j *ir.Journey
	if base != nil {
		if old != "" {
			j = base.Journey(old)
		}
		if j == nil {
			j = base.Journey(name)
		}
	}
	return func(stage string) int {
		if j != nil {
			for i := range j.Stages {
				if j.Stages[i].Name == stage {
					return i
				}
			}
		}
		return 1 << 30
	}
}
