package worker_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// sqliteWorker runs a worker with the onboarding journey on a new SQLite
// file until the test ends (the worker stops before the store closes).
func sqliteWorker(t *testing.T, opts worker.Options) (*sqlite.Store, *worker.Worker) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "w.db"))
	t.Cleanup(func() { st.Close() })
	return st, start(t, st, newEngine(t, onboarding, engine.Options{}), opts)
}

func wake(customer string) worker.Item {
	return worker.Item{CustomerID: customer, Input: engine.Input{Kind: engine.KindWake}}
}

func receivedIDs(t *testing.T, st *sqlite.Store, id string) []string {
	t.Helper()
	rs, err := st.Received(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.MessageID)
	}
	return ids
}

// An erase is ordered with the customer's inputs: what came before is
// gone, what comes after starts a new customer, and a retry of an erased
// input is still a duplicate.
func TestEraseInOrder(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipeline=%v", pipeline), func(t *testing.T) {
			st, w := sqliteWorker(t, worker.Options{Pipeline: pipeline})
			ctx := context.Background()
			submit(t, w, event("x", "signup", "x1"), event("y", "signup", "y1"))
			e, err := w.Erase(ctx, "x")
			if err != nil || !e.Customer || e.Cancelled != 1 {
				t.Fatalf("Erase = %+v, %v; want the customer and its hello cancelled", e, err)
			}
			if _, err := st.Customer(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("x after the erase: %v", err)
			}
			if got := transitions(t, st, "y"); got != ">welcome" {
				t.Errorf("y was touched: %q", got)
			}
			submit(t, w, event("x", "signup", "x1")) // a retry of the erased input
			if _, err := st.Customer(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a retry of an erased input brought x back: %v", err)
			}
			submit(t, w, event("x", "signup", "x2"))
			if got := transitions(t, st, "x"); got != ">welcome" {
				t.Errorf("the new x: %q", got)
			}
			if got := receivedIDs(t, st, "x"); len(got) != 1 || got[0] != "x2" {
				t.Errorf("the new x received %q", got)
			}
			if _, err := w.Erase(ctx, ""); !errors.Is(err, worker.ErrNoCustomer) {
				t.Errorf("Erase(\"\") = %v", err)
			}
		})
	}
}

// A timer that falls due for an erased customer (the scheduler read the
// wake before the erase) does not bring the customer back.
func TestEraseThenDueTimer(t *testing.T) {
	st, w := sqliteWorker(t, worker.Options{})
	ctx := context.Background()
	submit(t, w, event("x", "signup", "x1"))
	if wakes, err := st.Due(ctx, farFuture, 10); err != nil || len(wakes) != 1 {
		t.Fatalf("Due: %v %v", wakes, err)
	}
	if _, err := w.Erase(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	submit(t, w, wake("x"))
	if c, err := st.Customer(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a due timer after the erase wrote %+v, %v", c, err)
	}
	if wakes, err := st.Due(ctx, farFuture, 10); err != nil || len(wakes) != 0 {
		t.Errorf("Due after the erase: %v %v", wakes, err)
	}
}

// An erase racing with a stream of inputs and timers for the same
// customer: the inputs acknowledged before the erase began are gone, those
// submitted after it returned are all there, and what survives is
// consistent: a suffix of the stream, with exactly one hello per signup in
// it (nothing of the erased run left, nothing of the new one lost).
func TestEraseRace(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipeline=%v", pipeline), func(t *testing.T) {
			st, w := sqliteWorker(t, worker.Options{Pipeline: pipeline})
			ctx := context.Background()
			const n = 120
			var acked, started atomic.Int64 // inputs acknowledged, inputs whose Submit began
			stop := make(chan struct{})
			var wg, timers sync.WaitGroup
			wg.Go(func() {
				for i := range n {
					ev := "signup"
					if i%2 == 1 {
						ev = "done"
					}
					started.Store(int64(i + 1))
					if err := w.Submit(ctx, []worker.Item{event("x", ev, fmt.Sprintf("m%03d", i))}); err != nil {
						t.Error(err)
						return
					}
					acked.Store(int64(i + 1))
				}
			})
			timers.Go(func() { // the scheduler, firing timers meanwhile
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := w.Submit(ctx, []worker.Item{wake("x"), event("other", "signup", "")}); err != nil {
						t.Error(err)
						return
					}
				}
			})
			for acked.Load() < n/3 {
				time.Sleep(time.Millisecond)
			}
			goneBelow := acked.Load() // inputs [0, goneBelow) were acknowledged before the erase
			if _, err := w.Erase(ctx, "x"); err != nil {
				t.Fatal(err)
			}
			keptFrom := started.Load() // inputs from keptFrom on began after the erase returned
			wg.Wait()
			close(stop)
			timers.Wait()

			ids := receivedIDs(t, st, "x")
			if len(ids) == 0 {
				t.Fatal("nothing survived the erase: the inputs after it are lost")
			}
			var first int
			fmt.Sscanf(ids[0], "m%d", &first)
			for k, id := range ids {
				if want := fmt.Sprintf("m%03d", first+k); id != want {
					t.Fatalf("received %q: not a suffix of the stream", ids)
				}
			}
			if last := ids[len(ids)-1]; last != fmt.Sprintf("m%03d", n-1) {
				t.Fatalf("received ends at %s", last)
			}
			if int64(first) < goneBelow || int64(first) > keptFrom {
				t.Errorf("the survivors start at m%03d; the erase came after m%03d and before m%03d", first, goneBelow-1, keptFrom)
			}
			signups := 0
			for k := range ids {
				if (first+k)%2 == 0 {
					signups++
				}
			}
			sends, err := st.Sends(ctx, "x")
			if err != nil {
				t.Fatal(err)
			}
			hellos := 0
			for _, s := range sends {
				if s.Name == "hello" {
					hellos++
				}
			}
			if hellos != signups {
				t.Errorf("%d hello sends for the %d signups after the erase", hellos, signups)
			}
		})
	}
}

// Message ids are kept for dedup only as store.DedupKey hashes, so the
// table that outlives an erase holds nothing a client put in them; an id
// a store kept raw (written before the hashing) still deduplicates.
func TestDedupKeysHoldNoMessageID(t *testing.T) {
	st := openSQLite(t, filepath.Join(t.TempDir(), "w.db"))
	defer st.Close()
	ctx := context.Background()
	old := store.CustomerWrite{State: &engine.Customer{ID: "old"}, MessageIDs: []string{"raw-from-before"}}
	if err := st.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{old}}); err != nil {
		t.Fatal(err)
	}
	w := start(t, st, newEngine(t, onboarding, engine.Options{DedupWindow: -1}), worker.Options{})
	submit(t, w, event("x", "signup", "li@example.com#1"))
	seen, err := st.SeenMessages(ctx, []string{"li@example.com#1", store.DedupKey("li@example.com#1")})
	if err != nil || seen["li@example.com#1"] || !seen[store.DedupKey("li@example.com#1")] {
		t.Errorf("seen %v, %v: want the hash alone", seen, err)
	}
	submit(t, w, event("y", "signup", "raw-from-before"))
	if _, err := st.Customer(ctx, "y"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an id kept raw before the hashing was not a duplicate: %v", err)
	}
}
