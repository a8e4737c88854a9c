package storetest

import (
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// testFailedSends: the failed send decisions of every customer, and only
// them, by time then commit order, in pages whose cursors stay valid; a
// bad cursor is an error; a prune takes the old ones out of the list.
func testFailedSends(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	l, ok := s.(store.FailedSendLister)
	if !ok {
		t.Fatalf("%T does not implement store.FailedSendLister", s)
	}
	list := func(after string, limit int) []store.FailedSend {
		t.Helper()
		fs, err := l.FailedSends(bg, after, limit)
		if err != nil {
			t.Fatalf("FailedSends(%q, %d): %v", after, limit, err)
		}
		return fs
	}
	keys := func(fs []store.FailedSend) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Customer+" "+f.Send.Key)
		}
		return out
	}
	if fs := list("", 10); len(fs) != 0 {
		t.Errorf("failed sends of an empty store: %v", keys(fs))
	}

	failed := func(instance, name string, when time.Time) engine.Send {
		sd := send(instance, name, 1, engine.FateFailed, when)
		sd.Fields, sd.Reason = nil, "field to: email is null"
		return sd
	}
	aFail := failed("a/j/1", "welcome", at(2*time.Second))
	bFail := failed("b/j/1", "welcome", at(time.Second))
	wa, wb := simple("a", "j", "s", time.Time{}), simple("b", "j", "s", time.Time{})
	wa.Results = []engine.Result{{Sends: []engine.Send{send("a/j/1", "ok", 1, engine.FateDeliver, at(time.Second)), aFail}}}
	wb.Results = []engine.Result{{Sends: []engine.Send{send("b/j/1", "capped", 1, engine.FateCapped, at(0)), bFail}}}
	commit(t, s, wa, wb)
	// Committed later with an earlier time than a's: listed before it.
	cFail := failed("c/j/1", "reminder", at(time.Second))
	wc := simple("c", "j", "s", time.Time{})
	wc.Results = []engine.Result{{Sends: []engine.Send{cFail}}}
	commit(t, s, wc)
	dFail := failed("d/j/1", "late", at(3*time.Second))
	wd := simple("d", "j", "s", time.Time{})
	wd.Results = []engine.Result{{Sends: []engine.Send{dFail}}}
	commit(t, s, wd)

	want := []string{"b " + bFail.Key, "c " + cFail.Key, "a " + aFail.Key, "d " + dFail.Key}
	all := list("", 10)
	same(t, "failed sends", keys(all), want)
	same(t, "the listed send", all[2].Send, aFail)
	cursors := map[string]bool{}
	for _, f := range all {
		if f.Cursor == "" || cursors[f.Cursor] {
			t.Errorf("cursor %q of %s: empty or given twice", f.Cursor, f.Send.Key)
		}
		cursors[f.Cursor] = true
	}
	first := list("", 2)
	same(t, "first page", keys(first), want[:2])
	same(t, "next page", keys(list(first[1].Cursor, 2)), want[2:])
	same(t, "after the last", keys(list(all[3].Cursor, 2)), []string{})
	if fs := list("", 0); len(fs) != 0 {
		t.Errorf("limit 0 listed %v", keys(fs))
	}
	for _, bad := range []string{"x", "12", "1.x", "1.2.3"} {
		if fs, err := l.FailedSends(bg, bad, 10); err == nil {
			t.Errorf("FailedSends(%q) = %v, want an error for a cursor no store gives", bad, keys(fs))
		}
	}

	// A send after the cursors given out comes after them.
	eFail := failed("e/j/1", "later", at(4*time.Second))
	we := simple("e", "j", "s", time.Time{})
	we.Results = []engine.Result{{Sends: []engine.Send{eFail}}}
	commit(t, s, we)
	same(t, "after the last, once more was committed", keys(list(all[3].Cursor, 10)), []string{"e " + eFail.Key})

	if p, ok := s.(store.HistoryPruner); ok {
		if _, _, err := p.PruneHistory(bg, at(1500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		same(t, "failed sends after a prune", keys(list("", 10)), []string{"a " + aFail.Key, "d " + dFail.Key, "e " + eFail.Key})
	}
}
