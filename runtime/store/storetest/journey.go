package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// testJourneyRecords checks store.JourneyRecords where a store has it: one
// journey's transitions and sends across customers, in commit order, before
// until, with the delivery state of a delivered send.
func testJourneyRecords(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	jr, ok := s.(store.JourneyRecords)
	if !ok {
		t.Skipf("%T does not implement store.JourneyRecords: its analytics are not served", s)
	}
	write := func(id, j string, d time.Duration, trs []engine.Transition, sds []engine.Send) store.CustomerWrite {
		w := simple(id, j, "s", time.Time{})
		w.Results = []engine.Result{{Transitions: trs, Sends: sds}}
		return w
	}
	tr := func(inst, j, from, to string, d time.Duration) engine.Transition {
		return engine.Transition{Instance: inst, Journey: j, Version: "v1", From: from, To: to, Cause: "c", Status: engine.StatusActive, At: at(d)}
	}
	a, b, c := "a/j/1", "b/j/1", "c/k/1"
	sa := send(a, "mail", 1, engine.FateDeliver, at(time.Second))
	commit(t, s, write("a", "j", 0, []engine.Transition{tr(a, "j", "", "s", 0)}, []engine.Send{sa}),
		write("c", "k", 0, []engine.Transition{tr(c, "k", "", "s", 0)}, nil))
	commit(t, s, write("b", "j", 0, []engine.Transition{tr(b, "j", "", "s", 2*time.Second)},
		[]engine.Send{send(b, "mail", 1, engine.FateSuppressed, at(2*time.Second))}))
	commit(t, s, write("a", "j", 0, []engine.Transition{tr(a, "j", "s", "t", time.Hour)}, nil))
	// Metric responses: one in j (read), one in k and one in no journey
	// (neither is a record of j), committed with a transition of j.
	w := write("b", "j", 0, []engine.Transition{tr(b, "j", "s", "u", 3*time.Second)}, nil)
	w.Results[0].Responses = []engine.Response{
		{Metric: "nps", Journey: "j", Instance: b, Stage: "s", Value: 9, At: at(3 * time.Second)},
		{Metric: "nps", Journey: "k", Instance: c, Stage: "s", Value: 2, At: at(3 * time.Second)},
		{Metric: "nps", Value: 7, At: at(3 * time.Second)},
	}
	commit(t, s, w)
	if err := s.Delivered(bg, sa.Key, at(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := jr.JourneyRecords(bg, "j", at(time.Hour), func(r store.JourneyRecord) error {
		switch {
		case r.Transition != nil:
			got = append(got, "transition "+r.Transition.Instance+" "+r.Transition.From+">"+r.Transition.To+" "+r.Transition.At.Format(time.RFC3339))
		case r.Send != nil:
			got = append(got, "send "+r.Send.Instance+" "+r.Send.Name+" "+r.Send.Fate+" "+r.Send.Delivery)
		case r.Response != nil:
			p := r.Response
			got = append(got, fmt.Sprintf("response %s %s %s %s %g %s", p.Metric, p.Journey, p.Instance, p.Stage, p.Value, p.At.Format(time.RFC3339)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "records of j before T0+1h", got, []string{
		"transition a/j/1 >s " + at(0).Format(time.RFC3339),
		"send a/j/1 mail deliver delivered",
		"transition b/j/1 >s " + at(2*time.Second).Format(time.RFC3339),
		"send b/j/1 mail suppressed ",
		"transition b/j/1 s>u " + at(3*time.Second).Format(time.RFC3339),
		"response nps j b/j/1 s 9 " + at(3*time.Second).Format(time.RFC3339),
	})
}
