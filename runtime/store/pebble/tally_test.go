package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// Tally keys round-trip and sort as their fields do, component by
// component, whatever bytes the names hold and whatever the cohort's sign.
func TestTallyKeys(t *testing.T) {
	ts := []store.Tally{
		{Journey: "j", Cohort: -2, Kind: "edge", A: "s", B: "t"},
		{Journey: "j", Cohort: -1, Kind: "edge", A: "s", B: "t"},
		{Journey: "j", Cohort: 0, Kind: "edge", A: "s", B: ""},
		{Journey: "j", Cohort: 0, Kind: "edge", A: "s", B: "t"},
		{Journey: "j", Cohort: 0, Kind: "edge", A: "s\x00", B: "t"},
		{Journey: "j", Cohort: 0, Kind: "edge", A: "s\x00\xff", B: "\x00"},
		{Journey: "j", Cohort: 0, Kind: "edge", A: "sa", B: ""},
		{Journey: "j", Cohort: 0, Kind: "entered"},
		{Journey: "j", Cohort: 1 << 40, Kind: "edge"},
		{Journey: "j\x00", Cohort: math.MinInt64, Kind: "edge"},
		{Journey: "ja", Cohort: math.MinInt64, Kind: ""},
	}
	var keys [][]byte
	for _, x := range ts {
		k := tallyKey(x)
		got, err := readTallyKey(k)
		if err != nil || got != x {
			t.Errorf("readTallyKey(tallyKey(%+v)) = %+v, %v", x, got, err)
		}
		keys = append(keys, k)
	}
	if !slices.IsSortedFunc(keys, bytes.Compare) {
		t.Errorf("tally keys do not sort as their tallies: %q", keys)
	}
	// Every key of a journey's cohort range lies within the range's bounds.
	lo, hi := tallyPrefix("j", 0), tallyPrefix("j", 1)
	for i, x := range ts {
		in := x.Journey == "j" && x.Cohort >= 0 && x.Cohort < 1
		if got := bytes.Compare(keys[i], lo) >= 0 && bytes.Compare(keys[i], hi) < 0; got != in {
			t.Errorf("%+v in [j/0, j/1): %v, want %v", x, got, in)
		}
	}
}

func TestTallyKeyMalformed(t *testing.T) {
	for _, k := range [][]byte{nil, []byte("t/"), []byte("x/j\x00\x01"), []byte("t/j\x00\x01"), []byte("t/j\x00\x01\x80\x00\x00\x00\x00\x00\x00\x00e"),
		[]byte("t/j\x00\x02\x80\x00\x00\x00\x00\x00\x00\x00e\x00\x01a\x00\x01b")} {
		if got, err := readTallyKey(k); err == nil {
			t.Errorf("readTallyKey(%q) = %+v, want an error", k, got)
		}
	}
	for _, k := range [][]byte{nil, []byte("jr/j\x00\x01\x00"), []byte("h/j\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01")} {
		if j, seq, err := readJourneyKey(k); err == nil {
			t.Errorf("readJourneyKey(%q) = %q, %d, want an error", k, j, seq)
		}
	}
}

func FuzzTallyKey(f *testing.F) {
	f.Add(tallyKey(store.Tally{Journey: "j", Cohort: 7, Kind: "edge", A: "s\x00", B: "t"}))
	f.Add([]byte("t/\x00\x01"))
	f.Fuzz(func(t *testing.T, k []byte) {
		x, err := readTallyKey(k)
		if err != nil {
			return
		}
		if back := tallyKey(x); !bytes.Equal(back, k) {
			t.Fatalf("readTallyKey(%q) = %+v, which encodes as %q", k, x, back)
		}
	})
}

func FuzzJourneyKey(f *testing.F) {
	f.Add(journeyKey("j\x00", 42))
	f.Fuzz(func(t *testing.T, k []byte) {
		j, seq, err := readJourneyKey(k)
		if err != nil {
			return
		}
		if back := journeyKey(j, seq); !bytes.Equal(back, k) {
			t.Fatalf("readJourneyKey(%q) = %q, %d, which encodes as %q", k, j, seq, back)
		}
	})
}

func TestTallyValues(t *testing.T) {
	for _, c := range []struct {
		n   int64
		sum float64
	}{{1, 0}, {-1, 0}, {math.MaxInt64, 1.5}, {math.MinInt64, -0.25}, {0, 9}} {
		n, sum, err := decodeTally(encodeTally(c.n, c.sum))
		if err != nil || n != c.n || sum != c.sum {
			t.Errorf("decodeTally(encodeTally(%d, %g)) = %d, %g, %v", c.n, c.sum, n, sum, err)
		}
	}
	for _, v := range [][]byte{nil, {tallyFormat}, {2, 2, 0, 0, 0, 0, 0, 0, 0, 0}, append(encodeTally(1, 2), 0)} {
		if _, _, err := decodeTally(v); err == nil {
			t.Errorf("decodeTally(%x): no error", v)
		}
	}
}

func FuzzTallyValue(f *testing.F) {
	f.Add(encodeTally(3, 4.5))
	f.Fuzz(func(t *testing.T, v []byte) {
		n, sum, err := decodeTally(v)
		if err != nil {
			return
		}
		// A varint may come overlong: the values, not the bytes, round-trip.
		n2, sum2, err := decodeTally(encodeTally(n, sum))
		if err != nil || n2 != n || math.Float64bits(sum2) != math.Float64bits(sum) {
			t.Fatalf("decodeTally(%x) = %d, %g, which re-encodes as %d, %g (%v)", v, n, sum, n2, sum2, err)
		}
	})
}

