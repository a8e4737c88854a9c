package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// tallyLife is one instance's records as the engine stamps them: entered
// at entered, moving through stages (each move one hour after the last),
// with the sends and responses of the first stage.
type tallyLife struct {
	customer, journey string
	entered           time.Time
	stages            []string // the stages entered, in order; "end" last when it ended
	status            string   // the status of the last move
	cause             string   // the cause of the last move
	sends             []engine.Send
	responses         []engine.Response
}

func (l tallyLife) instance() string { return l.customer + "/" + l.journey + "/1" }

// transitions stamps the moves of stages[from:to] as the engine would: the
// entry time, when the stage left was entered, the path length, whether
// the stage is new, and on a move to the end the visited stages.
func (l tallyLife) transitions(from, to int) []engine.Transition {
	var out []engine.Transition
	for k := from; k < to; k++ {
		t := engine.Transition{Instance: l.instance(), Journey: l.journey, Version: "v1", To: l.stages[k],
			Cause: "goto", Status: engine.StatusActive, At: l.entered.Add(time.Duration(k) * time.Hour),
			Entered: l.entered, Visit: k + 1, First: !slices.Contains(l.stages[:k], l.stages[k])}
		if k == 0 {
			t.Cause = "entry:e"
		} else {
			t.From, t.Since = l.stages[k-1], l.entered.Add(time.Duration(k-1)*time.Hour)
		}
		if l.stages[k] == "end" {
			t.Status, t.Cause, t.Visit, t.First = l.status, l.cause, k, false
			var seen []string
			for _, s := range l.stages[:k] {
				if !slices.Contains(seen, s) {
					seen = append(seen, s)
				}
			}
			t.Visited = seen
		}
		out = append(out, t)
	}
	return out
}

