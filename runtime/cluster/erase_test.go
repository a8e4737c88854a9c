package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/compiler/ir"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// An erase taken by a node goes through the inbox: the owner applies the
// input acknowledged before it, then the erase, then the input after it,
// even when all three wait in one page; the answer says what was erased.
func TestEraseThroughInbox(t *testing.T) {
	dsn := pgtest.DB(t)
	n, st := node(t, dsn, "a")
	rounds(t, func() bool { return len(n.Owned()) == 64 }, n)
	w := runWorker(t, st)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	p := NewPump(st, n, w, nil)
	in := NewIngest(st, w, p)

	ev := func(msg string) []worker.Item {
		return []worker.Item{{CustomerID: "c", Input: engine.Input{Kind: engine.KindEvent, Event: "e", MessageID: msg}}}
	}
	if err := in.Submit(bg, ev("before")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		customer bool
		err      error
	}
	erased := make(chan result, 1)
	go func() {
		e, err := in.Erase(bg, "c")
		erased <- result{e.Customer, err}
	}()
	// The erase is in the inbox (the pump is not running yet): the next
	// input comes after it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := st.Inbox(bg, n.Owned(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 && rows[1].Erase {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the erase never reached the inbox: %+v", rows)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := in.Submit(bg, ev("after")); err != nil {
		t.Fatal(err)
	}
	go p.Run(ctx)
	select {
	case r := <-erased:
		if r.err != nil || !r.customer {
			t.Fatalf("Erase: customer %v, %v; want the customer the first input made erased", r.customer, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the erase was not applied")
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		rows, err := st.Inbox(bg, n.Owned(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the inbox is not drained: %+v", rows)
		}
		time.Sleep(5 * time.Millisecond)
	}
	rs, err := st.Received(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, r := range rs {
		msgs = append(msgs, r.MessageID)
	}
	if !slices.Equal(msgs, []string{"after"}) {
		t.Errorf("c's received inputs after the erase: %q, want only the one acknowledged after it", msgs)
	}
	// Nothing waits for its result any more.
	var left int
	if err := st.Pool().QueryRow(bg, "SELECT count(*) FROM erasures").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d erase results left (%v)", left, err)
	}
}

// runWorker runs a worker of an empty program on st until the test ends.
func runWorker(t *testing.T, st *postgres.Store) *worker.Worker {
	t.Helper()
	eng, err := engine.New(&ir.Program{}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(st, eng, worker.Options{})
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}
