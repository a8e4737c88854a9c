package analytics

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/analytics/stats"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func checkout() *ir.Journey {
	return &ir.Journey{Name: "checkout", Start: "welcome", Persona: "A first-time buyer",
		Goals: []ir.Trigger{{Event: "purchased"}}, Exits: []ir.Trigger{{Event: "unsubscribed"}},
		Stages: []ir.Stage{
			{Name: "welcome", Map: &ir.Map{Phase: "purchase", Emotion: 1}, Actions: []ir.Action{{Kind: ir.ActionSend, Name: "welcome_mail"}}, Transition: ir.Transition{Kind: ir.TransitionWait}},
			{Name: "nudge", Transition: ir.Transition{Kind: ir.TransitionSplit, Variants: []ir.Variant{
				{Name: "sms", Weight: 50, Goto: "remind"}, {Name: "holdout", Weight: 50, Goto: ir.End}}}},
			{Name: "remind", Transition: ir.Transition{Kind: ir.TransitionWait}},
		}}
}

func tr(inst, from, to, cause, status string, sec int) store.JourneyRecord {
	return store.JourneyRecord{Transition: &engine.Transition{Instance: inst, Journey: "checkout",
		From: from, To: to, Cause: cause, Status: status, At: t0.Add(time.Duration(sec) * time.Second)}}
}

func sd(inst, name, fate, delivery string) store.JourneyRecord {
	return store.JourneyRecord{Send: &store.SendRecord{Send: engine.Send{Instance: inst, Name: name, Fate: fate}, Delivery: delivery}}
}

// records: i1 converts through the sms arm, i2 unsubscribes in welcome, i3
// goes to the holdout and completes, i4 waits in welcome, i0 entered before
// the range and is left out with all its records.
func records() []store.JourneyRecord {
	const act, conv, exit, done = engine.StatusActive, engine.StatusConverted, engine.StatusExited, engine.StatusCompleted
	return []store.JourneyRecord{
		tr("i0", "", "welcome", "entry:signup", act, -100),
		tr("i1", "", "welcome", "entry:signup", act, 0),
		sd("i1", "welcome_mail", engine.FateDeliver, store.DeliveryDelivered),
		tr("i2", "", "welcome", "entry:signup", act, 0),
		sd("i2", "welcome_mail", engine.FateDeliver, store.DeliveryPending),
		tr("i3", "", "welcome", "entry:signup", act, 1),
		sd("i3", "welcome_mail", "suppressed", ""),
		tr("i4", "", "welcome", "entry:signup", act, 5),
		tr("i1", "welcome", "nudge", "on:clicked", act, 10),
		tr("i1", "nudge", "remind", "split:sms", act, 10),
		tr("i0", "welcome", "nudge", "on:clicked", act, 10),
		sd("i0", "welcome_mail", engine.FateDeliver, store.DeliveryDelivered),
		tr("i3", "welcome", "nudge", "on:clicked", act, 21),
		tr("i3", "nudge", "end", "split:holdout", done, 21),
		tr("i2", "welcome", "end", "exit:unsubscribed", exit, 30),
		tr("i1", "remind", "end", "goal:purchased", conv, 70),
	}
}

