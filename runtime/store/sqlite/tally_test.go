package sqlite

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// toSchema7 takes the database at path back to what a schema-7 binary
// would have left after the same commits: no tallies, no outbox cohorts,
// and no Visited or Splits in the instances' states (those binaries did not
// keep them).
func toSchema7(t *testing.T, path string) {
	t.Helper()
	db := rawDB(t, path)
	defer db.Close()
	for _, q := range []string{"DROP TABLE tallies", "ALTER TABLE outbox DROP COLUMN cohort", "DELETE FROM schema_migrations WHERE version > 7"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rs, err := db.Query("SELECT id, state FROM customers")
	if err != nil {
		t.Fatal(err)
	}
	states := make(map[string][]byte)
	for rs.Next() {
		var id string
		var state []byte
		if err := rs.Scan(&id, &state); err != nil {
			t.Fatal(err)
		}
		states[id] = state
	}
	rs.Close()
	stripped := 0
	for id, state := range states {
		var c engine.Customer
		if err := json.Unmarshal(state, &c); err != nil {
			t.Fatal(err)
		}
		for _, in := range c.Instances {
			if in.Visited != nil || in.Splits != nil {
				stripped++
			}
			in.Visited, in.Splits = nil, nil
		}
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE customers SET state = ? WHERE id = ?", b, id); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("schema 7: %d instances' Visited and Splits removed", stripped)
}

// progress is the Visited and Splits of every active instance of a store.
func progress(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for after := ""; ; {
		page, err := s.ActiveStates(context.Background(), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		for _, r := range page {
			var c engine.Customer
			if err := json.Unmarshal(r.State, &c); err != nil {
				t.Fatal(err)
			}
			for _, in := range c.Instances {
				if in.Active() {
					b, _ := json.Marshal([]any{in.Visited, in.Splits})
					out[in.ID] = string(b)
				}
			}
			after = r.ID
		}
	}
}

func allTallies(t *testing.T, s *Store) []store.Tally {
	t.Helper()
	ts, err := s.SumTallies(context.Background(), []string{"bill"}, -1<<40, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// replayed is what tally.Replayer derives from the store's records alone.
func replayed(t *testing.T, s *Store) []store.Tally {
	t.Helper()
	rp := tally.NewReplayer("bill")
	err := s.JourneyRecords(context.Background(), "bill", time.Unix(1<<40, 0), func(r store.JourneyRecord) error {
		rp.Add(r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Tally
	for _, x := range tally.Merge(rp.Tallies()) {
		x.Journey, x.Cohort = "", 0
		out = append(out, x)
	}
	return tally.Merge(out)
}

func sameTallies(t *testing.T, what string, got, want []store.Tally) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s: the tallies differ (%d rows, want %d)", what, len(got), len(want))
	for _, x := range got {
		if !slices.Contains(want, x) {
			t.Errorf("  got  %+v", x)
		}
	}
	for _, x := range want {
		if !slices.Contains(got, x) {
			t.Errorf("  want %+v", x)
		}
	}
}

// A database written by the previous schema (7) upgrades to the tallies,
// outbox cohorts and instance progress that live commits of the same
// inputs produce, and the two stores stay equal as the same inputs go on.
// The engine runs testdata/tally's journey for both; half-way, while many
// instances are active and outbox items pending, dead and delivered, one
// store is taken back to schema 7 and reopened.
func TestUpgradeToTallies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	livePath, oldPath := filepath.Join(dir, "live.db"), filepath.Join(dir, "old.db")
	live, err := Open(livePath)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	old, err := Open(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 17, 0, 0, time.UTC)
	sim := newBillSim(t, 240, 97*time.Second, t0) // 240 customers over six and a half cohort hours
	// both runs fn on both stores (old is reopened below: the variable is
	// read at each call).
	both := func(fn func(s *Store) error) {
		t.Helper()
		for _, s := range []*Store{live, old} {
			if err := fn(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	settled := 0
	// settle delivers, or kills (every fifth), the items due by now.
	settle := func(now time.Time) {
		items, err := live.ClaimOutbox(ctx, now, time.Minute, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for k, it := range items {
			both(func(s *Store) error {
				if k%5 == 4 {
					return s.Dead(ctx, it.Send.Key, 1, now, "bounced")
				}
				return s.Delivered(ctx, it.Send.Key, now)
			})
			settled++
		}
	}
	for sim.now.Before(t0.Add(4 * time.Hour)) {
		ws := sim.Window(10 * time.Minute)
		both(func(s *Store) error { return s.Commit(ctx, &store.Batch{Customers: ws}) })
		if sim.now.Sub(t0)%time.Hour == 0 {
			settle(sim.now)
		}
	}
	beforeTallies, beforeProgress := allTallies(t, live), progress(t, live)
	if len(beforeTallies) == 0 || len(beforeProgress) == 0 || settled == 0 {
		t.Fatalf("half-way: %d tallies, %d active instances, %d items settled: the test needs all three", len(beforeTallies), len(beforeProgress), settled)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	toSchema7(t, oldPath)
	if old, err = Open(oldPath); err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	sameTallies(t, "upgraded", allTallies(t, old), beforeTallies)
	same := func(what string, got, want map[string]string) {
		t.Helper()
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: instance %s has progress %s, want %s", what, id, got[id], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d active instances, want %d", what, len(got), len(want))
		}
	}
	same("upgraded", progress(t, old), beforeProgress)
	var nulls int
	if err := rawDB(t, oldPath).QueryRow("SELECT count(*) FROM outbox WHERE state != 'delivered' AND cohort IS NULL").Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if nulls != 0 {
		t.Errorf("%d pending or dead outbox items without a cohort after the upgrade", nulls)
	}

	// The same inputs go on, the engine running on each store's own
	// states (the upgraded store's read back from it): the instances the
	// upgrade found active end, and the items it found pending are settled.
	simOld := sim.Fork(t, func(id string) (*engine.Customer, error) { return old.Customer(ctx, id) })
	for !sim.Done() {
		ws, wsOld := sim.Window(10*time.Minute), simOld.Window(10*time.Minute)
		if err := live.Commit(ctx, &store.Batch{Customers: ws}); err != nil {
			t.Fatal(err)
		}
		if err := old.Commit(ctx, &store.Batch{Customers: wsOld}); err != nil {
			t.Fatal(err)
		}
		if sim.now.Sub(t0)%time.Hour == 0 {
			settle(sim.now)
		}
	}
	settle(sim.now.Add(time.Hour))
	final := allTallies(t, live)
	sameTallies(t, "after the upgrade, the same inputs", allTallies(t, old), final)
	sameTallies(t, "live, against a replay of its records", final, replayed(t, live))
	t.Logf("%d steps, %d tally rows, %d items settled", sim.Steps, len(final), settled)
}
