package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Run runs the conformance suite against the stores open makes.
//
// open is called with the test (or subtest) the store is for. The first call
// with a given t must return a store on a new, empty database; a later call
// with the same t (made only after the previous store of t was closed) must
// open that same database again: that is how the suite checks that
// everything survives Close. open fails t itself if it cannot open. The
// suite closes every store it gets (Close may be called twice).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	o := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Empty", testEmpty},
		{"StateRoundTrip", testStateRoundTrip},
		{"CommitAtomic", testCommitAtomic},
		{"SameCustomerTwice", testSameCustomerTwice},
		{"Due", testDue},
		{"ActiveCustomers", testActiveCustomers},
		{"OutboxIdempotent", testOutboxIdempotent},
		{"OutboxLifecycle", testOutboxLifecycle},
		{"DeadLetters", testDeadLetters},
		{"FailedSends", testFailedSends},
		{"SeenMessages", testSeenMessages},
		{"History", testHistory},
		{"Events", testEvents},
		{"PruneMessages", testPruneMessages},
		{"PruneHistory", testPruneHistory},
		{"StageCounts", testStageCounts},
		{"Programs", testPrograms},
		{"Reopen", testReopen},
		{"Concurrent", testConcurrent},
		{"Closed", testClosed},
		{"ListCustomers", testListCustomers},
		{"Received", testReceived},
		{"Responses", testResponses},
		{"Erase", testErase},
		{"JourneyRecords", testJourneyRecords},
		{"Tallies", testTallies},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, o) })
	}
}

var bg = context.Background()

// at is T0 plus d: the suite's times.
func at(d time.Duration) time.Time { return T0.Add(d) }

