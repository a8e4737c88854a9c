package storetest

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// TallyUpgrade is what RunTallyUpgrade needs of a store that keeps
// tallies.
type TallyUpgrade struct {
	// Open opens the store of t (the same one on every call with t).
	Open func(t *testing.T) store.Store
	// Downgrade takes the closed store of t back to its layout before
	// tallies: no tallies, outbox items without what their settlement
	// moves, the schema version before them.
	Downgrade func(t *testing.T)
	// Upgraded, if set, is called once the store has been upgraded (opened
	// after Downgrade), before anything else is written: a store's own
	// checks of what it derived.
	Upgraded func(t *testing.T, s store.Store)
}

// RunTallyUpgrade checks a store's upgrade to tallies: the tallies the
// upgrade derives from the records (tally.Replayer) are those its commits
// added (tally.Of), an outbox item pending at the upgrade moves its send's
// delivery tally when settled after it, and an active instance gets the
// stages it had visited.
func RunTallyUpgrade(t *testing.T, u TallyUpgrade) {
	s := u.Open(t)
	if _, ok := s.(store.Tallies); !ok {
		t.Skipf("%T does not implement store.Tallies", s)
	}
	h0 := tally.Cohort(T0)
	entered := func(id string, d time.Duration) engine.Transition {
		return engine.Transition{Instance: id + "/j/1", Journey: "j", Version: "v1", To: "s", Cause: "entry:e",
			Status: engine.StatusActive, At: T0.Add(d), Entered: T0.Add(d), Visit: 1, First: true}
	}
	moved := func(from engine.Transition, to, status string, d time.Duration) engine.Transition {
		m := from
		m.From, m.To, m.Since, m.At, m.Visit, m.Cause, m.Status = from.To, to, from.At, from.Entered.Add(d), from.Visit+1, "goto", status
		m.First = to != "s"
		return m
	}
	mail := func(tr engine.Transition) engine.Send {
		sd := send(tr.Instance, "mail", 1, engine.FateDeliver, tr.At)
		sd.Entered = tr.Entered
		return sd
	}
	// a: enters, gets a mail (delivered before the upgrade) and answers a
	// survey, moves on to t and is still there at the upgrade.
	aIn := entered("a", 0)
	aT := moved(aIn, "t", engine.StatusActive, time.Hour)
	wa := simple("a", "j", "t", time.Time{})
	wa.Results = []engine.Result{{Transitions: []engine.Transition{aIn}, Sends: []engine.Send{mail(aIn)},
		Responses: []engine.Response{{Metric: "nps", Journey: "j", Instance: aIn.Instance, Stage: "s", Value: 9, At: aIn.At, Entered: aIn.Entered}}},
		{Transitions: []engine.Transition{aT}}}
	// b: enters an hour later and completes; its mail is pending at the
	// upgrade.
	bIn := entered("b", 90*time.Minute)
	bEnd := moved(bIn, "end", engine.StatusCompleted, 2*time.Hour)
	bEnd.Cause, bEnd.Visit, bEnd.First, bEnd.Visited = "complete", 1, false, []string{"s"}
	wb := simple("b", "j", "", time.Time{})
	wb.Results = []engine.Result{{Transitions: []engine.Transition{bIn, bEnd}, Sends: []engine.Send{mail(bIn)}}}
	// c: in journey k, between a's records and b's (the upgrade replays
	// them all in commit order), answering a survey in no journey too.
	cIn := entered("c", 30*time.Minute)
	cIn.Instance, cIn.Journey = "c/k/1", "k"
	wc := simple("c", "k", "s", time.Time{})
	wc.Results = []engine.Result{{Transitions: []engine.Transition{cIn}, Sends: []engine.Send{mail(cIn)},
		Responses: []engine.Response{{Metric: "csat", Value: 5, At: cIn.At}}}}
	commit(t, s, wa)
	commit(t, s, wc)
	commit(t, s, wb)
	if err := s.Delivered(bg, mail(aIn).Key, T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	live := upgradeSums(t, s, h0-1, h0+3)
	if len(live) == 0 {
		t.Fatal("no tallies before the upgrade: the commits added none")
	}
	records := upgradeRecords(t, s)
	closeIt(t, s)

	u.Downgrade(t)
	s = u.Open(t)
	if u.Upgraded != nil {
		u.Upgraded(t, s)
	}
	if got := upgradeSums(t, s, h0-1, h0+3); !sameTallies(got, live) {
		same(t, "tallies derived at the upgrade (want: those the commits added)", got, live)
	}
	same(t, "journey records after the upgrade", upgradeRecords(t, s), records)
	if in := mustCustomer(t, s, "a").Instances[0]; !slices.Equal(in.Visited, []string{"s", "t"}) {
		t.Errorf("a's instance visited %q after the upgrade, want [s t]", in.Visited)
	}
	// b's mail, pending at the upgrade, is delivered after it: its send
	// moves from pending to delivered in b's cohort.
	if err := s.Delivered(bg, mail(bIn).Key, T0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	want := tally.Merge(append(slices.Clone(live), tally.Delivery("j", "mail", h0+1, store.DeliveryDelivered)...))
	for i := range want {
		want[i].Journey, want[i].Cohort = "", 0
	}
	want = tally.Merge(want)
	if got := upgradeSums(t, s, h0-1, h0+3); !sameTallies(got, want) {
		same(t, "tallies after delivering a mail pending at the upgrade", got, want)
	}
}

func upgradeSums(t *testing.T, s store.Store, from, to int64) []store.Tally {
	t.Helper()
	got, err := s.(store.Tallies).SumTallies(bg, []string{"j", "k", ""}, from, to)
	if err != nil {
		t.Fatalf("SumTallies: %v", err)
	}
	slices.SortFunc(got, func(x, y store.Tally) int {
		return strings.Compare(x.Kind+"\x00"+x.A+"\x00"+x.B, y.Kind+"\x00"+y.A+"\x00"+y.B)
	})
	return got
}

// sameTallies compares sums, their float sums within rounding.
func sameTallies(a, b []store.Tally) bool {
	return slices.EqualFunc(a, b, func(x, y store.Tally) bool {
		return x.Kind == y.Kind && x.A == y.A && x.B == y.B && x.N == y.N && math.Abs(x.Sum-y.Sum) <= 1e-9*max(1, math.Abs(x.Sum))
	})
}

func upgradeRecords(t *testing.T, s store.Store) []string {
	t.Helper()
	var out []string
	err := s.(store.JourneyRecords).JourneyRecords(bg, "j", T0.Add(24*time.Hour), func(r store.JourneyRecord) error {
		switch {
		case r.Transition != nil:
			out = append(out, "transition "+r.Transition.Instance+" "+r.Transition.From+">"+r.Transition.To)
		case r.Send != nil:
			out = append(out, "send "+r.Send.Instance+" "+r.Send.Name+" "+r.Send.Delivery)
		case r.Response != nil:
			out = append(out, "response "+r.Response.Instance+" "+r.Response.Metric)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("JourneyRecords: %v", err)
	}
	return out
}
