package worker_test

import (
	"context"
	"sync"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/worker"
	"github.com/waymark-dev/waymark/runtime/worker/workertest"
)

// A node that shares its store caches a customer's state only under the
// ownership token it read it under: after the token moves (its shard went
// to another node and came back), what was written meanwhile is read from
// the store, never overwritten with the cached state.
func TestOwnershipCachesUnderItsToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		// after the first commit: the token and whether owned now
		token    int64
		owned    bool
		wantHit  bool // the second input used the cached state
		wantKeep bool // the state written behind the worker's back survives
	}{
		{"same token", 1, true, true, false},
		{"token moved on", 2, true, false, true},
		{"not owned any more", 1, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := workertest.NewStore()
			var mu sync.Mutex
			token, owned := int64(1), true
			w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{
				Ownership: func(string) (int64, bool) {
					mu.Lock()
					defer mu.Unlock()
					return token, owned
				},
			})
			submit(t, w, event("ada", "signup", "m1"))

			// Another node writes ada while it owns her shard.
			c, err := st.Customer(context.Background(), "ada")
			if err != nil {
				t.Fatal(err)
			}
			c.Traits = map[string]any{"written": "elsewhere"}
			st.Put(c)
			mu.Lock()
			token, owned = tc.token, tc.owned
			mu.Unlock()

			hits := w.Stats().CacheHits
			submit(t, w, event("ada", "done", "m2"))
			if hit := w.Stats().CacheHits > hits; hit != tc.wantHit {
				t.Errorf("cache hit = %v, want %v", hit, tc.wantHit)
			}
			got, err := st.Customer(context.Background(), "ada")
			if err != nil {
				t.Fatal(err)
			}
			if kept := got.Traits["written"] == "elsewhere"; kept != tc.wantKeep {
				t.Errorf("the other node's write kept = %v, want %v (traits %v)", kept, tc.wantKeep, got.Traits)
			}
		})
	}
}