func commit(t *testing.T, s store.Store, ws ...store.CustomerWrite) {
	t.Helper()
	if err := s.Commit(bg, &store.Batch{Customers: ws}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// simple is a write of a customer with one instance of journey j in stage
// (active unless stage is ""), and the given next wake.
func simple(id, j, stage string, wake time.Time) store.CustomerWrite {
	c := &engine.Customer{ID: id}
	if j != "" {
		in := &engine.Instance{ID: id + "/" + j + "/1", Journey: j, Version: "v1", Seq: 1, Status: engine.StatusActive,
			Stage: stage, Visit: 1, EnteredAt: T0, EntryEvent: "e"}
		if stage == "" {
			in.Status, in.Stage, in.Cause, in.EndedAt = engine.StatusCompleted, "done", "complete", T0
		}
		c.Instances = []*engine.Instance{in}
	}
	return store.CustomerWrite{State: c, NextWake: wake}
}

func send(instance, name string, visit int, fate string, when time.Time) engine.Send {
	j := strings.Split(instance, "/")[1]
	return engine.Send{
		Key: fmt.Sprintf("%s/%d/%s", instance, visit, name), Journey: j, Instance: instance, Stage: "s", Name: name,
		Channel: "email", ChannelType: "smtp", Fields: map[string]any{"to": "x@example.com", "subject": name},
		Fate: fate, At: when,
	}
}

func mustCustomer(t *testing.T, s store.Store, id string) *engine.Customer {
	t.Helper()
	c, err := s.Customer(bg, id)
	if err != nil {
		t.Fatalf("Customer(%q): %v", id, err)
	}
	return c
}

func wantNotFound(t *testing.T, s store.Store, id string) {
	t.Helper()
	if c, err := s.Customer(bg, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Customer(%q) = %+v, %v; want ErrNotFound", id, c, err)
	}
}

// same fails t unless got and want are deeply equal, showing both as JSON.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func due(t *testing.T, s store.Store, until time.Time, limit int) []store.Wake {
	t.Helper()
	ws, err := s.Due(bg, until, limit)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	return ws
}

func dueIDs(t *testing.T, s store.Store, until time.Time, limit int) []string {
	t.Helper()
	var ids []string
	for _, w := range due(t, s, until, limit) {
		ids = append(ids, w.CustomerID)
	}
	return ids
}

func claim(t *testing.T, s store.Store, now time.Time, lease time.Duration, limit int) []string {
	t.Helper()
	items, err := s.ClaimOutbox(bg, now, lease, limit)
	if err != nil {
		t.Fatalf("ClaimOutbox: %v", err)
	}
	var keys []string
	for _, it := range items {
		keys = append(keys, it.Send.Key)
	}
	return keys
}

func sends(t *testing.T, s store.Store, id string) []store.SendRecord {
	t.Helper()
	rs, err := s.Sends(bg, id)
	if err != nil {
		t.Fatalf("Sends(%q): %v", id, err)
	}
	return rs
}

func transitions(t *testing.T, s store.Store, id string) []engine.Transition {
	t.Helper()
	ts, err := s.Transitions(bg, id)
	if err != nil {
		t.Fatalf("Transitions(%q): %v", id, err)
	}
	return ts
}

func seen(t *testing.T, s store.Store, ids ...string) map[string]bool {
	t.Helper()
	m, err := s.SeenMessages(bg, ids)
	if err != nil {
		t.Fatalf("SeenMessages: %v", err)
	}
	return m
}

func stageCounts(t *testing.T, s store.Store) []store.StageCount {
	t.Helper()
	cs, err := s.StageCounts(bg)
	if err != nil {
		t.Fatalf("StageCounts: %v", err)
	}
	slices.SortFunc(cs, func(a, b store.StageCount) int {
		return strings.Compare(a.Journey+"\x00"+a.Version+"\x00"+a.Stage, b.Journey+"\x00"+b.Version+"\x00"+b.Stage)
	})
	return cs
}

func testEmpty(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	wantNotFound(t, s, "nobody")
	if ws := due(t, s, at(1000*time.Hour), 10); len(ws) != 0 {
		t.Errorf("Due on an empty store: %v", ws)
	}
	if ks := claim(t, s, at(1000*time.Hour), time.Minute, 10); len(ks) != 0 {
		t.Errorf("ClaimOutbox on an empty store: %v", ks)
	}
	if m := seen(t, s, "m1"); len(m) != 0 {
		t.Errorf("SeenMessages on an empty store: %v", m)
	}
	if m := seen(t, s); m == nil || len(m) != 0 {
		t.Errorf("SeenMessages() = %v, want an empty map", m)
	}
	if ts := transitions(t, s, "nobody"); len(ts) != 0 {
		t.Errorf("Transitions: %v", ts)
	}
	if rs := sends(t, s, "nobody"); len(rs) != 0 {
		t.Errorf("Sends: %v", rs)
	}
	if cs := stageCounts(t, s); len(cs) != 0 {
		t.Errorf("StageCounts: %v", cs)
	}
	if ps, err := s.Programs(bg); err != nil || len(ps) != 0 {
		t.Errorf("Programs = %v, %v", ps, err)
	}
	if ids, err := s.ActiveCustomers(bg, "", 10); err != nil || len(ids) != 0 {
		t.Errorf("ActiveCustomers = %v, %v", ids, err)
	}
	if err := s.Commit(bg, &store.Batch{}); err != nil {
		t.Errorf("Commit of an empty batch: %v", err)
	}
	for name, err := range map[string]error{
		"Delivered": s.Delivered(bg, "nope", at(0)),
		"Retry":     s.Retry(bg, "nope", 1, at(time.Minute), "x"),
		"Dead":      s.Dead(bg, "nope", 1, at(0), "x"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of an unknown key: %v, want ErrNotFound", name, err)
		}
	}
}

// richCustomer has everything a state can hold: traits of every JSON kind,
// active and ended instances with entries and waits, held sends, cap
// records and seen ids; times with sub-second parts.
func richCustomer() *engine.Customer {
	t1 := at(1234567 * time.Microsecond)
	return &engine.Customer{
		ID: "rich",
		Traits: map[string]any{
			"email": "a@example.com", "age": float64(42), "score": 0.125, "vip": true, "nothing": nil,
			"tags":    []any{"a", "b", float64(3)},
			"address": map[string]any{"city": "Lyon", "zip": "69001", "geo": []any{45.76, 4.84}},
			"unicode": "Zoë — 東京 🚀",
		},
		Instances: []*engine.Instance{
			{
				ID: "rich/onboarding/2", Journey: "onboarding", Version: "v2", Seq: 2, Status: engine.StatusActive,
				Stage: "wait_activation", Visit: 3, EnteredAt: T0, StageEnteredAt: t1, EntryEvent: "signed_up",
				Entry: map[string]any{"plan": "pro", "seats": float64(5), "trial": map[string]any{"days": float64(14)}},
				Waits: []engine.Wait{
					{Kind: engine.WaitAfter, Index: 0, Due: at(72 * time.Hour)},
					{Kind: engine.WaitAt, Index: 1, Due: at(96*time.Hour + 500*time.Millisecond), Src: `timeadd(entry.at, "96h")`},
				},
			},
			{
				ID: "rich/winback/1", Journey: "winback", Version: "v1", Seq: 1, Status: engine.StatusConverted,
				Cause: "goal:order_completed", Stage: "offer", Visit: 2, EnteredAt: at(-240 * time.Hour),
				StageEnteredAt: at(-200 * time.Hour), EndedAt: at(-100 * time.Hour), EntryEvent: "churn_risk",
			},
		},
		Held: []engine.Send{{
			Key: "rich/onboarding/2/3/tip", Journey: "onboarding", Instance: "rich/onboarding/2", Stage: "wait_activation",
			Name: "tip", Channel: "sms", ChannelType: "webhook",
			Fields: map[string]any{"data": map[string]any{"text": "Hi", "n": float64(1)}, "headers": map[string]any{"X-A": "b"}},
			Fate:   engine.FateHeld, Reason: "quiet hours", At: t1, DueAt: at(10 * time.Hour),
		}},
		Sends: map[string][]time.Time{"marketing": {at(-2 * time.Hour), t1}, "transactional": {T0}},
		Seen:  []string{"m-1", "m-2", "m-3"},
	}
}

func testStateRoundTrip(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	c := richCustomer()
	commit(t, s, store.CustomerWrite{State: c, NextWake: c.NextWake()})
	same(t, "state after Commit", mustCustomer(t, s, "rich"), richCustomer())

	// A bare customer (no traits, nothing) round-trips too, and an update
	// replaces the whole state.
	commit(t, s, store.CustomerWrite{State: &engine.Customer{ID: "bare"}})
	same(t, "bare state", mustCustomer(t, s, "bare"), &engine.Customer{ID: "bare"})
	c2 := richCustomer()
	c2.Traits = map[string]any{"email": "new@example.com"}
	c2.Held = nil
	commit(t, s, store.CustomerWrite{State: c2, NextWake: c2.NextWake()})
	want := richCustomer()
	want.Traits = map[string]any{"email": "new@example.com"}
	want.Held = nil
	same(t, "state after an update", mustCustomer(t, s, "rich"), want)

	// Ids are compared exactly.
	wantNotFound(t, s, "RICH")
	wantNotFound(t, s, "rich ")
}

func testCommitAtomic(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	good := Write("good", 1, at(0))
	bad := simple("bad", "j", "s", at(time.Hour))
	bad.State.Traits = map[string]any{"x": math.Inf(1)} // JSON cannot encode it
	nothing := func(t *testing.T) {
		t.Helper()
		wantNotFound(t, s, "good")
		wantNotFound(t, s, "bad")
		if m := seen(t, s, "good-m1"); m["good-m1"] {
			t.Error("the failed batch's message id is seen")
		}
		if ts := transitions(t, s, "good"); len(ts) != 0 {
			t.Errorf("the failed batch left transitions: %v", ts)
		}
		if rs := sends(t, s, "good"); len(rs) != 0 {
			t.Errorf("the failed batch left sends: %v", rs)
		}
		if ks := claim(t, s, at(1000*time.Hour), time.Minute, 100); len(ks) != 0 {
			t.Errorf("the failed batch left outbox items: %v", ks)
		}
		if ws := due(t, s, at(1000*time.Hour), 100); len(ws) != 0 {
			t.Errorf("the failed batch left wakes: %v", ws)
		}
		if cs := stageCounts(t, s); len(cs) != 0 {
			t.Errorf("the failed batch left active instances: %v", cs)
		}
		if ids, _ := s.ActiveCustomers(bg, "", 10); len(ids) != 0 {
			t.Errorf("the failed batch left active customers: %v", ids)
		}
	}

	if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{good, bad}}); err == nil {
		t.Fatal("Commit of a batch with an unencodable state succeeded")
	}
	nothing(t)

	if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{good, {}}}); err == nil {
		t.Fatal("Commit of a batch with a nil state succeeded")
	}
	nothing(t)

	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{good}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context: %v, want context.Canceled", err)
	}
	nothing(t)

	// The store is none the worse.
	commit(t, s, good)
	mustCustomer(t, s, "good")
	if ks := claim(t, s, at(time.Hour), time.Minute, 100); len(ks) != 1 {
		t.Errorf("outbox after the good commit: %v", ks)
	}
}

