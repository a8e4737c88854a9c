package pebble

import (
	"encoding/binary"
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
	downgradeTo2(t, dir, nil)

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

// TestPruneHistoryBadIndexEntry: an index entry that does not decode is
// kept and named in the error, and the prune goes on past it.
func TestPruneHistoryBadIndexEntry(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := storetest.T0
	k := histTimeKey(ceilMicros(t0)-1, 7)
	if err := s.db.Set(k, []byte("\x09garbage"), pdb.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("good", 1, t0)}}); err != nil {
		t.Fatal(err)
	}
	records, _, err := s.PruneHistory(bg, t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "1 history index entries could not be read and were kept; the first: history index entry") {
		t.Errorf("PruneHistory: %v, want an error naming the entry", err)
	}
	if ts, _ := s.Transitions(bg, "good"); len(ts) != 0 || records != 2 {
		t.Errorf("past the bad entry: %d records pruned, %d transitions left; want 2, 0", records, len(ts))
	}
	if _, found, err := get(s.db, k); err != nil || !found {
		t.Errorf("the bad entry: found %v, %v", found, err)
	}
}

// downgradeTo2 takes the store in dir back to what a layout-2 binary left:
// no time indexes, version 2; then extra runs on the raw database.
func downgradeTo2(t *testing.T, dir string, extra func(db *pdb.DB)) {
	t.Helper()
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
	if extra != nil {
		extra(db)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// The layout-3 indexing of an older store: a record it cannot read does
// not stop the store from opening (it is kept: never pruned); progress left
// by an interrupted run is resumed, unless the store was written since.
func TestIndexingFromLayout2(t *testing.T) {
	defer func(n int) { migrateChunk = n }(migrateChunk)
	migrateChunk = 2 // several batches, each recording its progress
	t0 := storetest.T0
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(bg, &store.Batch{Customers: []store.CustomerWrite{storetest.Write("a", 1, t0)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	seqOf := func(t *testing.T, db *pdb.DB) uint64 {
		v, _, err := get(db, kSeq)
		if err != nil {
			t.Fatal(err)
		}
		return seqValue(v)
	}
	cases := []struct {
		name  string
		extra func(t *testing.T, db *pdb.DB)
		// want: records pruned at T0+1000h; kept: a bad record survives
		want int64
	}{
		{"fresh", nil, 2},
		{"a record it cannot read", func(t *testing.T, db *pdb.DB) {
			if err := db.Set(historyKey("bad", 1<<40), []byte("t{not json"), pdb.Sync); err != nil {
				t.Fatal(err)
			}
		}, 2},
		{"progress says the history is done: resumed, so not indexed", func(t *testing.T, db *pdb.DB) {
			v := append(binary.BigEndian.AppendUint64(nil, seqOf(t, db)), upper(pHistory)...)
			if err := db.Set(kMigrate3, v, pdb.Sync); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"progress from before a later commit: started over", func(t *testing.T, db *pdb.DB) {
			v := append(binary.BigEndian.AppendUint64(nil, seqOf(t, db)-1), upper(pHistory)...)
			if err := db.Set(kMigrate3, v, pdb.Sync); err != nil {
				t.Fatal(err)
			}
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t)
			downgradeTo2(t, dir, func(db *pdb.DB) {
				if tc.extra != nil {
					tc.extra(t, db)
				}
			})
			s, err := Open(dir)
			if err != nil {
				t.Fatalf("opening a layout-2 store: %v", err)
			}
			defer s.Close()
			if _, found, _ := get(s.db, kMigrate3); found {
				t.Error("the indexing progress is still there after the upgrade")
			}
			records, _, err := s.PruneHistory(bg, t0.Add(1000*time.Hour))
			if err != nil || records != tc.want {
				t.Errorf("PruneHistory = %d, %v; want %d records", records, err, tc.want)
			}
			if tc.name == "a record it cannot read" {
				if _, found, _ := get(s.db, historyKey("bad", 1<<40)); !found {
					t.Error("the record the indexing could not read was pruned")
				}
			}
		})
	}
}
