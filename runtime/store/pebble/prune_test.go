package pebble

import (
	"fmt"
	"strings"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// smallChunks makes prunes go in chunks of n keys for the test.
func smallChunks(t *testing.T, n int) {
	old := pruneChunk
	pruneChunk = n
	t.Cleanup(func() { pruneChunk = old })
}

// TestPruneHistoryChunks: a prune of more commits and items than a chunk
// holds (chunks of 3 index entries) forgets all it should and nothing
// else, and an entry that keeps a pending send is looked at again, not
// lost, by a later prune.
func TestPruneHistoryChunks(t *testing.T) {
	smallChunks(t, 3)
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0, day := storetest.T0, 24*time.Hour
	const n = 10
	id := func(i int) string { return fmt.Sprintf("c%02d", i) }
	// Each write: two transitions and a send to deliver (a new key each
	// time), so 3 records and an outbox item.
	var first []store.CustomerWrite
	for i := range n {
		w := storetest.Write(id(i), 1, t0)
		first = append(first, w)
		if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.Delivered(bg, w.Results[0].Sends[0].Key, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var last []store.CustomerWrite
	for i := range n {
		w := storetest.Write(id(i), 2, t0.Add(10*day))
		last = append(last, w)
		if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
			t.Fatal(err)
		}
	}

	// Nothing is before T0: nothing is forgotten.
	if records, items, err := s.PruneHistory(bg, t0); err != nil || records != 0 || items != 0 {
		t.Fatalf("PruneHistory(T0) = %d, %d, %v; want 0, 0", records, items, err)
	}

	// Day 5: the old transitions go, and the old sends of the delivered
	// items, with those items (delivered at 1h); the pending items' sends
	// stay.
	records, items, err := s.PruneHistory(bg, t0.Add(5*day))
	if err != nil {
		t.Fatal(err)
	}
	if records != 2*n+n/2 || items != n/2 {
		t.Errorf("PruneHistory = %d records, %d items; want %d, %d", records, items, 2*n+n/2, n/2)
	}
	for i := range n {
		ts, err := s.Transitions(bg, id(i))
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || !ts[0].At.Equal(t0.Add(10*day)) {
			t.Errorf("transitions of %s: %+v", id(i), ts)
		}
		rs, err := s.Sends(bg, id(i))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.Key+":"+r.Delivery)
		}
		want := []string{last[i].Results[0].Sends[0].Key + ":pending"}
		if i%2 == 1 {
			want = append([]string{first[i].Results[0].Sends[0].Key + ":pending"}, want...)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("sends of %s: %v, want %v", id(i), got, want)
		}
	}
	claimed, err := s.ClaimOutbox(bg, t0.Add(11*day), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != n+n/2 {
		t.Errorf("claimed %d items, want %d", len(claimed), n+n/2)
	}
	for _, it := range claimed {
		if it.Send.Name != "nudge_email" || it.Send.Fate != engine.FateDeliver {
			t.Errorf("claimed item without its send: %+v", it)
		}
	}
	// Again: nothing more to forget.
	if r, i, err := s.PruneHistory(bg, t0.Add(5*day)); err != nil || r != 0 || i != 0 {
		t.Errorf("second PruneHistory = %d, %d, %v; want 0, 0", r, i, err)
	}
	// Once the kept sends' items are delivered, the entries that kept them
	// give them up.
	for i := 1; i < n; i += 2 {
		if err := s.Delivered(bg, first[i].Results[0].Sends[0].Key, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if r, i, err := s.PruneHistory(bg, t0.Add(5*day)); err != nil || r != n/2 || i != n/2 {
		t.Errorf("PruneHistory after the deliveries = %d, %d, %v; want %d, %d", r, i, err, n/2, n/2)
	}
	if got := countKeys(t, s, pHistTime); got != n {
		t.Errorf("%d history index entries left, want %d (the day-10 commits)", got, n)
	}
}

// countKeys counts the keys under prefix.
func countKeys(t *testing.T, s *Store, prefix []byte) int {
	t.Helper()
	n := 0
	if err := scan(s.db, prefix, upper(prefix), func(_, _ []byte) (bool, error) { n++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPruneHistoryHeld: a held decision and the later decision to deliver
// share a key; the held one goes, the one the pending item points at
// stays.
func TestPruneHistoryHeld(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := storetest.T0
	w := storetest.Write("c", 1, t0)
	sd := w.Results[0].Sends[0]
	held := sd
	held.Fate, held.DueAt = engine.FateHeld, t0.Add(time.Hour)
	w.Results[0].Sends = []engine.Send{held}
	w.Results[0].Transitions = nil
	if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatal(err)
	}
	sd.At = t0.Add(time.Hour)
	w.Results[0].Sends = []engine.Send{sd}
	if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
		t.Fatal(err)
	}
	records, items, err := s.PruneHistory(bg, t0.Add(2*time.Hour))
	if err != nil || records != 1 || items != 0 {
		t.Fatalf("PruneHistory = %d, %d, %v; want 1, 0", records, items, err)
	}
	rs, err := s.Sends(bg, "c")
	if err != nil || len(rs) != 1 || rs[0].Fate != engine.FateDeliver || rs[0].Delivery != store.DeliveryPending {
		t.Fatalf("sends after the prune: %+v, %v", rs, err)
	}
	claimed, err := s.ClaimOutbox(bg, t0.Add(3*time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 1 || !claimed[0].Send.At.Equal(sd.At) {
		t.Fatalf("claim after the prune: %+v, %v", claimed, err)
	}
}

// TestPruneHistoryAfterUpgrade: a store of schema 2 (no time indexes) is
// indexed when opened, so its old history and delivered items are pruned
// like new ones.
func TestPruneHistoryAfterUpgrade(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := storetest.T0
	var keys []string
	for _, id := range []string{"a", "b"} {
		w := storetest.Write(id, 1, t0)
		if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{w}}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, w.Results[0].Sends[0].Key)
	}
	if err := s.Delivered(bg, keys[0], t0.Add(time.Hour)); err != nil { // b's stays pending
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to what a schema-2 binary left.
	db, err := pdb.Open(dir, options(vfs.Default))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{pHistTime, pDelivAt} {
		if err := db.DeleteRange(p, upper(p), pdb.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeVersion(db, 2); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := readVersion(s.db); err != nil || v != SchemaVersion {
		t.Fatalf("version %d after the upgrade (%v), want %d", v, err, SchemaVersion)
	}
	records, items, err := s.PruneHistory(bg, t0.Add(1000*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Each write: two transitions and a send; b's send stays (pending).
	if records != 5 || items != 1 {
		t.Errorf("PruneHistory = %d records, %d items; want 5, 1", records, items)
	}
	for _, id := range []string{"a", "b"} {
		if ts, err := s.Transitions(bg, id); err != nil || len(ts) != 0 {
			t.Errorf("transitions of %s after the prune: %d (%v)", id, len(ts), err)
		}
	}
	claimed, err := s.ClaimOutbox(bg, t0.Add(1001*time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Send.Key != keys[1] {
		t.Errorf("claim after the prune: %+v, %v", claimed, err)
	}
}

// TestPruneHistoryBadIndexEntry: an index entry that does not decode stops
// the prune with an error naming it, and nothing of it is forgotten.
func TestPruneHistoryBadIndexEntry(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := histTimeKey(0, 7)
	if err := s.db.Set(k, []byte("\x09garbage"), pdb.Sync); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.PruneHistory(bg, storetest.T0)
	if err == nil || !strings.Contains(err.Error(), "history index entry") {
		t.Errorf("PruneHistory: %v, want an error naming the entry", err)
	}
	if _, found, err := get(s.db, k); err != nil || !found {
		t.Errorf("the bad entry: found %v, %v", found, err)
	}
}
