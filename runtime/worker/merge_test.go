package worker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
)

func identify(customer string, traits map[string]any) worker.Item {
	return worker.Item{CustomerID: customer, Input: engine.Input{Kind: engine.KindIdentify, Traits: traits}}
}

// A merge moves the anonymous customer's traits and journey runs to the
// known one, in order with both customers' inputs; an erase of the known
// customer then erases the merged one's history too.
func TestMerge(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(map[bool]string{false: "serial", true: "pipelined"}[pipeline], func(t *testing.T) {
			st, w := sqliteWorker(t, worker.Options{Pipeline: pipeline})
			ctx := context.Background()
			submit(t, w, event("anon", "signup", "a1"), identify("anon", map[string]any{"utm": "ad", "plan": "free"}),
				identify("u", map[string]any{"plan": "premium"}), event("both-a", "signup", ""), event("both-u", "signup", ""))
			merged, err := w.Merge(ctx, "anon", "u")
			if err != nil || !merged {
				t.Fatalf("Merge = %v, %v", merged, err)
			}
			submit(t, w, event("u", "done", "u2")) // ends the run that came from anon
			c, err := st.Customer(ctx, "u")
			if err != nil {
				t.Fatal(err)
			}
			if c.Traits["plan"] != "premium" || c.Traits["utm"] != "ad" || len(c.Merged) != 1 || c.Merged[0] != "anon" {
				t.Errorf("u after the merge: %+v", c)
			}
			if got := transitions(t, st, "u"); got != "welcome>welcome welcome>end" {
				t.Errorf("u's transitions %q", got)
			}
			a, err := st.Customer(ctx, "anon")
			if err != nil || len(a.Instances)+len(a.Traits) != 0 {
				t.Errorf("anon after the merge: %+v, %v", a, err)
			}
			if merged, err := w.Merge(ctx, "anon", "u"); err != nil || merged {
				t.Errorf("a second Merge = %v, %v; want nothing to merge", merged, err)
			}
			if merged, err := w.Merge(ctx, "nobody", "u"); err != nil || merged {
				t.Errorf("Merge of an unknown id = %v, %v", merged, err)
			}

			// Both in the same journey: the known customer's run stays,
			// the anonymous one's ends "merged".
			if _, err := w.Merge(ctx, "both-a", "both-u"); err != nil {
				t.Fatal(err)
			}
			if got := transitions(t, st, "both-a"); got != ">welcome welcome>end" {
				t.Errorf("both-a's transitions %q", got)
			}
			if got := transitions(t, st, "both-u"); got != ">welcome" {
				t.Errorf("both-u's transitions %q", got)
			}

			e, err := w.Erase(ctx, "u")
			if err != nil || !e.Customer {
				t.Fatalf("Erase(u) = %+v, %v", e, err)
			}
			if got := transitions(t, st, "anon"); got != "" {
				t.Errorf("the merged customer's history outlived the erase: %q", got)
			}
		})
	}
}

// A merge racing with streams of inputs for both customers: each stream's
// inputs are applied once each, in order, and every input of the anonymous
// customer acknowledged before the merge began lands in the merged runs,
// every one after it on the emptied anonymous customer.
func TestMergeRace(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(map[bool]string{false: "serial", true: "pipelined"}[pipeline], func(t *testing.T) {
			st, w := sqliteWorker(t, worker.Options{Pipeline: pipeline})
			ctx := context.Background()
			const n = 60
			var ackedAnon, startedAnon atomic.Int64
			var wg sync.WaitGroup
			for _, id := range []string{"anon", "known"} {
				wg.Go(func() {
					for i := range n {
						if id == "anon" {
							startedAnon.Store(int64(i + 1))
						}
						tr := map[string]any{id + "_n": i + 1}
						if err := w.Submit(ctx, []worker.Item{identify(id, tr)}); err != nil {
							t.Error(err)
							return
						}
						if id == "anon" {
							ackedAnon.Store(int64(i + 1))
						}
					}
				})
			}
			for ackedAnon.Load() < n/3 {
				time.Sleep(time.Millisecond)
			}
			before := ackedAnon.Load()
			if _, err := w.Merge(ctx, "anon", "known"); err != nil {
				t.Fatal(err)
			}
			after := startedAnon.Load()
			wg.Wait()

			known, err := st.Customer(ctx, "known")
			if err != nil {
				t.Fatal(err)
			}
			anon, err := st.Customer(ctx, "anon")
			if err != nil {
				t.Fatal(err)
			}
			if got := known.Traits["known_n"]; got != int64(n) && got != float64(n) {
				t.Errorf("known's own last input: %v, want %d", got, n)
			}
			var merged int64
			switch v := known.Traits["anon_n"].(type) {
			case int64:
				merged = v
			case float64:
				merged = int64(v)
			}
			if merged < before || merged > after {
				t.Errorf("the merge took anon at input %d; it came after %d and before %d", merged, before, after)
			}
			var rest int64
			switch v := anon.Traits["anon_n"].(type) {
			case int64:
				rest = v
			case float64:
				rest = int64(v)
			}
			if merged != n && rest != n {
				t.Errorf("anon's last input is lost: merged %d, left %d", merged, rest)
			}
		})
	}
}
