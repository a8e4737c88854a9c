package tally_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// What one record counts, kind by kind (the package documentation's
// table), in the notation kind(A,B)=N.
func TestOf(t *testing.T) {
	entered := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC) // cohort 09:00
	at := entered.Add(90 * time.Second)                      // 90 s in a stage: bucket 2700 (900 × 10² ms)
	tr := func(from, to, cause, status string, visit int, first bool) *engine.Transition {
		return &engine.Transition{Journey: "j", Instance: "c/j/1", From: from, To: to, Cause: cause, Status: status, At: at,
			Entered: entered, Since: entered, Visit: visit, First: first}
	}
	with := func(t *engine.Transition, f func(*engine.Transition)) *engine.Transition { f(t); return t }
	for _, tt := range []struct {
		name string
		res  engine.Result
		want []string
	}{
		{"an entry", engine.Result{Transitions: []engine.Transition{*with(tr("", "a", "entry:go", "active", 1, true), func(t *engine.Transition) { t.Since = time.Time{} })}},
			[]string{"entered(,)=1", "path_end(0_a,1_active)=1", "stage_active(a,)=1", "stage_entered(a,)=1", "status(active,)=1", "visitors(a,)=1"}},
		{"a move to a stage entered before", engine.Result{Transitions: []engine.Transition{*tr("a", "b", "on:x", "active", 3, false)}},
			[]string{"edge(a,b)=1", "path(1_a,2_b)=1", "path_end(1_a,2_active)=-1", "path_end(2_b,3_active)=1",
				"stage_active(a,)=-1", "stage_active(b,)=1", "stage_entered(b,)=1", "stage_time(a,2700)=1"}},
		{"a split's first assignment", engine.Result{Transitions: []engine.Transition{*with(tr("s", "b", "split:x", "active", 2, true), func(t *engine.Transition) { t.Splits = map[string]string{"s": "x"} })}},
			[]string{"edge(s,b)=1", "path(0_s,1_b)=1", "path_end(0_s,1_active)=-1", "path_end(1_b,2_active)=1",
				"split(s,x)=1", "stage_active(b,)=1", "stage_active(s,)=-1", "stage_entered(b,)=1", "stage_time(s,2700)=1", "visitors(b,)=1"}},
		{"the same split again", engine.Result{Transitions: []engine.Transition{*tr("s", "b", "split:x", "active", 21, false)}},
			[]string{"edge(s,b)=1", "path_end(19_s,20_active)=-1", "stage_active(b,)=1", "stage_active(s,)=-1", "stage_entered(b,)=1", "stage_time(s,2700)=1"}},
		{"a split to the end, first", engine.Result{Transitions: []engine.Transition{*with(tr("s", "end", "split:h", "completed", 2, false), func(t *engine.Transition) { t.Visited = []string{"a", "s"} })}},
			[]string{"edge(s,end)=1", "leaked(a,)=1", "leaked(s,)=1", "path_end(1_s,2_active)=-1", "path_end(1_s,2_end)=1",
				"split(s,h)=1", "stage_active(s,)=-1", "stage_time(s,2700)=1", "status(active,)=-1", "status(completed,)=1"}},
		{"a conversion", engine.Result{Transitions: []engine.Transition{*with(tr("b", "end", "goal:paid", "converted", 25, false), func(t *engine.Transition) {
			t.Visited, t.Splits = []string{"a", "s", "b"}, map[string]string{"s": "x"}
		})}},
			[]string{"edge(b,goal:paid)=1", "goal_time(goal:paid,2700)=1", "split_converted(s,x)=1",
				"stage_active(b,)=-1", "stage_time(b,2700)=1", "status(active,)=-1", "status(converted,)=1"}},
		{"an engine exit", engine.Result{Transitions: []engine.Transition{*with(tr("a", "end", "step_limit", "exited", 1, false), func(t *engine.Transition) { t.Visited = []string{"a"} })}},
			[]string{"edge(a,exit:step_limit)=1", "leaked(a,)=1", "path_end(0_a,1_active)=-1", "path_end(0_a,1_exit:step_limit)=1",
				"stage_active(a,)=-1", "stage_time(a,2700)=1", "status(active,)=-1", "status(exited,)=1"}},
		{"a stage renamed by a migration", engine.Result{Transitions: []engine.Transition{*tr("old", "new", "moved", "active", 4, true)}},
			[]string{"edge(old,new)=1", "path_end(3_new,4_active)=1", "path_end(3_old,4_active)=-1",
				"stage_active(new,)=1", "stage_active(old,)=-1", "stage_entered(new,)=1", "visitors(new,)=1"}},
		{"notes count nothing", engine.Result{Transitions: []engine.Transition{*tr("a", "a", "merged", "active", 1, false), *tr("a", "a", "migrate", "active", 1, false)}}, nil},
		{"no context counts nothing", engine.Result{Transitions: []engine.Transition{*with(tr("a", "end", "merged", "exited", 1, false), func(t *engine.Transition) { t.Entered = time.Time{} })},
			Sends: []engine.Send{{Journey: "j", Name: "hi", Fate: "deliver"}}}, nil},
		{"sends", engine.Result{Sends: []engine.Send{{Journey: "j", Name: "hi", Fate: "deliver", Entered: entered}, {Journey: "j", Name: "hi", Fate: "held", Entered: entered}}},
			[]string{"send_delivery(hi,pending)=1", "send_fate(hi,deliver)=1", "send_fate(hi,held)=1"}},
		{"responses", engine.Result{Responses: []engine.Response{
			{Metric: "nps", Journey: "j", Instance: "c/j/1", Stage: "a", Value: 9, At: at, Entered: entered},
			{Metric: "nps", Journey: "j", Instance: "c/j/1", Stage: "a", Value: 5, At: at, Entered: entered}}},
			[]string{"response(nps,a)=2 sum 14", "response_detractor(nps,a)=1", "response_promoter(nps,a)=1", "response_satisfied(nps,a)=2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(tally.Merge(tally.Of(&store.CustomerWrite{Results: []engine.Result{tt.res}})), "j", tally.Cohort(entered))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A response in no journey counts under journey "" in its own hour.
func TestOfResponseInNoJourney(t *testing.T) {
	at := time.Date(2026, 12, 1, 13, 59, 0, 0, time.UTC)
	got := tally.Of(&store.CustomerWrite{Results: []engine.Result{{Responses: []engine.Response{{Metric: "csat", Value: 4, At: at}}}}})
	want := []store.Tally{{Journey: "", Cohort: tally.Cohort(at), Kind: tally.KindResponse, A: "csat", N: 1, Sum: 4},
		{Journey: "", Cohort: tally.Cohort(at), Kind: tally.KindResponseDetractor, A: "csat", N: 1}, // classed on NPS's scale too
		{Journey: "", Cohort: tally.Cohort(at), Kind: tally.KindResponseSatisfied, A: "csat", N: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// describe writes tallies as kind(A,B)=N, checking their journey and cohort.
func describe(ts []store.Tally, journey string, cohort int64) []string {
	var out []string
	for _, x := range ts {
		s := fmt.Sprintf("%s(%s,%s)=%d", x.Kind, x.A, x.B, x.N)
		if x.Sum != 0 {
			s += fmt.Sprintf(" sum %g", x.Sum)
		}
		if x.Journey != journey || x.Cohort != cohort {
			s += fmt.Sprintf(" in %s@%d", x.Journey, x.Cohort)
		}
		out = append(out, s)
	}
	return out
}

// Sums, fed in pieces, is Merge of all the pieces at once: each key once,
// summed, those that sum to nothing dropped, in key order.
func TestSumsIsMerge(t *testing.T) {
	tl := func(journey string, cohort int64, kind, a string, n int64, sum float64) store.Tally {
		return store.Tally{Journey: journey, Cohort: cohort, Kind: kind, A: a, N: n, Sum: sum}
	}
	pieces := [][]store.Tally{
		{tl("j", 2, "k", "x", 1, 0), tl("j", 1, "k", "x", 1, 0.5)},
		nil,
		{tl("j", 2, "k", "x", 2, 0), tl("i", 9, "k", "y", 1, 0), tl("j", 1, "k", "x", 1, 0.25)},
		{tl("i", 9, "k", "y", -1, 0)}, // sums to nothing: dropped
	}
	var sums tally.Sums
	var all []store.Tally
	for _, p := range pieces {
		sums.Add(p)
		all = append(all, p...)
	}
	got, want := sums.Merged(), tally.Merge(all)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sums: %+v\nMerge: %+v", got, want)
	}
	if len(got) != 2 || got[0].Cohort != 1 || got[0].N != 2 || got[0].Sum != 0.75 || got[1].N != 3 {
		t.Errorf("merged %+v, want j/1 n=2 sum=0.75 then j/2 n=3", got)
	}
}
