package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// Unreadable states, as a database written before ingest refused them may
// hold: a number beyond float64 and nesting deeper than the decoder goes.
var (
	BigNumberState = []byte(`{"id":"b","traits":{"plan":"premium","score":1e400}}`)
	DeepState      = []byte(`{"id":"c","traits":{"plan":"premium","deep":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`)
)

// RunUnreadable checks that customers whose stored state cannot be decoded
// do not fail a customer list: s gets customers a, b, c and d (plan
// premium), then plant overwrites the stored state of b and c, as a raw
// write to the database, with BigNumberState and DeepState. The list
// answers a and d and names b and c as unreadable, page after page and in
// a trait search; a lookup of b fails with store.ErrUnreadable; no error
// shows the value it could not read.
func RunUnreadable(t *testing.T, s store.Store, plant func(t *testing.T, id string, state []byte)) {
	t.Helper()
	l, ok := s.(store.CustomerLister)
	if !ok {
		t.Fatalf("%T does not implement store.CustomerLister", s)
	}
	var ws []store.CustomerWrite
	for _, id := range []string{"a", "b", "c", "d"} {
		w := simple(id, "j", "s", time.Time{})
		w.State.Traits = map[string]any{"plan": "premium"}
		ws = append(ws, w)
	}
	commit(t, s, ws...)
	plant(t, "b", BigNumberState)
	plant(t, "c", DeepState)

	ids := func(p store.CustomerPage) (good, bad []string) {
		for _, c := range p.Customers {
			good = append(good, c.ID)
		}
		for _, u := range p.Unreadable {
			bad = append(bad, u.ID)
			if !strings.Contains(u.Error, store.ErrUnreadable.Error()) {
				t.Errorf("unreadable %q: error %q does not say the state cannot be decoded", u.ID, u.Error)
			}
			if strings.Contains(u.Error, "1e400") || strings.Contains(u.Error, "[[") {
				t.Errorf("unreadable %q: error %q shows the stored value", u.ID, u.Error)
			}
		}
		return good, bad
	}
	for _, tc := range []struct {
		q         store.CustomerQuery
		good, bad []string
		next      string
		endOK     bool // at the very end, an empty Next is right too
	}{
		{store.CustomerQuery{Limit: 100}, []string{"a", "d"}, []string{"b", "c"}, "", false},
		{store.CustomerQuery{Limit: 100, Trait: "plan", Value: "premium"}, []string{"a", "d"}, []string{"b", "c"}, "", false},
		{store.CustomerQuery{Limit: 1}, []string{"a"}, nil, "a", false},
		{store.CustomerQuery{Limit: 1, After: "a"}, []string{"d"}, []string{"b", "c"}, "d", false},
		{store.CustomerQuery{Limit: 100, Scan: 2}, []string{"a"}, []string{"b"}, "b", false},
		{store.CustomerQuery{Limit: 100, Scan: 2, After: "b"}, []string{"d"}, []string{"c"}, "d", true},
		{store.CustomerQuery{Limit: 100, IDPrefix: "c"}, nil, []string{"c"}, "", false},
	} {
		p, err := l.ListCustomers(bg, tc.q)
		if err != nil {
			t.Errorf("ListCustomers(%+v): %v", tc.q, err)
			continue
		}
		good, bad := ids(p)
		if !slices.Equal(good, tc.good) || !slices.Equal(bad, tc.bad) || (p.Next != tc.next && !(tc.endOK && p.Next == "")) {
			t.Errorf("ListCustomers(%+v) = customers %q unreadable %q next %q, want %q, %q, %q", tc.q, good, bad, p.Next, tc.good, tc.bad, tc.next)
		}
	}

	for _, id := range []string{"b", "c"} {
		_, err := s.Customer(bg, id)
		if !errors.Is(err, store.ErrUnreadable) {
			t.Errorf("Customer(%q) = %v, want an error wrapping store.ErrUnreadable", id, err)
		} else if strings.Contains(err.Error(), "1e400") || strings.Contains(err.Error(), "[[") {
			t.Errorf("Customer(%q): error %q shows the stored value", id, err)
		}
	}
	if c, err := s.Customer(bg, "a"); err != nil || c.ID != "a" {
		t.Errorf("Customer(a) = %v, %v", c, err)
	}
}