// testTallies checks store.Tallies where a store has it: a commit adds
// exactly tally.Merge of its writes' tally.Of, in the same transaction;
// settling an outbox item moves its send's delivery tally once, whatever
// the number of settles; SumTallies sums a cohort range of a journey and
// its former names, without rows that sum to nothing.
func testTallies(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	if _, ok := s.(store.Tallies); !ok {
		t.Skipf("%T does not implement store.Tallies: its analytics fold every record", s)
	}
	h0 := tally.Cohort(T0)
	sendOf := func(l tallyLife, name, fate string) engine.Send {
		sd := send(l.instance(), name, 1, fate, l.entered)
		sd.Entered = l.entered
		return sd
	}
	a := tallyLife{customer: "a", journey: "j", entered: T0, stages: []string{"s", "t", "end"}, status: engine.StatusConverted, cause: "goal:paid"}
	a.sends = []engine.Send{sendOf(a, "mail", engine.FateDeliver), sendOf(a, "sms", engine.FateSuppressed)}
	b := tallyLife{customer: "b", journey: "j", entered: T0.Add(90 * time.Minute), stages: []string{"s", "t", "s"}}
	b.sends = []engine.Send{sendOf(b, "mail", engine.FateDeliver)}
	b.responses = []engine.Response{{Metric: "nps", Journey: "j", Instance: b.instance(), Stage: "s", Value: 9, At: b.entered, Entered: b.entered},
		{Metric: "nps", Journey: "j", Instance: b.instance(), Stage: "s", Value: 3, At: b.entered.Add(time.Minute), Entered: b.entered}}
	// c entered under the journey's former name.
	c := tallyLife{customer: "c", journey: "old", entered: T0.Add(10 * time.Minute), stages: []string{"s", "end"}, status: engine.StatusExited, cause: "exit:stop"}
	c.sends = []engine.Send{sendOf(c, "mail", engine.FateDeliver)}
	d := tallyLife{customer: "d", journey: "j", entered: T0.Add(5 * time.Hour), stages: []string{"s"}}
	d.sends = []engine.Send{sendOf(d, "mail", engine.FateDeliver)}

	write := func(l tallyLife, from, to int, withEffects bool) store.CustomerWrite {
		w := simple(l.customer, l.journey, "s", time.Time{})
		res := engine.Result{Transitions: l.transitions(from, to)}
		if withEffects {
			res.Sends, res.Responses = l.sends, l.responses
		}
		w.Results = []engine.Result{res}
		return w
	}
	var want []store.Tally // every tally the store should hold, by the contract
	committed := func(ws ...store.CustomerWrite) {
		t.Helper()
		commit(t, s, ws...)
		for k := range ws {
			want = append(want, tally.Of(&ws[k])...)
		}
	}
	check := func(what string, journeys []string, from, to int64) []store.Tally {
		t.Helper()
		got := sumTallies(t, s, journeys, from, to)
		same(t, what, got, expectTallies(want, journeys, from, to))
		for _, g := range got {
			if g.N == 0 && g.Sum == 0 {
				t.Fatalf("%s: a row that sums to nothing: %+v", what, g)
			}
		}
		return got
	}

	if got := sumTallies(t, s, []string{"j"}, h0-10, h0+10); len(got) != 0 {
		t.Fatalf("tallies of an empty store: %+v", got)
	}
	// The first commit: every instance enters; a goes all the way.
	committed(write(a, 0, 3, true), write(b, 0, 1, true), write(c, 0, 2, true))
	committed(write(d, 0, 1, true))
	check("j, first hour", []string{"j"}, h0, h0+1)
	check("j and its former name, first hour", []string{"j", "old"}, h0, h0+1)
	check("j, all hours", []string{"j"}, h0-1, h0+10)
	same(t, "j named twice", sumTallies(t, s, []string{"j", "j"}, h0-1, h0+10), sumTallies(t, s, []string{"j"}, h0-1, h0+10))
	if got := sumTallies(t, s, []string{"j", "old"}, h0+2, h0+5); len(got) != 0 {
		t.Fatalf("tallies of hours nobody entered in: %+v", got)
	}
	if got := sumTallies(t, s, []string{"nobody"}, h0-1, h0+10); len(got) != 0 {
		t.Fatalf("tallies of an unknown journey: %+v", got)
	}
	entered := findTally(check("j, hours 0 and 1", []string{"j"}, h0, h0+2), tally.KindEntered, "", "")
	if entered.N != 2 {
		t.Fatalf("instances entered in j's first two hours: %d, want 2 (a and b)", entered.N)
	}

	// A second commit adds to the same tallies: b moves on and loops.
	before := sumTallies(t, s, []string{"j"}, h0, h0+2)
	committed(write(b, 1, 3, false))
	after := check("j after b's second commit", []string{"j"}, h0, h0+2)
	if slices.Equal(before, after) {
		t.Fatal("b's second commit changed no tally")
	}
	if se := findTally(after, tally.KindStageEntered, "s", ""); se.N != 3 {
		t.Fatalf("entries of stage s: %d, want 3 (a, b, b again)", se.N)
	}

	// Delivery: each settle that changes an item's state moves its send
	// once; a settle of a settled item moves nothing.
	settle := func(what string, err error, j, name string, cohort int64, from, to string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if from != to {
			want = append(want,
				store.Tally{Journey: j, Cohort: cohort, Kind: tally.KindSendDelivery, A: name, B: from, N: -1},
				store.Tally{Journey: j, Cohort: cohort, Kind: tally.KindSendDelivery, A: name, B: to, N: 1})
		}
		check(what, []string{"j", "old"}, h0-1, h0+10)
	}
	ka, kb, kc := a.sends[0].Key, b.sends[0].Key, c.sends[0].Key
	settle("a's mail delivered", s.Delivered(bg, ka, at(time.Hour)), "j", "mail", h0, store.DeliveryPending, store.DeliveryDelivered)
	settle("a's mail delivered again", s.Delivered(bg, ka, at(2*time.Hour)), "j", "mail", h0, "", "")
	settle("a's mail dead after delivery", s.Dead(bg, ka, 3, at(2*time.Hour), "late"), "j", "mail", h0, "", "")
	settle("b's mail retried", s.Retry(bg, kb, 1, at(3*time.Hour), "busy"), "j", "mail", h0+1, "", "")
	settle("b's mail dead", s.Dead(bg, kb, 2, at(3*time.Hour), "bounced"), "j", "mail", h0+1, store.DeliveryPending, store.DeliveryDead)
	settle("b's mail dead again", s.Dead(bg, kb, 3, at(3*time.Hour), "bounced"), "j", "mail", h0+1, "", "")
	settle("b's mail delivered after all", s.Delivered(bg, kb, at(4*time.Hour)), "j", "mail", h0+1, store.DeliveryDead, store.DeliveryDelivered)
	settle("c's mail dead", s.Dead(bg, kc, 1, at(time.Hour), "bounced"), "old", "mail", h0, store.DeliveryPending, store.DeliveryDead)
	if dlq, ok := s.(store.DeadLetterQueue); ok {
		settle("c's mail requeued", dlq.Requeue(bg, kc, at(2*time.Hour)), "old", "mail", h0, store.DeliveryDead, store.DeliveryPending)
	}
	got := sumTallies(t, s, []string{"j"}, h0, h0+1)
	if del := findTally(got, tally.KindSendDelivery, "mail", store.DeliveryDelivered); del.N != 1 {
		t.Fatalf("j's mails delivered in the first hour: %d, want 1 (a's)", del.N)
	}
	if p := findTally(got, tally.KindSendDelivery, "mail", store.DeliveryPending); p != (store.Tally{}) {
		t.Fatalf("j's mails pending in the first hour: %+v, want no row (a's was delivered)", p)
	}

	// A send decided with no cohort (a held send released after another
	// instance of the journey took its instance's slot: zero Entered) is
	// in no tally, and settling it moves none (tally.Delivery), in any
	// hour, the first one a range can start in included.
	e := simple("e", "j", "s", time.Time{})
	orphan := send("e/j/1", "mail", 1, engine.FateDeliver, T0.Add(time.Hour))
	e.Results = []engine.Result{{Sends: []engine.Send{orphan}}}
	committed(e)
	every := tally.Cohort(time.Time{})
	check("a send without a cohort", []string{"j", "old"}, every, h0+10)
	settle("a send without a cohort dead", s.Dead(bg, orphan.Key, 1, at(time.Hour), "bounced"), "j", "mail", 0, "", "")
	check("a send without a cohort dead, every hour", []string{"j", "old"}, every, h0+10)
	if dlq, ok := s.(store.DeadLetterQueue); ok {
		settle("a send without a cohort requeued", dlq.Requeue(bg, orphan.Key, at(2*time.Hour)), "j", "mail", 0, "", "")
		check("a send without a cohort requeued, every hour", []string{"j", "old"}, every, h0+10)
	}
	settle("a send without a cohort delivered", s.Delivered(bg, orphan.Key, at(3*time.Hour)), "j", "mail", 0, "", "")
	check("a send without a cohort delivered, every hour", []string{"j", "old"}, every, h0+10)

	// Everything survives Close.
	final := sumTallies(t, s, []string{"j", "old"}, h0-1, h0+10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t)
	same(t, "tallies after reopening", sumTallies(t, s, []string{"j", "old"}, h0-1, h0+10), final)
}

