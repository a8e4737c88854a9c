package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// The commit that applies an input takes it out of the inbox: the inbox
// files an input under the form in which the worker commits its message id
// (store.DedupKey), so the two match.
func TestAppliedInputsLeaveTheInbox(t *testing.T) {
	dsn := pgtest.DB(t)
	n, st := node(t, dsn, "a")
	rounds(t, func() bool { return len(n.Owned()) == 64 }, n)
	w := runWorker(t, st)

	in := NewIngest(st, w, NewPump(st, n, w, nil))
	var items []worker.Item
	for i := range 3 {
		items = append(items, worker.Item{CustomerID: fmt.Sprintf("c%d", i), Input: engine.Input{Kind: engine.KindEvent, Event: "e", MessageID: fmt.Sprintf("m%d", i)}})
	}
	items = append(items, worker.Item{CustomerID: "c9", Input: engine.Input{Kind: engine.KindEvent, Event: "e"}}) // given an id by the inbox
	if err := in.Submit(bg, items); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Inbox(bg, n.Owned(), 100)
	if err != nil || len(rows) != len(items) {
		t.Fatalf("inbox: %v, %d rows", err, len(rows))
	}
	// Apply them as the pump does, without its DropInbox.
	var applied []worker.Item
	for _, r := range rows {
		var in engine.Input
		dec := json.NewDecoder(bytes.NewReader(r.Input))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			t.Fatal(err)
		}
		applied = append(applied, worker.Item{CustomerID: r.Customer, Input: in})
	}
	if err := w.Submit(bg, applied); err != nil {
		t.Fatal(err)
	}
	if rows, err := st.Inbox(bg, n.Owned(), 100); err != nil || len(rows) != 0 {
		t.Errorf("after the commit that applied them, the inbox holds %d inputs (%v)", len(rows), err)
	}
}
