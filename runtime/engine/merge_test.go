package engine

import (
	"reflect"
	"testing"
	"time"
)

// Merge's rules, one conflict at a time.
func TestMerge(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	inst := func(id, journey, stage, status string) *Instance {
		return &Instance{ID: id, Journey: journey, Version: "v1", Seq: 1, Status: status, Stage: stage, Visit: 1, EnteredAt: t0,
			Waits: []Wait{{Kind: WaitAfter, Due: t0.Add(24 * time.Hour)}}}
	}
	held := func(instance, name string) Send {
		return Send{Key: instance + "/1/" + name, Journey: "j", Instance: instance, Name: name, Fate: FateHeld, At: t0, DueAt: t0.Add(8 * time.Hour)}
	}
	into := &Customer{ID: "u", Traits: map[string]any{"plan": "premium", "email": "li@example.com"},
		Instances: []*Instance{inst("u/both/1", "both", "s", StatusActive), inst("u/ended/1", "ended", "done", StatusCompleted)},
		Sends:     map[string][]time.Time{"p": {t0.Add(2 * time.Minute)}}, Seen: []string{"m1"}}
	from := &Customer{ID: "anon", Traits: map[string]any{"plan": "free", "utm": "ad"},
		Instances: []*Instance{inst("anon/both/1", "both", "t", StatusActive), inst("anon/ended/1", "ended", "x", StatusActive),
			inst("anon/only/1", "only", "w", StatusActive)},
		Held:   []Send{held("anon/only/1", "hi"), held("anon/both/1", "bye")},
		Sends:  map[string][]time.Time{"p": {t0.Add(time.Minute)}, "q": {t0}},
		Seen:   []string{"a1"},
		Merged: []string{"older"}}
	res, fromRes := Merge(into, from, now)

	if want := map[string]any{"plan": "premium", "email": "li@example.com", "utm": "ad"}; !reflect.DeepEqual(into.Traits, want) {
		t.Errorf("traits %v, want %v", into.Traits, want)
	}
	var ids []string
	for _, in := range into.Instances {
		ids = append(ids, in.ID+":"+in.Stage+":"+in.Status)
	}
	if want := []string{"u/both/1:s:active", "u/ended/1:done:completed", "u/only/1:w:active"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("instances %v, want %v", ids, want)
	}
	wantFrom := []Transition{
		// Runs that end here carry their analytics context; the one that
		// goes on under into's name does not (the tallies follow the run).
		{Seq: 1, Instance: "anon/both/1", Journey: "both", Version: "v1", From: "t", To: "end", Cause: CauseMerged, Status: StatusExited, At: now, Entered: t0, Visit: 1},
		{Seq: 2, Instance: "anon/ended/1", Journey: "ended", Version: "v1", From: "x", To: "end", Cause: CauseMerged, Status: StatusExited, At: now, Entered: t0, Visit: 1},
		{Seq: 3, Instance: "anon/only/1", Journey: "only", Version: "v1", From: "w", To: "end", Cause: CauseMerged, Status: StatusExited, At: now},
	}
	wantInto := []Transition{
		{Seq: 4, Instance: "u/only/1", Journey: "only", Version: "v1", From: "w", To: "w", Cause: CauseMerged, Status: StatusActive, At: now, Entered: t0, Visit: 1},
	}
	if !reflect.DeepEqual(fromRes.Transitions, wantFrom) || !reflect.DeepEqual(res.Transitions, wantInto) {
		t.Errorf("transitions\n%+v\n%+v\nwant\n%+v\n%+v", fromRes.Transitions, res.Transitions, wantFrom, wantInto)
	}
	if len(into.Held) != 1 || into.Held[0].Key != "u/only/1/1/hi" || into.Held[0].Instance != "u/only/1" || into.Held[0].Fate != FateHeld {
		t.Errorf("held %+v: want anon/only's send re-keyed", into.Held)
	}
	if len(fromRes.Sends) != 1 || fromRes.Sends[0].Key != "anon/both/1/1/bye" || fromRes.Sends[0].Fate != FateDropped || fromRes.Sends[0].Reason != CauseMerged || !fromRes.Sends[0].Entered.Equal(t0) || len(res.Sends) != 0 {
		t.Errorf("sends %+v %+v: want the held send of the ended instance dropped, under anon", fromRes.Sends, res.Sends)
	}
	if want := map[string][]time.Time{"p": {t0.Add(time.Minute), t0.Add(2 * time.Minute)}, "q": {t0}}; !reflect.DeepEqual(into.Sends, want) {
		t.Errorf("cap counters %v", into.Sends)
	}
	if !reflect.DeepEqual(into.Seen, []string{"m1", "a1"}) || !reflect.DeepEqual(into.Merged, []string{"anon", "older"}) {
		t.Errorf("seen %v, merged %v", into.Seen, into.Merged)
	}
	if !reflect.DeepEqual(*from, Customer{ID: "anon", Seqs: map[string]int{"both": 1, "ended": 1, "only": 1}}) {
		t.Errorf("from after the merge: %+v", from)
	}
	if !res.NextWake.Equal(into.NextWake()) || res.NextWake.IsZero() {
		t.Errorf("NextWake %v", res.NextWake)
	}

	// Merging an empty customer changes nothing but Merged.
	before := *into
	res, fromRes = Merge(into, &Customer{ID: "nobody"}, now)
	if len(res.Transitions)+len(res.Sends)+len(fromRes.Transitions)+len(fromRes.Sends) != 0 || len(into.Instances) != len(before.Instances) {
		t.Errorf("merging an empty customer: %+v", res)
	}
}

// A customer a merge emptied starts its next run of a journey after the
// runs the merge took away: reusing their ids would reuse their send keys,
// and the outbox, which keeps the first item under a key, would never send
// the new run's messages.
func TestMergedCustomerRunsAfresh(t *testing.T) {
	e := newEngine(t, compile(t, `
journey "welcome" {
  entry "signup" {}
  stage "hello" {
    send "hi" {
      channel = channel.log
      data    = { text = "hi" }
    }
    after "1d" { goto = end }
  }
}
`), Options{})
	keys := func(r Result) []string {
		var ks []string
		for _, s := range r.Sends {
			ks = append(ks, s.Key)
		}
		return ks
	}
	anon := newSim(t, e, "anon", nil)
	first := keys(anon.event("signup", nil))
	known := newSim(t, e, "known", nil)
	Merge(known.c, anon.c, anon.now)
	again := keys(anon.event("signup", nil))
	if len(first) != 1 || len(again) != 1 {
		t.Fatalf("sends %v then %v, want one each", first, again)
	}
	if first[0] == again[0] {
		t.Fatalf("the run after the merge reuses the send key %s of the run the merge took away", again[0])
	}
	if in := anon.inst("welcome"); in == nil || in.ID != "anon/welcome/2" {
		t.Errorf("instance after the merge %+v, want anon/welcome/2", in)
	}
	// And a second merge of the same id goes on counting.
	Merge(known.c, anon.c, anon.now)
	if third := keys(anon.event("signup", nil)); len(third) != 1 || third[0] == again[0] || third[0] == first[0] {
		t.Errorf("third run's sends %v, want a new key", third)
	}
}