func testSameCustomerTwice(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	w1 := Write("c", 1, at(0))
	w2 := Write("c", 2, at(time.Second))
	commit(t, s, w1, w2)
	same(t, "state", mustCustomer(t, s, "c"), Customer("c", 2, at(time.Second)))
	if ts := transitions(t, s, "c"); len(ts) != 4 || !ts[0].At.Equal(at(0)) || !ts[3].At.Equal(at(time.Second)) {
		t.Errorf("transitions of both writes, in order: %+v", ts)
	}
	if m := seen(t, s, "c-m1", "c-m2"); !m["c-m1"] || !m["c-m2"] {
		t.Errorf("message ids of both writes: %v", m)
	}
	if ws := due(t, s, at(1000*time.Hour), 10); len(ws) != 1 || ws[0].CustomerID != "c" || !ws[0].At.Equal(w2.NextWake) {
		t.Errorf("Due: %v, want c at %v (the last write's)", ws, w2.NextWake)
	}
	if cs := stageCounts(t, s); len(cs) != 2 || cs[0].Active != 1 || cs[1].Active != 1 {
		t.Errorf("StageCounts: %+v", cs)
	}
}

func testDue(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	commit(t, s,
		simple("c1", "j", "s", at(5*time.Minute)),
		simple("c2", "j", "s", at(time.Minute)),
		simple("c3", "j", "s", at(3*time.Minute)),
		simple("c4", "j", "s", time.Time{}),
		simple("c5", "", "", time.Time{}),
	)
	commit(t, s, simple("c6", "j", "s", at(time.Minute)))

	ws := due(t, s, at(3*time.Minute), 10)
	if len(ws) != 3 {
		t.Fatalf("Due(T0+3m) = %v, want c2, c6, c3", ws)
	}
	got := []string{ws[0].CustomerID, ws[1].CustomerID, ws[2].CustomerID}
	slices.Sort(got[:2]) // equal times: any order
	same(t, "Due(T0+3m)", got, []string{"c2", "c6", "c3"})
	for i, w := range ws {
		want := at(time.Minute)
		if i == 2 {
			want = at(3 * time.Minute)
		}
		if !w.At.Equal(want) {
			t.Errorf("Due: %s at %v, want %v", w.CustomerID, w.At, want)
		}
	}
	if ids := dueIDs(t, s, at(3*time.Minute), 2); len(ids) != 2 || slices.Contains(ids, "c3") {
		t.Errorf("Due(T0+3m, limit 2) = %v, want the two earliest", ids)
	}
	if ids := dueIDs(t, s, at(time.Minute-time.Microsecond), 10); len(ids) != 0 {
		t.Errorf("Due before the earliest wake = %v", ids)
	}
	if ids := dueIDs(t, s, at(time.Hour), 0); len(ids) != 0 {
		t.Errorf("Due(limit 0) = %v", ids)
	}

	// A wake with nanoseconds is due at exactly its time, and never
	// reported earlier than it is.
	odd := at(10*time.Minute + 500)
	commit(t, s, simple("c7", "j", "s", odd))
	ws = due(t, s, odd, 10)
	if len(ws) != 5 || ws[4].CustomerID != "c7" {
		t.Fatalf("Due(its exact time) = %v, want c7 last", ws)
	}
	if ws[4].At.Before(odd) || ws[4].At.Sub(odd) >= time.Millisecond {
		t.Errorf("c7's wake reported at %v, want in [%v, +1ms)", ws[4].At, odd)
	}

	// A wake that is cleared leaves the index; one that moves, moves.
	commit(t, s, simple("c2", "j", "s", time.Time{}), simple("c1", "j", "s", at(-time.Hour)))
	ws = due(t, s, at(3*time.Minute), 10)
	if len(ws) != 3 || ws[0].CustomerID != "c1" || !ws[0].At.Equal(at(-time.Hour)) {
		t.Fatalf("Due after moving c1 and clearing c2 = %v", ws)
	}
	if slices.Contains(dueIDs(t, s, at(1000*time.Hour), 100), "c2") {
		t.Error("c2 is still due after its wake was cleared")
	}
	for i := 1; i < len(ws); i++ {
		if ws[i].At.Before(ws[i-1].At) {
			t.Errorf("Due not earliest first: %v", ws)
		}
	}
}

