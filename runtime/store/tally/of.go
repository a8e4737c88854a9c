package tally

import (
	"strconv"
	"strings"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics/stats"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// MaxSteps is the longest path the path tallies keep: the most steps a
// Sankey of the journey (GET /paths) shows.
const MaxSteps = 20

// Active is the path_end name of paths still going on.
const Active = "active"

// EndLabel names where a transition to the end leads: `goal:EVENT` for a
// conversion, `exit:CAUSE` for an exit (an exit event's cause is already
// "exit:EVENT"; the engine's own exits, like step_limit, get the prefix),
// `end` for completing.
func EndLabel(status, cause string) string {
	switch status {
	case engine.StatusConverted:
		if strings.HasPrefix(cause, "goal:") {
			return cause
		}
		return "goal:" + cause
	case engine.StatusExited:
		if strings.HasPrefix(cause, "exit:") {
			return cause
		}
		return "exit:" + cause
	}
	return ir.End
}

// Node is the name of a Sankey node: the stage (or end) at step i of a
// path, "{i}_{stage}".
func Node(i int, stage string) string { return strconv.Itoa(i) + "_" + stage }

// ParseNode splits a node name into its step and stage.
func ParseNode(name string) (int, string, bool) {
	i, stage, ok := strings.Cut(name, "_")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(i)
	if err != nil || n < 0 {
		return 0, "", false
	}
	return n, stage, true
}

// Of returns the tallies one customer write adds: those of its results'
// transitions, sends and responses, from the context the engine stamped on
// them. Stores call it in Commit and add Merge of a batch's in the same
// transaction. It reads nothing but w.
//
// A record without its instance's entry time (zero Entered) counts
// nothing: the end, under its old name, of a run that a merge moved to
// another customer (the run goes on, and counts, under its new name), or
// a held send whose instance another one replaced before it was released.
// Notes of where an instance is (IsNote) count nothing either.
func Of(w *store.CustomerWrite) []store.Tally {
	n := 0
	for i := range w.Results {
		res := &w.Results[i]
		// At most 12 tallies a transition, 2 a send, 4 a response (and a
		// few more for an end's visited stages): one allocation, mostly.
		n += 12*len(res.Transitions) + 2*len(res.Sends) + 4*len(res.Responses)
	}
	if n == 0 {
		return nil
	}
	ts := make([]store.Tally, 0, n)
	for i := range w.Results {
		res := &w.Results[i]
		for k := range res.Transitions {
			ts = OfTransition(ts, &res.Transitions[k])
		}
		for k := range res.Sends {
			ts = OfSend(ts, &res.Sends[k])
		}
		for k := range res.Responses {
			ts = OfResponse(ts, &res.Responses[k])
		}
	}
	return ts
}

// OfTransition appends the tallies of one transition, from its context
// fields, to ts.
func OfTransition(ts []store.Tally, t *engine.Transition) []store.Tally {
	if t.Entered.IsZero() || IsNote(t) {
		return ts
	}
	c := Cohort(t.Entered)
	add := func(kind, a, b string, n int64) {
		ts = append(ts, store.Tally{Journey: t.Journey, Cohort: c, Kind: kind, A: a, B: b, N: n})
	}
	end := t.To == ir.End
	label := t.To
	if end {
		label = EndLabel(t.Status, t.Cause)
	}
	if t.From == "" {
		add(KindEntered, "", "", 1)
		if !end {
			add(KindStatus, engine.StatusActive, "", 1)
		}
	} else {
		add(KindStageActive, t.From, "", -1)
		add(KindEdge, t.From, label, 1)
		if t.Cause != causeMoved {
			add(KindStageTime, t.From, strconv.Itoa(stats.DurationBucket(t.At.Sub(t.Since).Seconds())), 1)
		}
		if variant, ok := strings.CutPrefix(t.Cause, "split:"); ok && firstSplit(t, variant) {
			add(KindSplit, t.From, variant, 1)
		}
	}
	v := t.Visit
	if !end {
		add(KindStageEntered, t.To, "", 1)
		add(KindStageActive, t.To, "", 1)
		if t.First {
			add(KindVisitors, t.To, "", 1)
		}
		switch {
		case t.From == "":
			if v <= MaxSteps {
				add(KindPathEnd, Node(v-1, t.To), Node(v, Active), 1)
			}
		case t.Cause == causeMoved:
			// A stage renamed by a migration: the instance is where it was,
			// on the same step, under the stage's new name.
			if v <= MaxSteps {
				add(KindPathEnd, Node(v-1, t.From), Node(v, Active), -1)
				add(KindPathEnd, Node(v-1, t.To), Node(v, Active), 1)
			}
		default:
			if v-1 <= MaxSteps {
				add(KindPathEnd, Node(v-2, t.From), Node(v-1, Active), -1)
			}
			if v <= MaxSteps {
				add(KindPath, Node(v-2, t.From), Node(v-1, t.To), 1)
				add(KindPathEnd, Node(v-1, t.To), Node(v, Active), 1)
			}
		}
		return ts
	}
	if t.From != "" {
		add(KindStatus, engine.StatusActive, "", -1)
	}
	add(KindStatus, t.Status, "", 1)
	switch t.Status {
	case engine.StatusCompleted, engine.StatusExited:
		for _, s := range t.Visited {
			add(KindLeaked, s, "", 1)
		}
	case engine.StatusConverted:
		add(KindGoalTime, label, strconv.Itoa(stats.DurationBucket(t.At.Sub(t.Entered).Seconds())), 1)
		for stage, variant := range t.Splits {
			add(KindSplitConverted, stage, variant, 1)
		}
	}
	if t.From != "" && v >= 1 && v <= MaxSteps {
		add(KindPathEnd, Node(v-1, t.From), Node(v, Active), -1)
		add(KindPathEnd, Node(v-1, t.From), Node(v, label), 1)
	}
	return ts
}

// IsNote reports whether a transition only notes where an instance is,
// without moving it: a merge's (cause engine.CauseMerged) or a
// migration's that keeps the stage (cause "migrate"), both from a stage to
// itself. A stage that moves to itself by its own transition (an on, an
// after) is entered again, and counts.
func IsNote(t *engine.Transition) bool {
	return t.From == t.To && (t.Cause == engine.CauseMerged || t.Cause == causeMigrate)
}

// causeMigrate is the cause of a migration's note that an instance stays
// in its stage (engine.Migrate).
const causeMigrate = "migrate"

// causeMoved is the cause of a migration's move to a stage a moved block
// renamed: the instance stays where it was (engine.Migrate).
const causeMoved = "moved"

// firstSplit reports whether a move out of a split stage by variant first
// assigned the stage a variant, from the engine's stamp (engine.Transition
// Splits): on a move to a stage, Splits holds the new assignment only; on a
// move to the end, the assignments from before it.
func firstSplit(t *engine.Transition, variant string) bool {
	got, ok := t.Splits[t.From]
	if t.To == ir.End {
		return !ok
	}
	return ok && got == variant
}

// OfSend appends the tallies of one send decision to ts: one more of its
// fate, and for a send that goes out one more pending delivery (Delivery
// moves it when the outbox settles it).
func OfSend(ts []store.Tally, s *engine.Send) []store.Tally {
	if s.Entered.IsZero() {
		return ts
	}
	c := Cohort(s.Entered)
	ts = append(ts, store.Tally{Journey: s.Journey, Cohort: c, Kind: KindSendFate, A: s.Name, B: s.Fate, N: 1})
	if s.Fate == engine.FateDeliver {
		ts = append(ts, store.Tally{Journey: s.Journey, Cohort: c, Kind: KindSendDelivery, A: s.Name, B: store.DeliveryPending, N: 1})
	}
	return ts
}

// OfResponse appends the tallies of one metric response to ts: in its
// instance's cohort, or, for a response in no journey, under journey ""
// in the hour it was given.
func OfResponse(ts []store.Tally, r *engine.Response) []store.Tally {
	var c int64
	switch {
	case r.Instance == "":
		c = Cohort(r.At)
	case r.Entered.IsZero():
		return ts
	default:
		c = Cohort(r.Entered)
	}
	add := func(kind string, sum float64) {
		ts = append(ts, store.Tally{Journey: r.Journey, Cohort: c, Kind: kind, A: r.Metric, B: r.Stage, N: 1, Sum: sum})
	}
	add(KindResponse, r.Value)
	if stats.IsPromoter(r.Value) {
		add(KindResponsePromoter, 0)
	}
	if stats.IsDetractor(r.Value) {
		add(KindResponseDetractor, 0)
	}
	if stats.IsSatisfied(r.Value) {
		add(KindResponseSatisfied, 0)
	}
	return ts
}
