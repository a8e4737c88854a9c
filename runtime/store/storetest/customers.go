package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// testListCustomers: customers come in id order, page by page, filtered by
// id prefix and by a trait's value as text; Scan bounds the reading and
// hands back a cursor that loses nobody.
func testListCustomers(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	l, ok := s.(store.CustomerLister)
	if !ok {
		t.Skip("the store does not implement store.CustomerLister")
	}
	traits := map[string]map[string]any{
		"acme/1": {"plan": "premium", "seats": float64(10), "vip": true},
		"acme/2": {"plan": "free", "seats": json.Number("2.5")},
		"acme/3": {"plan": "premium", "tags": []any{"premium"}},
		"acme0":  {"plan": "premium"},
		"bolt/1": {"plan": "premium", "seats": int64(10)},
		"bolt/2": nil,
		"ÿÿ":     {"plan": "premium"},
	}
	var ws []store.CustomerWrite
	for id, tr := range traits {
		w := simple(id, "j", "s", time.Time{})
		w.State.Traits = tr
		ws = append(ws, w)
	}
	commit(t, s, ws...)
	list := func(q store.CustomerQuery) ([]string, string) {
		t.Helper()
		p, err := l.ListCustomers(bg, q)
		if err != nil {
			t.Fatalf("ListCustomers(%+v): %v", q, err)
		}
		var ids []string
		for _, c := range p.Customers {
			ids = append(ids, c.ID)
		}
		return ids, p.Next
	}
	for _, tc := range []struct {
		q    store.CustomerQuery
		want []string
	}{
		{store.CustomerQuery{Limit: 100}, []string{"acme/1", "acme/2", "acme/3", "acme0", "bolt/1", "bolt/2", "ÿÿ"}},
		{store.CustomerQuery{Limit: 100, IDPrefix: "acme/"}, []string{"acme/1", "acme/2", "acme/3"}},
		{store.CustomerQuery{Limit: 100, IDPrefix: "ÿ"}, []string{"ÿÿ"}},
		{store.CustomerQuery{Limit: 100, IDPrefix: "zz"}, nil},
		{store.CustomerQuery{Limit: 100, Trait: "plan", Value: "premium"}, []string{"acme/1", "acme/3", "acme0", "bolt/1", "ÿÿ"}},
		{store.CustomerQuery{Limit: 100, IDPrefix: "acme", Trait: "plan", Value: "premium"}, []string{"acme/1", "acme/3", "acme0"}},
		{store.CustomerQuery{Limit: 100, Trait: "seats", Value: "10"}, []string{"acme/1", "bolt/1"}},
		{store.CustomerQuery{Limit: 100, Trait: "seats", Value: "2.5"}, []string{"acme/2"}},
		{store.CustomerQuery{Limit: 100, Trait: "vip", Value: "true"}, []string{"acme/1"}},
		{store.CustomerQuery{Limit: 100, Trait: "tags", Value: "premium"}, nil},
		{store.CustomerQuery{Limit: 100, After: "acme0"}, []string{"bolt/1", "bolt/2", "ÿÿ"}},
		{store.CustomerQuery{Limit: 100, After: "acme/2", IDPrefix: "acme/"}, []string{"acme/3"}},
		{store.CustomerQuery{Limit: 100, After: "a", IDPrefix: "bolt"}, []string{"bolt/1", "bolt/2"}},
	} {
		got, next := list(tc.q)
		if !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("ListCustomers(%+v) = %q, want %q", tc.q, got, tc.want)
		}
	}

	// Pages by Limit: the cursor is the last id given.
	got, next := list(store.CustomerQuery{Limit: 2, Trait: "plan", Value: "premium"})
	if !slices.Equal(got, []string{"acme/1", "acme/3"}) || next != "acme/3" {
		t.Errorf("first page: %q next %q", got, next)
	}
	// Pages by Scan: however the budget falls, following Next finds every
	// match once and ends with an empty Next.
	for scan := 1; scan <= 8; scan++ {
		var all []string
		q := store.CustomerQuery{Limit: 100, Scan: scan, Trait: "plan", Value: "premium"}
		for range 20 {
			got, next := list(q)
			all = append(all, got...)
			if next == "" {
				break
			}
			q.After = next
		}
		if want := []string{"acme/1", "acme/3", "acme0", "bolt/1", "ÿÿ"}; !slices.Equal(all, want) {
			t.Errorf("Scan %d: followed to the end: %q, want %q", scan, all, want)
		}
	}

	// The summary: traits, active instances, next wake.
	w := simple("wake", "j", "s", at(time.Hour))
	w.State.Instances[0].Waits = []engine.Wait{{Kind: engine.WaitAfter, Due: at(time.Hour)}}
	commit(t, s, w)
	p, err := l.ListCustomers(bg, store.CustomerQuery{Limit: 1, IDPrefix: "wake"})
	if err != nil || len(p.Customers) != 1 {
		t.Fatalf("ListCustomers(wake): %+v, %v", p, err)
	}
	same(t, "summary", p.Customers[0], store.CustomerSummary{ID: "wake", Traits: map[string]any{},
		Active: []store.ActiveStage{{Journey: "j", Stage: "s"}}, NextWake: at(time.Hour)})
	if p, err := l.ListCustomers(bg, store.CustomerQuery{}); err != nil || len(p.Customers) != 0 {
		t.Errorf("ListCustomers with no limit: %+v, %v", p, err)
	}
}

