package storetest

import (
	"encoding/json"
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
// per customer in order, and forgotten with the history.
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