func testActiveCustomers(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	commit(t, s,
		simple("a3", "j", "s", time.Time{}), simple("a1", "j", "s", time.Time{}),
		simple("b1", "j", "", time.Time{}), simple("a2", "k", "s", time.Time{}),
		simple("b2", "", "", time.Time{}), simple("a5", "j", "s", time.Time{}), simple("a4", "j", "s", time.Time{}),
	)
	page := func(after string, limit int) []string {
		t.Helper()
		ids, err := s.ActiveCustomers(bg, after, limit)
		if err != nil {
			t.Fatalf("ActiveCustomers: %v", err)
		}
		return ids
	}
	var all []string
	for after := ""; ; {
		ids := page(after, 2)
		if len(ids) == 0 {
			break
		}
		if len(ids) > 2 {
			t.Fatalf("page of %d with limit 2", len(ids))
		}
		all = append(all, ids...)
		after = ids[len(ids)-1]
	}
	same(t, "active customers", all, []string{"a1", "a2", "a3", "a4", "a5"})
	commit(t, s, simple("a3", "j", "", time.Time{}))
	same(t, "after a3 ended", page("", 10), []string{"a1", "a2", "a4", "a5"})
	same(t, "after a4", page("a4", 10), []string{"a5"})

	// A store that pages states agrees with ActiveCustomers and Customer.
	bulk, ok := s.(store.ActiveStateReader)
	if !ok {
		return
	}
	var ids []string
	for after := ""; ; {
		rows, err := bulk.ActiveStates(bg, after, 3)
		if err != nil {
			t.Fatalf("ActiveStates: %v", err)
		}
		if len(rows) == 0 {
			break
		}
		if len(rows) > 3 {
			t.Fatalf("ActiveStates: a page of %d with limit 3", len(rows))
		}
		for _, r := range rows {
			ids = append(ids, r.ID)
			var got engine.Customer
			if err := json.Unmarshal(r.State, &got); err != nil {
				t.Fatalf("ActiveStates: the state of %s: %v", r.ID, err)
			}
			want, err := s.Customer(bg, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			same(t, "ActiveStates state of "+r.ID, &got, want)
		}
		after = rows[len(rows)-1].ID
	}
	same(t, "ActiveStates ids", ids, []string{"a1", "a2", "a4", "a5"})
}

func testOutboxIdempotent(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	first := send("c/j/1", "hello", 1, engine.FateDeliver, at(0))
	again := first
	again.Fields = map[string]any{"to": "x@example.com", "subject": "replayed"}
	again.At = at(time.Second)
	w := simple("c", "j", "s", time.Time{})
	w.Results = []engine.Result{{Sends: []engine.Send{first}}, {Sends: []engine.Send{again}}}
	commit(t, s, w)
	w.Results = []engine.Result{{Sends: []engine.Send{again}}}
	commit(t, s, w)

	items, err := s.ClaimOutbox(bg, at(time.Hour), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("the same key three times made %d outbox items, want 1", len(items))
	}
	same(t, "the outbox item (the first decision)", items[0].Send, first)
	if items[0].Attempt != 0 {
		t.Errorf("Attempt = %d, want 0", items[0].Attempt)
	}
	rs := sends(t, s, "c")
	if len(rs) != 3 {
		t.Fatalf("history has %d sends, want every decision (3)", len(rs))
	}
	for _, r := range rs {
		if r.Delivery != store.DeliveryPending {
			t.Errorf("send %s delivery %q, want pending", r.Key, r.Delivery)
		}
	}
	if err := s.Delivered(bg, first.Key, at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A replay of a delivered send does not enqueue it again.
	commit(t, s, w)
	if ks := claim(t, s, at(1000*time.Hour), time.Minute, 100); len(ks) != 0 {
		t.Errorf("a replay re-enqueued a delivered send: %v", ks)
	}
}

func testOutboxLifecycle(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	s1 := send("c/j/1", "one", 1, engine.FateDeliver, at(0))
	s2 := send("c/j/1", "two", 1, engine.FateDeliver, at(time.Second))
	held := send("c/j/1", "three", 1, engine.FateHeld, at(0))
	held.DueAt = at(time.Hour)
	dropped := send("c/j/1", "four", 1, engine.FateSuppressed, at(0))
	w := simple("c", "j", "s", at(time.Hour))
	// s2 first in the batch: claims come earliest decision first anyway.
	w.Results = []engine.Result{{Sends: []engine.Send{s2, held, dropped}}, {Sends: []engine.Send{s1}}}
	commit(t, s, w)

	if ks := claim(t, s, at(-time.Millisecond), time.Minute, 10); len(ks) != 0 {
		t.Errorf("claimed before the sends were decided: %v", ks)
	}
	t1 := at(time.Second)
	same(t, "first claim, limit 1", claim(t, s, t1, time.Minute, 1), []string{s1.Key})
	same(t, "second claim (one is leased)", claim(t, s, t1, time.Minute, 10), []string{s2.Key})
	if ks := claim(t, s, t1.Add(30*time.Second), time.Minute, 10); len(ks) != 0 {
		t.Errorf("claimed leased items: %v", ks)
	}
	// The dispatcher died: the leases run out and both come back.
	t2 := t1.Add(time.Minute + time.Millisecond)
	same(t, "claim after the leases ran out", claim(t, s, t2, time.Minute, 10), []string{s1.Key, s2.Key})

	next := t2.Add(10 * time.Second)
	if err := s.Retry(bg, s1.Key, 1, next, "connection refused"); err != nil {
		t.Fatal(err)
	}
	if err := s.Dead(bg, s2.Key, 1, t2, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if ks := claim(t, s, next.Add(-time.Millisecond), time.Minute, 10); len(ks) != 0 {
		t.Errorf("claimed before the retry was due: %v", ks)
	}
	items, err := s.ClaimOutbox(bg, next, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Send.Key != s1.Key || items[0].Attempt != 1 {
		t.Fatalf("claim at the retry time = %+v, want %s with 1 attempt", items, s1.Key)
	}
	deliveredAt := next.Add(time.Second)
	if err := s.Delivered(bg, s1.Key, deliveredAt); err != nil {
		t.Fatal(err)
	}
	if ks := claim(t, s, at(1000*time.Hour), time.Minute, 10); len(ks) != 0 {
		t.Errorf("claimed delivered or dead items: %v", ks)
	}
	// Late settlements of settled items change nothing.
	if err := s.Retry(bg, s1.Key, 5, next, "late"); err != nil {
		t.Errorf("Retry of a delivered item: %v", err)
	}
	if err := s.Delivered(bg, s1.Key, deliveredAt.Add(time.Hour)); err != nil {
		t.Errorf("Delivered twice: %v", err)
	}
	if err := s.Retry(bg, s2.Key, 2, next, "late"); err != nil {
		t.Errorf("Retry of a dead item: %v", err)
	}
	if ks := claim(t, s, at(1000*time.Hour), time.Minute, 10); len(ks) != 0 {
		t.Errorf("a late settlement revived an item: %v", ks)
	}

	rs := sends(t, s, "c")
	if len(rs) != 4 {
		t.Fatalf("Sends = %d records, want 4", len(rs))
	}
	byName := map[string]store.SendRecord{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	if r := byName["one"]; r.Delivery != store.DeliveryDelivered || r.Attempts != 2 || !r.DeliveredAt.Equal(deliveredAt) {
		t.Errorf("one: delivery %q, %d attempts, delivered at %v; want delivered, 2, %v", r.Delivery, r.Attempts, r.DeliveredAt, deliveredAt)
	}
	if r := byName["two"]; r.Delivery != store.DeliveryDead || r.Attempts != 1 || r.LastError != "550 no such user" {
		t.Errorf("two: delivery %q, %d attempts, error %q; want dead, 1, the error", r.Delivery, r.Attempts, r.LastError)
	}
	for _, n := range []string{"three", "four"} {
		if r := byName[n]; r.Delivery != "" || r.Attempts != 0 {
			t.Errorf("%s (fate %s) has a delivery state %q", n, r.Fate, r.Delivery)
		}
	}
}

func testSeenMessages(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	w := simple("c", "", "", time.Time{})
	w.MessageIDs = []string{"m1", "m2", "m2"} // twice: kept once, no failure
	commit(t, s, w)
	w.MessageIDs = []string{"m3", "m1"}
	commit(t, s, w)
	same(t, "seen", seen(t, s, "m1", "m2", "m3", "m4", "m1"), map[string]bool{"m1": true, "m2": true, "m3": true})

	// Many ids at once, in both directions.
	var ids, asked []string
	for i := range 3000 {
		ids = append(ids, fmt.Sprintf("bulk-%d", i))
		asked = append(asked, fmt.Sprintf("bulk-%d", i), fmt.Sprintf("other-%d", i))
	}
	w.MessageIDs = ids
	commit(t, s, w)
	m := seen(t, s, asked...)
	if len(m) != 3000 {
		t.Errorf("SeenMessages of 6000 ids found %d, want 3000", len(m))
	}
	for _, id := range ids {
		if !m[id] {
			t.Fatalf("%s not seen", id)
		}
	}
}

func testHistory(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	// Each transition's Seq (its place in its commit) is kept with it.
	tr := func(from, to string, d time.Duration) engine.Transition {
		return engine.Transition{Seq: 1 + int(d/time.Second), Instance: "c/j/1", Journey: "j", Version: "v1", From: from, To: to, Cause: "on:x", Status: engine.StatusActive, At: at(d)}
	}
	heldSend := send("c/j/1", "hi", 1, engine.FateHeld, at(time.Second))
	heldSend.DueAt, heldSend.Reason = at(time.Hour), "quiet hours"
	released := heldSend
	released.Fate, released.Reason, released.At, released.DueAt = engine.FateDeliver, "", at(time.Hour), time.Time{}
	capped := send("c/j/1", "again", 2, engine.FateCapped, at(2*time.Hour))
	capped.Reason = "1 per 1d"

	w := simple("c", "j", "b", time.Time{})
	w.Results = []engine.Result{
		{Transitions: []engine.Transition{tr("", "a", 0), tr("a", "b", time.Second)}, Sends: []engine.Send{heldSend}},
		{Transitions: []engine.Transition{tr("b", "b", 2*time.Second)}},
	}
	other := simple("d", "j", "x", time.Time{})
	other.Results = []engine.Result{{Transitions: []engine.Transition{{Instance: "d/j/1", Journey: "j", Version: "v1", To: "x", Cause: "entry:e", Status: engine.StatusActive, At: at(0)}}}}
	commit(t, s, w, other)
	end := tr("b", "end", time.Hour)
	end.Status, end.Cause = engine.StatusCompleted, "complete"
	w.Results = []engine.Result{{Transitions: []engine.Transition{end}, Sends: []engine.Send{released, capped}}}
	commit(t, s, w)

	same(t, "transitions", transitions(t, s, "c"),
		[]engine.Transition{tr("", "a", 0), tr("a", "b", time.Second), tr("b", "b", 2*time.Second), end})
	if ts := transitions(t, s, "d"); len(ts) != 1 || ts[0].To != "x" {
		t.Errorf("transitions of d: %+v", ts)
	}
	rs := sends(t, s, "c")
	var got []engine.Send
	for _, r := range rs {
		got = append(got, r.Send)
	}
	same(t, "sends, every decision in order", got, []engine.Send{heldSend, released, capped})
	if rs[0].Delivery != "" || rs[1].Delivery != store.DeliveryPending || rs[2].Delivery != "" {
		t.Errorf("delivery states %q %q %q, want only the released send's (pending)", rs[0].Delivery, rs[1].Delivery, rs[2].Delivery)
	}
	if err := s.Delivered(bg, released.Key, at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rs := sends(t, s, "c"); rs[1].Delivery != store.DeliveryDelivered || rs[0].Delivery != "" {
		t.Errorf("after delivery: %q %q", rs[0].Delivery, rs[1].Delivery)
	}
	if rs := sends(t, s, "d"); len(rs) != 0 {
		t.Errorf("sends of d: %+v", rs)
	}
}

func testEvents(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	eh, ok := s.(store.EventHistory)
	if !ok {
		t.Skip("the store does not implement store.EventHistory")
	}
	w := simple("c", "j", "s", time.Time{})
	ref := engine.Refusal{Journey: "j", Event: "signed_up", Reason: engine.RefusedReentry, Detail: "never", At: at(0)}
	e := engine.Error{At: at(time.Second), Journey: "j", Instance: "c/j/1", Stage: "s", Where: "send hi", Message: "boom"}
	em := engine.Emitted{Event: "ping", Properties: map[string]any{"n": float64(1)}, Journey: "j", Instance: "c/j/1", Stage: "s", Depth: 1, At: at(2 * time.Second)}
	w.Results = []engine.Result{{Refusals: []engine.Refusal{ref}, Errors: []engine.Error{e}, Emitted: []engine.Emitted{em}}}
	commit(t, s, w)
	evs, err := eh.Events(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "events", evs, []store.Event{
		{Kind: store.EventRefusal, Refusal: &ref},
		{Kind: store.EventError, Error: &e},
		{Kind: store.EventEmit, Emitted: &em},
	})
	if evs, err := eh.Events(bg, "nobody"); err != nil || len(evs) != 0 {
		t.Errorf("Events(nobody) = %v, %v", evs, err)
	}
}

func testPruneMessages(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	p, ok := s.(store.MessagePruner)
	if !ok {
		t.Skip("the store does not implement store.MessagePruner")
	}
	w := simple("c", "", "", time.Time{})
	w.MessageIDs = []string{"m1", "m2"}
	commit(t, s, w)
	// The ids were committed now (wall clock): a window reaching back a
	// day keeps them, one ending in the future forgets them.
	if n, err := p.PruneMessages(bg, time.Now().Add(-24*time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneMessages(a day ago) = %d, %v; want 0", n, err)
	}
	same(t, "seen after a prune of older ids", seen(t, s, "m1", "m2"), map[string]bool{"m1": true, "m2": true})
	if n, err := p.PruneMessages(bg, time.Now().Add(time.Minute)); err != nil || n != 2 {
		t.Errorf("PruneMessages(in a minute) = %d, %v; want 2", n, err)
	}
	if m := seen(t, s, "m1", "m2"); len(m) != 0 {
		t.Errorf("seen after the prune: %v", m)
	}
}

func testStageCounts(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	two := simple("c5", "onboarding", "welcome", time.Time{})
	two.State.Instances = append(two.State.Instances, &engine.Instance{
		ID: "c5/winback/1", Journey: "winback", Version: "v1", Seq: 1, Status: engine.StatusActive, Stage: "offer", EnteredAt: T0,
	})
	v2 := simple("c4", "onboarding", "welcome", time.Time{})
	v2.State.Instances[0].Version = "v2"
	commit(t, s,
		simple("c1", "onboarding", "welcome", time.Time{}),
		simple("c2", "onboarding", "welcome", time.Time{}),
		simple("c3", "onboarding", "nudge", time.Time{}),
		v2, two,
		simple("c6", "onboarding", "", time.Time{}), // ended: not counted
	)
	same(t, "stage counts", stageCounts(t, s), []store.StageCount{
		{Journey: "onboarding", Version: "v1", Stage: "nudge", Active: 1},
		{Journey: "onboarding", Version: "v1", Stage: "welcome", Active: 3},
		{Journey: "onboarding", Version: "v2", Stage: "welcome", Active: 1},
		{Journey: "winback", Version: "v1", Stage: "offer", Active: 1},
	})
	// c1 moves on, c2 ends, c5 leaves winback: the counts follow.
	commit(t, s,
		simple("c1", "onboarding", "nudge", time.Time{}),
		simple("c2", "onboarding", "", time.Time{}),
		simple("c5", "onboarding", "welcome", time.Time{}),
	)
	same(t, "stage counts after moves", stageCounts(t, s), []store.StageCount{
		{Journey: "onboarding", Version: "v1", Stage: "nudge", Active: 2},
		{Journey: "onboarding", Version: "v1", Stage: "welcome", Active: 1},
		{Journey: "onboarding", Version: "v2", Stage: "welcome", Active: 1},
	})
}

func testPrograms(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ir1 := []byte(`{"format":"waymark.ir/v1","journeys":[]}`)
	ir2 := []byte(`{"format":"waymark.ir/v1","journeys":[{"name":"j"}]}`)
	save := func(p store.Program) {
		t.Helper()
		if err := s.SaveProgram(bg, p); err != nil {
			t.Fatalf("SaveProgram(%s): %v", p.Hash, err)
		}
	}
	save(store.Program{Hash: "h1", IR: ir1, CreatedAt: at(0)})
	save(store.Program{Hash: "h2", IR: ir2, CreatedAt: at(time.Hour)})
	save(store.Program{Hash: "h1", IR: ir1, CreatedAt: at(2 * time.Hour)}) // idempotent: the first stays
	ps, err := s.Programs(bg)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "programs, newest first", ps, []store.Program{
		{Hash: "h2", IR: ir2, CreatedAt: at(time.Hour)},
		{Hash: "h1", IR: ir1, CreatedAt: at(0)},
	})
	// A program saved without a time gets the time of saving.
	before := time.Now().Add(-time.Second)
	save(store.Program{Hash: "h3", IR: ir1})
	ps, err = s.Programs(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Hash != "h3" || ps[0].CreatedAt.Before(before) {
		t.Errorf("after saving h3 without a time: %+v", ps)
	}
}

func testReopen(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	w1, w2 := Write("c1", 1, at(0)), Write("c2", 1, at(time.Second))
	commit(t, s, w1, w2)
	commit(t, s, simple("c3", "j", "", time.Time{}))
	if err := s.SaveProgram(bg, store.Program{Hash: "h", IR: []byte("{}"), CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	// c1's send is leased by a dispatcher when the store closes.
	same(t, "claim", claim(t, s, at(0), time.Hour, 1), []string{w1.Results[0].Sends[0].Key})
	counts := stageCounts(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t)
	same(t, "c1 after reopen", mustCustomer(t, s, "c1"), w1.State)
	same(t, "c2 after reopen", mustCustomer(t, s, "c2"), w2.State)
	mustCustomer(t, s, "c3")
	if ids := dueIDs(t, s, at(1000*time.Hour), 10); len(ids) != 2 {
		t.Errorf("Due after reopen: %v", ids)
	}
	if m := seen(t, s, "c1-m1", "c2-m1"); len(m) != 2 {
		t.Errorf("seen after reopen: %v", m)
	}
	same(t, "transitions after reopen", transitions(t, s, "c1"), w1.Results[0].Transitions)
	if rs := sends(t, s, "c2"); len(rs) != 1 || rs[0].Delivery != store.DeliveryPending {
		t.Errorf("sends after reopen: %+v", rs)
	}
	same(t, "stage counts after reopen", stageCounts(t, s), counts)
	if ids, err := s.ActiveCustomers(bg, "", 10); err != nil || !slices.Equal(ids, []string{"c1", "c2"}) {
		t.Errorf("ActiveCustomers after reopen = %v, %v", ids, err)
	}
	if ps, err := s.Programs(bg); err != nil || len(ps) != 1 || ps[0].Hash != "h" {
		t.Errorf("Programs after reopen = %v, %v", ps, err)
	}
	// The lease survived: only c2's send is claimable now.
	same(t, "claim after reopen", claim(t, s, at(time.Second), time.Minute, 10), []string{w2.Results[0].Sends[0].Key})
}

func testConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const writers, commits, perBatch = 6, 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*commits+64)
	stop := make(chan struct{})
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range commits {
				var b store.Batch
				for k := range perBatch {
					id := fmt.Sprintf("g%d-c%d", g, i*perBatch+k)
					b.Customers = append(b.Customers, Write(id, 1, at(time.Duration(i)*time.Second)))
				}
				if err := s.Commit(bg, &b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Readers and a dispatcher run meanwhile.
	var rg sync.WaitGroup
	delivered := make(chan int, 1)
	rg.Add(2)
	go func() {
		defer rg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Due(bg, at(1000*time.Hour), 100); err != nil {
				errs <- err
				return
			}
			if _, err := s.Customer(bg, "g0-c0"); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs <- err
				return
			}
			if _, err := s.StageCounts(bg); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer rg.Done()
		n := 0
		defer func() { delivered <- n }()
		for {
			items, err := s.ClaimOutbox(bg, at(1000*time.Hour), time.Hour, 7)
			if err != nil {
				errs <- err
				return
			}
			var sg sync.WaitGroup
			for _, it := range items {
				sg.Add(1)
				go func() {
					defer sg.Done()
					if err := s.Delivered(bg, it.Send.Key, at(time.Hour)); err != nil {
						errs <- err
					}
				}()
			}
			sg.Wait()
			n += len(items)
			if len(items) == 0 {
				select {
				case <-stop:
					return
				default:
					time.Sleep(time.Millisecond)
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := <-delivered + len(claim(t, s, at(1000*time.Hour), time.Hour, 10000))
	if total := writers * commits * perBatch; n != total {
		t.Errorf("%d outbox items claimed in all, want %d", n, total)
	}
	for g := range writers {
		for i := range commits * perBatch {
			mustCustomer(t, s, fmt.Sprintf("g%d-c%d", g, i))
		}
	}
	if cs := stageCounts(t, s); len(cs) != 2 || cs[0].Active != writers*commits*perBatch {
		t.Errorf("StageCounts: %+v", cs)
	}
}

func testClosed(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	commit(t, s, simple("c", "j", "s", at(time.Hour)))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	checks := map[string]error{
		"Commit":      s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{simple("d", "", "", time.Time{})}}),
		"Delivered":   s.Delivered(bg, "k", at(0)),
		"SaveProgram": s.SaveProgram(bg, store.Program{Hash: "h", IR: []byte("{}")}),
	}
	_, checks["Customer"] = s.Customer(bg, "c")
	_, checks["Due"] = s.Due(bg, at(time.Hour), 10)
	_, checks["ClaimOutbox"] = s.ClaimOutbox(bg, at(time.Hour), time.Minute, 10)
	_, checks["SeenMessages"] = s.SeenMessages(bg, []string{"m"})
	_, checks["Sends"] = s.Sends(bg, "c")
	_, checks["StageCounts"] = s.StageCounts(bg)
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// testDeadLetters: dead items are listed by key, page by page, with their
// send and last error; Requeue makes one deliverable again under the same
// key with its attempts from zero, and only a dead one.
func testDeadLetters(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	q, ok := s.(store.DeadLetterQueue)
	if !ok {
		t.Fatalf("%T does not implement store.DeadLetterQueue", s)
	}
	list := func(after string, limit int) []store.DeadLetter {
		t.Helper()
		ds, err := q.DeadLetters(bg, after, limit)
		if err != nil {
			t.Fatalf("DeadLetters(%q, %d): %v", after, limit, err)
		}
		return ds
	}
	keys := func(ds []store.DeadLetter) []string {
		out := []string{}
		for _, d := range ds {
			out = append(out, d.Send.Key)
		}
		return out
	}
	if ds := list("", 10); len(ds) != 0 {
		t.Errorf("dead letters of an empty store: %v", keys(ds))
	}
	var all []engine.Send
	for _, c := range []string{"a", "b", "c"} {
		w := simple(c, "j", "s", time.Time{})
		one := send(c+"/j/1", "one", 1, engine.FateDeliver, at(0))
		two := send(c+"/j/1", "two", 1, engine.FateDeliver, at(0))
		w.Results = []engine.Result{{Sends: []engine.Send{one, two}}}
		commit(t, s, w)
		all = append(all, one, two)
	}
	claimed := claim(t, s, at(time.Second), time.Minute, 10)
	if len(claimed) != len(all) {
		t.Fatalf("claimed %v", claimed)
	}
	deadAt := at(2 * time.Second)
	// Every "one" dies; every "two" is delivered, except b's, which dies
	// and is then delivered after all (a late dispatcher): not dead then.
	for _, sd := range all {
		switch {
		case sd.Name == "one":
			if err := s.Dead(bg, sd.Key, 3, deadAt, "550 no such user at "+sd.Instance); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(sd.Key, "b/"):
			if err := s.Dead(bg, sd.Key, 3, deadAt, "timeout"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delivered(bg, sd.Key, deadAt.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		default:
			if err := s.Delivered(bg, sd.Key, deadAt); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"a/j/1/1/one", "b/j/1/1/one", "c/j/1/1/one"}
	ds := list("", 10)
	same(t, "dead letters", keys(ds), want)
	if len(ds) == 3 {
		d := ds[1]
		if d.Customer != "b" || d.Attempts != 3 || d.LastError != "550 no such user at b/j/1" || !d.DeadAt.Equal(deadAt) {
			t.Errorf("dead letter %+v", d)
		}
		same(t, "the dead letter's send", d.Send, all[2])
	}
	same(t, "first page", keys(list("", 2)), want[:2])
	same(t, "next page", keys(list(want[1], 2)), want[2:])
	if ds := list("c", 10); len(ds) != 1 {
		t.Errorf("after \"c\": %v, want the key after it", keys(ds))
	}
	if ds := list("", 0); len(ds) != 0 {
		t.Errorf("limit 0 listed %v", keys(ds))
	}

	// Requeue: pending again, due at the given time, attempts from zero.
	requeueAt := at(time.Hour)
	if err := q.Requeue(bg, want[1], requeueAt); err != nil {
		t.Fatalf("Requeue: %v", err)
	}
	same(t, "dead letters after a requeue", keys(list("", 10)), []string{want[0], want[2]})
	if ks := claim(t, s, requeueAt.Add(-time.Millisecond), time.Minute, 10); len(ks) != 0 {
		t.Errorf("claimed before the requeued item was due: %v", ks)
	}
	items, err := s.ClaimOutbox(bg, requeueAt, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Send.Key != want[1] || items[0].Attempt != 0 {
		t.Fatalf("claim after the requeue = %+v, want %s with 0 attempts", items, want[1])
	}
	same(t, "the requeued item's send", items[0].Send, all[2])
	for _, sr := range sends(t, s, "b") {
		if sr.Key == want[1] && sr.Fate == engine.FateDeliver && (sr.Delivery != store.DeliveryPending || sr.LastError != "") {
			t.Errorf("the requeued item in the history: delivery %q, last error %q; want pending, and no error from before the requeue", sr.Delivery, sr.LastError)
		}
	}
	for _, k := range []string{want[1], "a/j/1/1/two", "no/such/key"} {
		if err := q.Requeue(bg, k, requeueAt); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Requeue(%q) of an item that is not dead: %v, want store.ErrNotFound", k, err)
		}
	}
	// Dead again after the requeue: back in the queue.
	if err := s.Dead(bg, want[1], 2, requeueAt, "still failing"); err != nil {
		t.Fatal(err)
	}
	same(t, "dead letters after dying again", keys(list("", 10)), want)
}

// RunDeadLetterUpgrade checks a store's upgrade from schema 1, which had no
// dead-letter queue: a dead item committed, the database taken back to
// schema 1 by downgrade (while closed), the items that died before are in
// the queue after the next open, and version then reads latest.
func RunDeadLetterUpgrade(t *testing.T, open func() (store.Store, error), downgrade func(), version func() int, latest int) {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	key := commitDead(t, s, "c")
	closeIt(t, s)
	downgrade()
	if s, err = open(); err != nil {
		t.Fatalf("opening a schema-1 database: %v", err)
	}
	defer closeIt(t, s)
	ds, err := s.(store.DeadLetterQueue).DeadLetters(bg, "", 10)
	if err != nil || len(ds) != 1 || ds[0].Send.Key != key {
		t.Errorf("dead letters after the upgrade: %+v (%v), want %s", ds, err, key)
	}
	if v := version(); v != latest {
		t.Errorf("schema version %d after the upgrade, want %d", v, latest)
	}
}

// commitDead commits customer id with one send to deliver, claims it and
// makes it dead, and returns its key.
func commitDead(t *testing.T, s store.Store, id string) string {
	t.Helper()
	w := simple(id, "j", "s", time.Time{})
	sd := send(id+"/j/1", "one", 1, engine.FateDeliver, at(0))
	w.Results = []engine.Result{{Sends: []engine.Send{sd}}}
	commit(t, s, w)
	if ks := claim(t, s, at(time.Second), time.Minute, 10); len(ks) != 1 {
		t.Fatalf("claimed %v", ks)
	}
	if err := s.Dead(bg, sd.Key, 1, at(time.Second), "gone"); err != nil {
		t.Fatal(err)
	}
	return sd.Key
}

// testPruneHistory: records before the cut go, later ones stay, whatever
// their kind and whoever they belong to; delivered outbox items before the
// cut go; the sends of pending and dead items stay, claimable and listed.
func testPruneHistory(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	p, ok := s.(store.HistoryPruner)
	if !ok {
		t.Fatalf("%T does not implement store.HistoryPruner", s)
	}
	tr := func(id, from, to string, d time.Duration) engine.Transition {
		return engine.Transition{Instance: id + "/j/1", Journey: "j", Version: "v1", From: from, To: to, Cause: "on:x", Status: engine.StatusActive, At: at(d)}
	}
	day := 24 * time.Hour
	oldDelivered := send("c/j/1", "old_delivered", 1, engine.FateDeliver, at(0))
	oldPending := send("c/j/1", "old_pending", 1, engine.FateDeliver, at(0))
	oldDead := send("c/j/1", "old_dead", 1, engine.FateDeliver, at(0))
	oldCapped := send("c/j/1", "old_capped", 1, engine.FateCapped, at(0))
	newDelivered := send("c/j/1", "new_delivered", 1, engine.FateDeliver, at(10*day))
	ref := engine.Refusal{Journey: "j", Event: "e", Reason: engine.RefusedReentry, At: at(time.Hour)}
	newRef := engine.Refusal{Journey: "j", Event: "e", Reason: engine.RefusedReentry, At: at(10 * day)}

	c := simple("c", "j", "s", time.Time{})
	c.Results = []engine.Result{
		{Transitions: []engine.Transition{tr("c", "", "s", 0)}, Sends: []engine.Send{oldDelivered, oldPending, oldDead, oldCapped}, Refusals: []engine.Refusal{ref}},
	}
	d := simple("d", "j", "s", time.Time{})
	d.Results = []engine.Result{{Transitions: []engine.Transition{tr("d", "", "s", time.Hour)}}}
	commit(t, s, c, d)
	c.Results = []engine.Result{
		{Transitions: []engine.Transition{tr("c", "s", "s", 10*day)}, Sends: []engine.Send{newDelivered}, Refusals: []engine.Refusal{newRef}},
	}
	commit(t, s, c)
	if ks := claim(t, s, at(11*day), time.Minute, 10); len(ks) != 4 {
		t.Fatalf("claimed %v", ks)
	}
	for _, k := range []string{oldDelivered.Key, newDelivered.Key} {
		if err := s.Delivered(bg, k, at(11*day)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delivered(bg, oldDelivered.Key, at(day)); err != nil { // the first delivery time is kept: 11 days
		t.Fatal(err)
	}
	if err := s.Dead(bg, oldDead.Key, 5, at(11*day), "gone"); err != nil {
		t.Fatal(err)
	}

	// A cut before everything forgets nothing.
	if n, m, err := p.PruneHistory(bg, at(-time.Hour)); err != nil || n != 0 || m != 0 {
		t.Errorf("PruneHistory(before all) = %d, %d, %v; want 0, 0", n, m, err)
	}
	// A cut at day 5: the old transitions, refusal and decisions go, except
	// the pending and the dead item's sends. No outbox item was delivered
	// before day 5 (both at day 11).
	n, m, err := p.PruneHistory(bg, at(5*day))
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || m != 0 {
		t.Errorf("PruneHistory(day 5) = %d records, %d items; want 5 (2 transitions, a refusal, 2 sends), 0", n, m)
	}
	same(t, "transitions of c", transitions(t, s, "c"), []engine.Transition{tr("c", "s", "s", 10*day)})
	if ts := transitions(t, s, "d"); len(ts) != 0 {
		t.Errorf("transitions of d: %+v", ts)
	}
	var names []string
	for _, r := range sends(t, s, "c") {
		names = append(names, r.Name+":"+r.Delivery)
	}
	same(t, "sends of c", names, []string{"old_pending:pending", "old_dead:dead", "new_delivered:delivered"})
	if eh, ok := s.(store.EventHistory); ok {
		evs, err := eh.Events(bg, "c")
		if err != nil {
			t.Fatal(err)
		}
		same(t, "events of c", evs, []store.Event{{Kind: store.EventRefusal, Refusal: &newRef}})
	}
	if ds, err := s.(store.DeadLetterQueue).DeadLetters(bg, "", 10); err != nil || len(ds) != 1 || ds[0].Send.Name != "old_dead" {
		t.Errorf("dead letters after the prune: %+v, %v", ds, err)
	}
	// The pending item still goes out, with its send.
	items, err := s.ClaimOutbox(bg, at(12*day), time.Minute, 10)
	if err != nil || len(items) != 1 || items[0].Send.Key != oldPending.Key {
		t.Fatalf("claim after the prune: %+v, %v", items, err)
	}
	same(t, "the pending item's send", items[0].Send, oldPending)

	// A cut at day 12: every record before it goes but the pending and dead
	// sends; the two delivered items (day 11) go too.
	n, m, err = p.PruneHistory(bg, at(12*day))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || m != 2 {
		t.Errorf("PruneHistory(day 12) = %d records, %d items; want 3 (transition, refusal, send), 2", n, m)
	}
	names = nil
	for _, r := range sends(t, s, "c") {
		names = append(names, r.Name+":"+r.Delivery)
	}
	same(t, "sends of c after the second prune", names, []string{"old_pending:pending", "old_dead:dead"})
	if err := s.Delivered(bg, oldDelivered.Key, at(13*day)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivered of a pruned item: %v, want store.ErrNotFound", err)
	}
	// The state is untouched.
	same(t, "state of c", mustCustomer(t, s, "c"), c.State)
}

// RunInUse checks that a store refuses a second Open while it is open: two
// writers on one store lose acknowledged events. open opens the same
// store each time (name is how the error must name it); the refusal wraps
// store.ErrInUse and names this process's pid, and once the first store
// is closed the store opens again.
func RunInUse(t *testing.T, name string, open func() (store.Store, error)) {
	first, err := open()
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	defer first.Close()
	second, err := open()
	if err == nil {
		second.Close()
		t.Fatal("a second Open of an open store succeeded; want it refused")
	}
	if !errors.Is(err, store.ErrInUse) {
		t.Errorf("second Open: %v; want an error wrapping store.ErrInUse", err)
	}
	for _, want := range []string{name, fmt.Sprintf("pid %d", os.Getpid()), "in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open: %q does not say %q", err, want)
		}
	}
	// The refused Open changed nothing: the first store still writes.
	commit(t, first, simple("c1", "j", "s", time.Time{}))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := open()
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	mustCustomer(t, again, "c1")
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}