func sumTallies(t *testing.T, s store.Store, journeys []string, from, to int64) []store.Tally {
	t.Helper()
	got, err := s.(store.Tallies).SumTallies(bg, journeys, from, to)
	if err != nil {
		t.Fatalf("SumTallies(%q, %d, %d): %v", journeys, from, to, err)
	}
	slices.SortFunc(got, compareTally)
	return got
}

// expectTallies is what SumTallies should answer over all: the tallies of
// the journeys named in [from, to), summed per (kind, a, b), without those
// that sum to nothing.
func expectTallies(all []store.Tally, journeys []string, from, to int64) []store.Tally {
	var in []store.Tally
	for _, x := range all {
		if slices.Contains(journeys, x.Journey) && x.Cohort >= from && x.Cohort < to {
			x.Journey, x.Cohort = "", 0
			in = append(in, x)
		}
	}
	out := tally.Merge(in)
	if len(out) == 0 {
		return nil // as SumTallies answers nothing
	}
	slices.SortFunc(out, compareTally)
	return out
}

func compareTally(x, y store.Tally) int {
	switch {
	case tally.Less(x, y):
		return -1
	case tally.Less(y, x):
		return 1
	}
	return 0
}

func findTally(ts []store.Tally, kind, a, b string) store.Tally {
	for _, x := range ts {
		if x.Kind == kind && x.A == a && x.B == b {
			return x
		}
	}
	return store.Tally{}
}