// testReceived: the inputs a write says it handled are kept in its commit,
// per customer in order, with their place among the commit's records
// (Seq), and forgotten with the history.
func testReceived(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	rh, ok := s.(store.ReceivedHistory)
	if !ok {
		t.Skip("the store does not implement store.ReceivedHistory")
	}
	in := func(kind, name, msg string, d time.Duration) store.Received {
		return store.Received{Kind: kind, Name: name, MessageID: msg, At: at(d)}
	}
	a := simple("a", "j", "s", time.Time{})
	a.Received = []store.Received{in(engine.KindEvent, "signed_up", "m1", 0), in(engine.KindIdentify, "", "", time.Second)}
	a.Received[0].Seq, a.Received[1].Seq = 1, 4
	b := simple("b", "", "", time.Time{})
	b.Received = []store.Received{in(engine.KindEvent, "ordered", "m2", 0)}
	commit(t, s, a, b)
	a2 := simple("a", "j", "s", time.Time{})
	a2.Received = []store.Received{in(engine.KindEvent, "ping", "m3", 48*time.Hour)}
	commit(t, s, a2)
	get := func(id string) []store.Received {
		t.Helper()
		rs, err := rh.Received(bg, id)
		if err != nil {
			t.Fatalf("Received(%q): %v", id, err)
		}
		return rs
	}
	same(t, "a's inputs", get("a"), append(slices.Clone(a.Received), a2.Received...))
	same(t, "b's inputs", get("b"), b.Received)
	if rs := get("nobody"); len(rs) != 0 {
		t.Errorf("Received(nobody) = %v", rs)
	}

	// A failed commit keeps none of its inputs.
	bad := simple("a", "j", "s", time.Time{})
	bad.Received = []store.Received{in(engine.KindEvent, "lost", "m4", 49*time.Hour)}
	if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{bad, {}}}); err == nil {
		t.Fatal("a batch with a write without a state committed")
	}
	same(t, "a's inputs after a failed commit", get("a"), append(slices.Clone(a.Received), a2.Received...))

	if p, ok := s.(store.HistoryPruner); ok {
		if _, _, err := p.PruneHistory(bg, at(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		same(t, "a's inputs after a prune", get("a"), a2.Received)
		if rs := get("b"); len(rs) != 0 {
			t.Errorf("b's inputs after a prune: %v", rs)
		}
	}
}

// testErase: an erase leaves nothing of the customer — state, indexes,
// history, received inputs, outbox items in every state — and nothing of
// anybody else is touched, the customer "a/b" whose keys share the prefix
// "a/" included. Message ids stay (they are not the customer's). The id
// then starts a new customer.
func testErase(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	er, ok := s.(store.Eraser)
	if !ok {
		t.Skip("the store does not implement store.Eraser")
	}
	a := simple("a", "j", "s", at(time.Hour))
	a.MessageIDs = []string{"a-m1"}
	a.Received = []store.Received{{Kind: engine.KindEvent, Name: "e", MessageID: "a-m1", At: at(0)}}
	sends := []engine.Send{
		send("a/j/1", "pending", 1, engine.FateDeliver, at(0)),
		send("a/j/1", "dead", 1, engine.FateDeliver, at(0)),
		send("a/j/1", "delivered", 1, engine.FateDeliver, at(0)),
		send("a/j/1", "failed", 1, engine.FateFailed, at(0)),
	}
	a.Results = []engine.Result{{
		Transitions: []engine.Transition{{Instance: "a/j/1", Journey: "j", Version: "v1", To: "s", Cause: "entry:e", Status: engine.StatusActive, At: at(0)}},
		Sends:       sends,
		Refusals:    []engine.Refusal{{Journey: "k", Event: "e", Reason: engine.RefusedReentry, At: at(0)}},
	}}
	ab := simple("a/b", "j", "s", at(time.Hour))
	ab.Results = []engine.Result{{Sends: []engine.Send{send("a/b/j/1", "pending", 1, engine.FateDeliver, at(0))}}}
	b := simple("b", "j", "s", at(time.Hour))
	b.Received = []store.Received{{Kind: engine.KindIdentify, At: at(0)}}
	commit(t, s, a, ab, b)
	// Settle a's items: one dead, one delivered, one left pending but
	// claimed (a dispatcher holds it when the erase comes).
	if err := s.Dead(bg, sends[1].Key, 3, at(time.Minute), "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(bg, sends[2].Key, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimOutbox(bg, at(time.Minute), time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("ClaimOutbox: %v, %d items; want a's and a/b's pending", err, len(claimed))
	}

	e, err := er.Erase(bg, "a")
	if err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if !e.Customer || e.Outbox != 3 || e.Cancelled != 2 || e.History < 6 {
		t.Errorf("Erase = %+v; want the customer, 3 outbox items of which 2 cancelled, at least 6 history records", e)
	}

	wantNotFound(t, s, "a")
	if trs, err := s.Transitions(bg, "a"); err != nil || len(trs) != 0 {
		t.Errorf("Transitions(a) after the erase: %v, %v", trs, err)
	}
	if ss, err := s.Sends(bg, "a"); err != nil || len(ss) != 0 {
		t.Errorf("Sends(a) after the erase: %v, %v", ss, err)
	}
	if eh, ok := s.(store.EventHistory); ok {
		if evs, err := eh.Events(bg, "a"); err != nil || len(evs) != 0 {
			t.Errorf("Events(a) after the erase: %v, %v", evs, err)
		}
	}
	if rh, ok := s.(store.ReceivedHistory); ok {
		if rs, err := rh.Received(bg, "a"); err != nil || len(rs) != 0 {
			t.Errorf("Received(a) after the erase: %v, %v", rs, err)
		}
		if rs, err := rh.Received(bg, "b"); err != nil || len(rs) != 1 {
			t.Errorf("Received(b) after a's erase: %v, %v", rs, err)
		}
	}
	wakes, err := s.Due(bg, at(48*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	var woken []string
	for _, w := range wakes {
		woken = append(woken, w.CustomerID)
	}
	same(t, "due after the erase", woken, []string{"a/b", "b"})
	act, err := s.ActiveCustomers(bg, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "active customers after the erase", act, []string{"a/b", "b"})
	counts, err := s.StageCounts(bg)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "stage counts after the erase", counts, []store.StageCount{{Journey: "j", Version: "v1", Stage: "s", Active: 2}})
	if q, ok := s.(store.DeadLetterQueue); ok {
		if ds, err := q.DeadLetters(bg, "", 10); err != nil || len(ds) != 0 {
			t.Errorf("dead letters after the erase: %+v, %v", ds, err)
		}
	}
	if f, ok := s.(store.FailedSendLister); ok {
		if fs, err := f.FailedSends(bg, "", 10); err != nil || len(fs) != 0 {
			t.Errorf("failed sends after the erase: %+v, %v", fs, err)
		}
	}
	// The claimed item is gone: not deliverable, and settling it says so.
	for _, sd := range sends[:3] {
		if ok, err := er.Deliverable(bg, sd.Key); err != nil || ok {
			t.Errorf("Deliverable(%s) after the erase = %v, %v", sd.Key, ok, err)
		}
	}
	if err := s.Delivered(bg, sends[0].Key, at(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivered of an erased item: %v, want ErrNotFound", err)
	}
	if ok, err := er.Deliverable(bg, "a/b/j/1/1/pending"); err != nil || !ok {
		t.Errorf("Deliverable(a/b's item) = %v, %v; want true", ok, err)
	}
	items, err := s.ClaimOutbox(bg, at(time.Hour), time.Minute, 10)
	if err != nil || len(items) != 1 || items[0].Send.Key != "a/b/j/1/1/pending" {
		t.Errorf("claim after the lease: %v %+v; want a/b's item alone", err, items)
	}
	mustCustomer(t, s, "a/b")
	mustCustomer(t, s, "b")
	if seen, err := s.SeenMessages(bg, []string{"a-m1"}); err != nil || !seen["a-m1"] {
		t.Errorf("the erase forgot a message id: %v, %v", seen, err)
	}

	// Again: nothing left, no error.
	if e, err := er.Erase(bg, "a"); err != nil || e != (store.Erased{}) {
		t.Errorf("a second Erase = %+v, %v", e, err)
	}
	// The id is a new customer, whose sends (same keys as the erased
	// ones: the same instance ids) go to the outbox afresh.
	again := simple("a", "j", "s", time.Time{})
	again.Results = []engine.Result{{Sends: []engine.Send{send("a/j/1", "delivered", 1, engine.FateDeliver, at(2*time.Hour))}}}
	commit(t, s, again)
	if ss, err := s.Sends(bg, "a"); err != nil || len(ss) != 1 || ss[0].Delivery != store.DeliveryPending {
		t.Errorf("the new a's sends: %+v, %v", ss, err)
	}
	if ok, err := er.Deliverable(bg, sends[2].Key); err != nil || !ok {
		t.Errorf("the new a's send under an erased key is not deliverable: %v, %v", ok, err)
	}

	// Survives a reopen.
	s.Close()
	s = open(t)
	wantNotFound(t, s, "b/none")
	if trs, err := s.Transitions(bg, "a"); err != nil || len(trs) != 0 {
		t.Errorf("Transitions(a) after a reopen: %v, %v", trs, err)
	}
}

// testResponses: a customer's metric responses are read back, in order,
// with their place in their commit (Seq), and only theirs.
func testResponses(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	rh, ok := s.(store.ResponseHistory)
	if !ok {
		t.Skip("the store does not implement store.ResponseHistory")
	}
	a := simple("a", "j", "s", time.Time{})
	a.Results = []engine.Result{{Responses: []engine.Response{
		{Seq: 1, Metric: "nps", Journey: "j", Instance: "a/j/1", Stage: "s", Value: 9, At: at(0)},
		{Seq: 2, Metric: "csat", Value: 4, At: at(0)}, // in no journey
	}}}
	b := simple("b", "j", "s", time.Time{})
	b.Results = []engine.Result{{Responses: []engine.Response{{Seq: 1, Metric: "nps", Journey: "j", Instance: "b/j/1", Stage: "s", Value: 2, At: at(0)}}}}
	commit(t, s, a, b)
	a2 := simple("a", "j", "s", time.Time{})
	a2.Results = []engine.Result{{Responses: []engine.Response{{Seq: 3, Metric: "nps", Journey: "j", Instance: "a/j/1", Stage: "s", Value: 10, At: at(time.Hour)}}}}
	commit(t, s, a2)
	get := func(id string) []engine.Response {
		t.Helper()
		rs, err := rh.Responses(bg, id)
		if err != nil {
			t.Fatalf("Responses(%q): %v", id, err)
		}
		return rs
	}
	same(t, "a's responses", get("a"), append(slices.Clone(a.Results[0].Responses), a2.Results[0].Responses...))
	same(t, "b's responses", get("b"), b.Results[0].Responses)
	if rs := get("nobody"); len(rs) != 0 {
		t.Errorf("Responses(nobody) = %v", rs)
	}
}
