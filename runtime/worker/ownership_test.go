package worker_test

import (
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
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

// A batch carries the tokens its states were read under when the worker
// has Ownership (a fenced store refuses the commit if a token has moved
// on: the state may have been written by another owner meanwhile), and
// none without.
func TestBatchesCarryTokens(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ownership func(string) (int64, bool)
		want      map[string]int64
	}{
		{"with Ownership", func(string) (int64, bool) { return 7, true }, map[string]int64{"ada": 7}},
		{"read while not owned", func(string) (int64, bool) { return 7, false }, map[string]int64{"ada": store.TokenNotOwned}},
		{"without", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := workertest.NewStore()
			var mu sync.Mutex
			var got []map[string]int64
			st.BeforeCommit = func(b *store.Batch) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, maps.Clone(b.Tokens))
				return nil
			}
			w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{Ownership: tc.ownership})
			submit(t, w, event("ada", "signup", "m1"))
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || !maps.Equal(got[0], tc.want) || (got[0] == nil) != (tc.want == nil) {
				t.Errorf("commits carried tokens %v, want one with %v", got, tc.want)
			}
		})
	}
}