// Outbox items of both formats decode; format 2 round-trips with its
// tally fields, format 1 has none (its settlement moves no tally).
func TestOutRecFormats(t *testing.T) {
	r2 := outRec{state: stateDead, attempt: 3, next: -5, settledAt: 7, lastError: "x", customer: "c\x00", seq: 9,
		journey: "j", name: "mail", hasCohort: true, cohort: -1}
	if got, err := decodeOut(r2.encode()); err != nil || got != r2 {
		t.Errorf("format 2: %+v, %v, want %+v", got, err, r2)
	}
	noCohort := r2
	noCohort.hasCohort, noCohort.cohort = false, 0
	if got, err := decodeOut(noCohort.encode()); err != nil || got != noCohort {
		t.Errorf("format 2 without a cohort: %+v, %v", got, err)
	}
	v1 := encodeOut1(r2)
	want := r2
	want.journey, want.name, want.hasCohort, want.cohort = "", "", false, 0
	if got, err := decodeOut(v1); err != nil || got != want {
		t.Errorf("format 1: %+v, %v, want %+v", got, err, want)
	}
	for _, v := range [][]byte{nil, {3}, append(v1, 0), r2.encode()[:len(r2.encode())-1]} {
		if got, err := decodeOut(v); err == nil {
			t.Errorf("decodeOut(%x) = %+v, want an error", v, got)
		}
	}
}

// encodeOut1 is an outbox item as a layout-4 binary wrote it (format 1).
func encodeOut1(r outRec) []byte {
	v := r.encode()
	tail := len(appendString(appendString(nil, r.journey), r.name)) + 1
	if r.hasCohort {
		tail += len(binary.AppendVarint(nil, r.cohort))
	}
	v = slices.Clone(v[:len(v)-tail])
	v[0] = outFormat1
	return v
}

func FuzzDecodeOut(f *testing.F) {
	f.Add((&outRec{state: statePending, customer: "c", journey: "j", name: "n", hasCohort: true, cohort: 5}).encode())
	f.Add(encodeOut1(outRec{state: stateDelivered, customer: "c", seq: 4}))
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeOut(v)
		if err != nil || v[0] != outFormat {
			return
		}
		if back := r.encode(); !bytes.Equal(back, v) {
			// Varints have one encoding each: only a state byte or a
			// has-cohort byte other than 1 may differ.
			if r2, err := decodeOut(back); err != nil || r2 != r {
				t.Fatalf("decodeOut(%x) = %+v, which encodes as %x (%+v, %v)", v, r, back, r2, err)
			}
		}
	})
}

func TestUpgradeTallies(t *testing.T) {
	var d dirs
	storetest.RunTallyUpgrade(t, storetest.TallyUpgrade{
		Open: func(t *testing.T) store.Store {
			s, err := Open(d.of(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		// Back to layout 4: no jr/ or t/ keys, outbox items of format 1
		// (the metric responses stay: layout 5 indexes them like the rest).
		Downgrade: func(t *testing.T) {
			db, err := pdb.Open(d.of(t), options(vfs.Default))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, p := range [][]byte{pJourney, pTally} {
				if err := db.DeleteRange(p, upper(p), pdb.Sync); err != nil {
					t.Fatal(err)
				}
			}
			b := db.NewBatch()
			err = scan(db, pOutbox, upper(pOutbox), func(k, v []byte) (bool, error) {
				r, err := decodeOut(v)
				if err != nil {
					return false, err
				}
				return true, b.Set(bytes.Clone(k), encodeOut1(r), nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(pdb.Sync); err != nil {
				t.Fatal(err)
			}
			if err := writeVersion(db, 4); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// Erase and PruneHistory take the jr/ entries of the records they delete
// with them: none is left naming a record that is gone.
func TestJourneyIndexFollowsTheHistory(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "jr"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	write := func(id string, fate string) store.CustomerWrite {
		in := id + "/j/1"
		return store.CustomerWrite{State: &engine.Customer{ID: id}, Results: []engine.Result{{
			Transitions: []engine.Transition{{Instance: in, Journey: "j", To: "s", Status: engine.StatusActive, At: storetest.T0}},
			Sends:       []engine.Send{{Key: in + "/1/mail", Journey: "j", Instance: in, Name: "mail", Fate: fate, At: storetest.T0}},
			Responses:   []engine.Response{{Metric: "nps", Journey: "j", Instance: in, Value: 9, At: storetest.T0}, {Metric: "nps", Value: 1, At: storetest.T0}},
		}}}
	}
	if err := s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{write("a", engine.FateDeliver), write("b", engine.FateSuppressed), write("c", engine.FateDeliver)}}); err != nil {
		t.Fatal(err)
	}
	index := func() map[string]int {
		n := map[string]int{}
		err := scan(s.db, pJourney, upper(pJourney), func(k, v []byte) (bool, error) {
			j, seq, err := readJourneyKey(k)
			if err != nil || (j != "j" && j != "") {
				t.Fatalf("jr/ key %q: %q, %v", k, j, err)
			}
			if _, found, _ := get(s.db, historyKey(string(v), seq)); !found {
				t.Errorf("jr/ entry %d of %q names a record that is gone", seq, v)
			}
			n[string(v)]++
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := index(); got["a"] != 4 || got["b"] != 4 || got["c"] != 4 || len(got) != 3 {
		t.Fatalf("jr/ entries by customer %v, want 4 each (transition, send, response in j, response in none)", got)
	}
	if _, err := s.Erase(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := index(); got["a"] != 0 || got["b"] != 4 {
		t.Fatalf("jr/ entries after erasing a: %v", got)
	}
	if _, _, err := s.PruneHistory(ctx, storetest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// c's send is pending: the prune keeps it, and its entry.
	if got := index(); len(got) != 1 || got["c"] != 1 {
		t.Fatalf("jr/ entries after the prune: %v, want c's pending send alone", got)
	}
}