func TestReport(t *testing.T) {
	a := NewAccumulator(checkout(), t0, t0.Add(time.Hour))
	for _, r := range records() {
		a.Add(r)
	}
	got := a.Report()
	want := &Analytics{Journey: "checkout", Persona: "A first-time buyer", Since: t0, Until: t0.Add(time.Hour),
		Entered: 4, Active: 1, Completed: 1, Converted: 1, Exited: 1,
		Stages: []Stage{
			// durations 10 (i1), 20 (i3), 30 (i2): median 20, p90 30;
			// i2 and i3 of the 4 leaked.
			{Name: "welcome", Map: &ir.Map{Phase: "purchase", Emotion: 1}, Entered: 4, Active: 1, MedianSeconds: 20, P90Seconds: 30,
				LeftTo: map[string]int{"nudge": 2}, Exits: map[string]int{"unsubscribed": 1}, Leaked: 2, Leakage: 0.5},
			{Name: "nudge", Entered: 2, LeftTo: map[string]int{"remind": 1, "end": 1}, Exits: map[string]int{}, Leaked: 1, Leakage: 0.5},
			{Name: "remind", Entered: 1, MedianSeconds: 60, P90Seconds: 60, LeftTo: map[string]int{"goal:purchased": 1}, Exits: map[string]int{}},
		},
		Edges: []Edge{
			{From: "welcome", To: "exit:unsubscribed", Count: 1}, {From: "welcome", To: "nudge", Count: 2},
			{From: "nudge", To: "end", Count: 1}, {From: "nudge", To: "remind", Count: 1},
			{From: "remind", To: "goal:purchased", Count: 1},
		},
		Goals: []Goal{{Name: "purchased", Conversions: 1, Rate: 0.25, MedianSeconds: 70}},
		Sends: []Send{{Name: "welcome_mail", Fates: map[string]int{"deliver": 2, "suppressed": 1},
			Delivery: map[string]int{"delivered": 1, "pending": 1}}},
		Splits: []Split{{Stage: "nudge", Baseline: "holdout", SRMPValue: 1, Variants: []Variant{
			{Name: "sms", Weight: 50, Assigned: 1, Converted: 1, Rate: 1, Lift: 1, CILow: 1, CIHigh: 1, PValue: stats.TwoProportionPValue(1, 1, 0, 1), Verdict: stats.Inconclusive},
			{Name: "holdout", Weight: 50, Assigned: 1, PValue: 1, Verdict: "baseline"},
		}}},
		Metrics: []Metric{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Report:\n got %+v\nwant %+v", got, want)
	}
}

func TestPaths(t *testing.T) {
	a := NewAccumulator(checkout(), t0, t0.Add(time.Hour))
	for _, r := range records() {
		a.Add(r)
	}
	got := a.Paths(5)
	wantLinks := []Link{
		{Source: "0_welcome", Target: "1_nudge", Value: 2},
		{Source: "0_welcome", Target: "1_active", Value: 1},
		{Source: "0_welcome", Target: "1_exit:unsubscribed", Value: 1},
		{Source: "1_nudge", Target: "2_end", Value: 1},
		{Source: "1_nudge", Target: "2_remind", Value: 1},
		{Source: "2_remind", Target: "3_goal:purchased", Value: 1},
	}
	if !reflect.DeepEqual(got.Links, wantLinks) {
		t.Errorf("links:\n got %+v\nwant %+v", got.Links, wantLinks)
	}
	var drops []string
	for _, n := range got.Nodes {
		if n.DropOff {
			drops = append(drops, n.Name)
		}
	}
	if want := []string{"1_exit:unsubscribed", "2_end"}; !reflect.DeepEqual(drops, want) {
		t.Errorf("drop-off nodes %v, want %v", drops, want)
	}
	if len(got.Nodes) != 7 {
		t.Errorf("%d nodes, want 7: %+v", len(got.Nodes), got.Nodes)
	}

	// Two steps: i1 goes on beyond them, so its path has no end node.
	short := a.Paths(2)
	for _, l := range short.Links {
		if l.Target == "3_goal:purchased" || l.Source == "2_remind" {
			t.Errorf("Paths(2) has a link beyond step 2: %+v", l)
		}
	}
}

func TestPathsCapsLinks(t *testing.T) {
	a := NewAccumulator(&ir.Journey{Name: "wide"}, t0, t0.Add(time.Hour))
	for i := range 60 {
		id, st := fmt.Sprint("i", i), fmt.Sprint("s", i)
		a.Add(tr(id, "", st, "entry:e", engine.StatusActive, i))
		a.Add(tr(id, st, "end", "goto", engine.StatusCompleted, i+1))
	}
	p := a.Paths(5)
	if len(p.Links) != MaxLinks || p.Other != (Other{Links: 10, Value: 10}) {
		t.Errorf("60 one-customer links: kept %d, other %+v; want %d and {10 10}", len(p.Links), p.Other, MaxLinks)
	}
	// The kept links' 50 stages and the end they share; not the 10 others.
	if len(p.Nodes) != MaxLinks+1 {
		t.Errorf("%d nodes, want only the %d the kept links use", len(p.Nodes), MaxLinks+1)
	}
}

func TestEndLabel(t *testing.T) {
	for _, tt := range []struct{ status, cause, want string }{
		{engine.StatusConverted, "goal:paid", "goal:paid"},
		{engine.StatusExited, "exit:unsubscribed", "exit:unsubscribed"},
		{engine.StatusExited, "step_limit", "exit:step_limit"},
		{engine.StatusCompleted, "goto", "end"},
	} {
		if got := EndLabel(tt.status, tt.cause); got != tt.want {
			t.Errorf("EndLabel(%s, %s) = %s, want %s", tt.status, tt.cause, got, tt.want)
		}
	}
}

func TestBaseline(t *testing.T) {
	for _, tt := range []struct {
		vs   []ir.Variant
		want int
	}{
		{[]ir.Variant{{Name: "a", Goto: "x"}, {Name: "b", Goto: ir.End}}, 1},
		{[]ir.Variant{{Name: "a", Goto: "x"}, {Name: "control", Goto: "y"}}, 1},
		{[]ir.Variant{{Name: "a", Goto: "x"}, {Name: "b", Goto: "y"}}, 0},
	} {
		if got := Baseline(tt.vs); got != tt.want {
			t.Errorf("Baseline(%+v) = %d, want %d", tt.vs, got, tt.want)
		}
	}
}

func resp(metric, inst, stage string, v float64) store.JourneyRecord {
	return store.JourneyRecord{Response: &engine.Response{Metric: metric, Journey: "checkout", Instance: inst, Stage: stage, Value: v, At: t0.Add(40 * time.Second)}}
}

// Metrics are scored over the responses of the instances entered in the
// range, as a whole and per stage (in the journey's stage order), in the
// program's metric order; a response to a metric the program does not
// declare, and one of an instance entered before since (i0), are left out.
func TestReportMetrics(t *testing.T) {
	a := NewAccumulator(checkout(), t0, t0.Add(time.Hour))
	a.Measure([]ir.Metric{{Name: "nps", Kind: "nps"}, {Name: "effort", Kind: "ces"}, {Name: "csat", Kind: "csat"}})
	for _, r := range append(records(),
		resp("nps", "i1", "remind", 10), resp("nps", "i3", "welcome", 3), resp("nps", "i4", "welcome", 9),
		resp("nps", "i2", "welcome", 7), resp("nps", "i0", "welcome", 0), resp("gone", "i1", "remind", 1),
		resp("effort", "i4", "welcome", 2), resp("effort", "i1", "nudge", 5)) {
		a.Add(r)
	}
	want := []Metric{
		// welcome: 9 promoter, 7 passive, 3 detractor: (1-1)/3 = 0;
		// remind: one promoter, 100; all: (2-1)/4 = 25.
		{Name: "nps", Kind: "nps", Responses: 4, Score: 25, ByStage: []StageMetric{
			{Stage: "welcome", Responses: 3, Score: 0}, {Stage: "remind", Responses: 1, Score: 100}}},
		{Name: "effort", Kind: "ces", Responses: 2, Score: 3.5, ByStage: []StageMetric{
			{Stage: "welcome", Responses: 1, Score: 2}, {Stage: "nudge", Responses: 1, Score: 5}}},
		{Name: "csat", Kind: "csat", ByStage: []StageMetric{}},
	}
	if got := a.Report().Metrics; !reflect.DeepEqual(got, want) {
		t.Errorf("Metrics:\n got %+v\nwant %+v", got, want)
	}
}
