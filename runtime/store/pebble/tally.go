package pebble

import (
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

var _ interface {
	store.JourneyRecords
	store.Tallies
} = (*Store)(nil)

// addTallies adds ts (each key at most once: tally.Merge) to the stored
// tallies: a read, then a write, of each key. This is safe without a lock
// because every write goes through the one writer goroutine (writer.go),
// which runs a group's requests one after the other against one indexed
// batch: a request's read sees the database plus every earlier request of
// the group, and nothing else writes meanwhile. A request does not see its
// own staged writes, hence each key once per request. A tally that sums to
// nothing is deleted: SumTallies leaves such rows out anyway.
func (t *tx) addTallies(ts []store.Tally) error {
	for _, d := range ts {
		k := tallyKey(d)
		v, found, err := t.get(k)
		if err != nil {
			return fmt.Errorf("tally %s: %w", d.Kind, err)
		}
		var n int64
		var sum float64
		if found {
			if n, sum, err = decodeTally(v); err != nil {
				return fmt.Errorf("tally %x: %w", k, err)
			}
		}
		n, sum = n+d.N, sum+d.Sum
		if n == 0 && sum == 0 {
			t.del(k)
			continue
		}
		t.set(k, encodeTally(n, sum))
	}
	return nil
}

// deliveryMove is what moving item r from delivery state was to its
// state now changes in the send_delivery tally: nothing for an item
// without a cohort (written before schema 6 and not placed by the
// upgrade).
func deliveryMove(r *outRec, was byte) []store.Tally {
	if !r.hasCohort || was == r.state {
		return nil
	}
	return []store.Tally{
		{Journey: r.journey, Cohort: r.cohort, Kind: tally.KindSendDelivery, A: r.name, B: deliveryName(was), N: -1},
		{Journey: r.journey, Cohort: r.cohort, Kind: tally.KindSendDelivery, A: r.name, B: deliveryName(r.state), N: 1},
	}
}

func deliveryName(state byte) string {
	switch state {
	case statePending:
		return store.DeliveryPending
	case stateDelivered:
		return store.DeliveryDelivered
	case stateDead:
		return store.DeliveryDead
	}
	return string(state)
}

// SumTallies implements store.Tallies: a walk of t/<journey><from> to
// t/<journey><to> per journey, summed by kind and names.
func (s *Store) SumTallies(ctx context.Context, journeys []string, from, to int64) ([]store.Tally, error) {
	type key struct{ kind, a, b string }
	sums := map[key]*store.Tally{}
	err := s.read(func() error {
		if from >= to {
			return nil
		}
		snap := s.db.NewSnapshot()
		defer snap.Close()
		for _, j := range slices.Compact(slices.Sorted(slices.Values(journeys))) {
			err := scan(snap, tallyPrefix(j, from), tallyPrefix(j, to), func(k, v []byte) (bool, error) {
				t, err := readTallyKey(k)
				if err != nil {
					return false, fmt.Errorf("tally key %x: %w", k, err)
				}
				n, sum, err := decodeTally(v)
				if err != nil {
					return false, fmt.Errorf("tally %x: %w", k, err)
				}
				kk := key{t.Kind, t.A, t.B}
				if p := sums[kk]; p != nil {
					p.N += n
					p.Sum += sum
					return true, nil
				}
				sums[kk] = &store.Tally{Kind: t.Kind, A: t.A, B: t.B, N: n, Sum: sum}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: tallies: %w", err)
	}
	var out []store.Tally // nil when there is none, as the other stores answer
	for _, t := range sums {
		if t.N != 0 || t.Sum != 0 {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(x, y store.Tally) int {
		if c := strings.Compare(x.Kind, y.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(x.A, y.A); c != 0 {
			return c
		}
		return strings.Compare(x.B, y.B)
	})
	return out, nil
}

// JourneyRecords implements store.JourneyRecords: a walk of jr/<journey>
// (commit order: the history's sequence) in one snapshot, each entry's
// record read from h/<customer><seq>; an entry whose record is gone (an
// erase or a prune under way) is skipped.
func (s *Store) JourneyRecords(ctx context.Context, journey string, until time.Time, fn func(store.JourneyRecord) error) error {
	err := s.read(func() error {
		snap := s.db.NewSnapshot()
		defer snap.Close()
		return journeyRecords(snap, journey, until, func(_ string, rec store.JourneyRecord) error { return fn(rec) })
	})
	if err != nil {
		return fmt.Errorf("pebble: records of journey %q: %w", journey, err)
	}
	return nil
}

// snapshotReader is a database or a snapshot: point reads and iterators.
type snapshotReader interface {
	reader
	NewIter(o *pdb.IterOptions) (*pdb.Iterator, error)
}

// journeyRecords calls fn with each record of journey before until, in
// commit order, and the customer whose record it is.
func journeyRecords(r snapshotReader, journey string, until time.Time, fn func(customer string, rec store.JourneyRecord) error) error {
	p := journeyPrefix(journey)
	return scan(r, p, upper(p), func(k, v []byte) (bool, error) {
		if len(k) != len(p)+8 {
			return false, fmt.Errorf("journey index key %x: %w", k, errKey)
		}
		customer := string(v)
		seq := binary.BigEndian.Uint64(k[len(p):])
		rec, at, ok, err := journeyRecord(r, journey, customer, seq)
		if err != nil {
			return false, err
		}
		if !ok || !at.Before(until) {
			return true, nil
		}
		return true, fn(customer, rec)
	})
}

// journeyRecord reads the record h/<customer><seq> as a journey record
// with its time; ok is false when it is gone or not a record of journey.
func journeyRecord(r reader, journey, customer string, seq uint64) (rec store.JourneyRecord, at time.Time, ok bool, err error) {
	v, found, err := get(r, historyKey(customer, seq))
	if err != nil || !found || len(v) == 0 {
		return rec, at, false, err
	}
	switch v[0] {
	case kindTransition:
		var tr engine.Transition
		if err := json.Unmarshal(v[1:], &tr); err != nil {
			return rec, at, false, fmt.Errorf("decoding a transition of %q: %w", customer, err)
		}
		rec.Transition, at = &tr, tr.At
	case kindSend:
		sr := &store.SendRecord{}
		if err := json.Unmarshal(v[1:], &sr.Send); err != nil {
			return rec, at, false, fmt.Errorf("decoding a send of %q: %w", customer, err)
		}
		if sr.Fate == engine.FateDeliver {
			ov, found, err := get(r, outboxKey(sr.Key))
			if err != nil {
				return rec, at, false, err
			}
			if found {
				o, err := decodeOut(ov)
				if err != nil {
					return rec, at, false, fmt.Errorf("outbox item %q: %w", sr.Key, err)
				}
				sr.Delivery = deliveryName(o.state)
			}
		}
		rec.Send, at = sr, sr.At
	case kindResponse:
		rp, err := store.DecodeResponse(v[1:])
		if err != nil {
			return rec, at, false, err
		}
		rec.Response, at = rp, rp.At
	default:
		return rec, at, false, nil
	}
	return rec, at, true, nil
}

// recordJourney is the journey of a history record (h/ value) that jr/
// indexes; ok is false for the others.
func recordJourney(v []byte) (journey string, ok bool) {
	if len(v) == 0 || (v[0] != kindTransition && v[0] != kindSend && v[0] != kindResponse) {
		return "", false
	}
	var j struct {
		Journey string `json:"journey"`
	}
	if json.Unmarshal(v[1:], &j) != nil {
		return "", false
	}
	return j.Journey, true
}

// indexJourneys (schema 5) files every transition and send of an older
// store under jr/ (metric responses were not recorded before it).
func indexJourneys(db *pdb.DB, b *pdb.Batch) error {
	return scan(db, pHistory, upper(pHistory), func(k, v []byte) (bool, error) {
		j, ok := recordJourney(v)
		if !ok {
			return true, nil
		}
		customer, rest, err := readStr(k[len(pHistory):])
		if err != nil || len(rest) != 8 {
			return false, fmt.Errorf("history key %x: %w", k, errKey)
		}
		return true, b.Set(journeyKey(j, binary.BigEndian.Uint64(rest)), []byte(customer), nil)
	})
}

// backfillTallies (schema 6) derives the tallies of an older store by
// replaying its records (tally.Replayer, through jr/, which schema 5
// made) in commit order across journeys: an instance renamed by a moved
// block goes on under the new name, and only a replay that saw its entry
// under the old one counts it as the commits did. Then it gives the
// outbox items not delivered yet the journey, name and cohort their
// settlement moves, and the active instances the stages and variants they
// had (tally.FillProgress). All in the batch that records version 6: an
// interrupted backfill starts over. The Replayer holds each instance's
// run (a few hundred bytes) until the end.
func backfillTallies(db *pdb.DB, b *pdb.Batch) error {
	snap := db.NewSnapshot()
	defer snap.Close()
	rep := tally.NewReplayer("")
	err := allJourneyRecords(snap, func(customer, journey string, seq uint64) error {
		rec, _, ok, err := journeyRecord(snap, journey, customer, seq)
		if ok {
			rep.Add(rec)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, t := range rep.Tallies() {
		if err := b.Set(tallyKey(t), encodeTally(t.N, t.Sum), nil); err != nil {
			return err
		}
	}
	err = scan(snap, pOutbox, upper(pOutbox), func(k, v []byte) (bool, error) {
		r, err := decodeOut(v)
		if err != nil {
			return false, fmt.Errorf("outbox item %q: %w", k[len(pOutbox):], err)
		}
		if r.state == stateDelivered {
			return true, nil // never moves again
		}
		sv, found, err := get(snap, historyKey(r.customer, r.seq))
		if err != nil {
			return false, err
		}
		var sd struct{ Journey, Instance, Name string }
		if !found || len(sv) == 0 || sv[0] != kindSend || json.Unmarshal(sv[1:], &sd) != nil {
			return true, nil // dead-lettered at its claim, nothing to place it by
		}
		r.journey, r.name = sd.Journey, sd.Name
		r.cohort, r.hasCohort = rep.SendCohort(string(k[len(pOutbox):]), sd.Instance) // none for a send the replay did not count
		return true, b.Set(k, r.encode(), nil)
	})
	if err != nil {
		return err
	}
	return scan(snap, pActCust, upper(pActCust), func(k, _ []byte) (bool, error) {
		id := string(k[len(pActCust):])
		ck := customerKey(id)
		v, found, err := get(snap, ck)
		if err != nil || !found {
			return err == nil, err
		}
		c, err := decodeCust(v, false)
		if err != nil {
			return false, fmt.Errorf("customer %q: %w", id, err)
		}
		state, changed, err := tally.FillProgress(c.state, func(_, instance string) ([]string, map[string]string, bool) {
			return rep.Progress(instance)
		})
		if err != nil {
			return false, fmt.Errorf("customer %q: %w", id, err)
		}
		if !changed {
			return true, nil
		}
		c.state = state
		return true, b.Set(ck, c.encode(), nil)
	})
}

// allJourneyRecords calls fn with every jr/ entry in commit order (the
// history's sequence) across journeys: a merge of one iterator per
// journey, each in order already.
func allJourneyRecords(r snapshotReader, fn func(customer, journey string, seq uint64) error) error {
	var its seqHeap
	defer func() {
		for _, c := range its {
			c.it.Close()
		}
	}()
	// The journeys: a skip over jr/, one seek per journey.
	for from := pJourney; ; {
		var j string
		found := false
		err := scan(r, from, upper(pJourney), func(k, _ []byte) (bool, error) {
			var err error
			j, _, err = readJourneyKey(k)
			found = err == nil
			if err != nil {
				return false, fmt.Errorf("journey index key %x: %w", k, err)
			}
			return false, nil
		})
		if err != nil {
			return err
		}
		if !found {
			break
		}
		p := journeyPrefix(j)
		it, err := r.NewIter(&pdb.IterOptions{LowerBound: p, UpperBound: upper(p)})
		if err != nil {
			return err
		}
		c := &seqCursor{journey: j, it: it}
		if c.load(it.First()) {
			its = append(its, c)
		} else {
			it.Close()
		}
		if c.err != nil {
			return c.err
		}
		from = upper(p)
	}
	heap.Init(&its)
	for len(its) > 0 {
		c := its[0]
		if err := fn(c.customer, c.journey, c.seq); err != nil {
			return err
		}
		if c.load(c.it.Next()) {
			heap.Fix(&its, 0)
			continue
		}
		if c.err != nil {
			return c.err
		}
		heap.Pop(&its)
		c.it.Close()
	}
	return nil
}

// seqCursor is one journey's jr/ iterator at its current entry.
type seqCursor struct {
	journey  string
	it       *pdb.Iterator
	seq      uint64
	customer string
	err      error
}

// load reads the entry the iterator is at; false at the end or on an
// error (in c.err).
func (c *seqCursor) load(ok bool) bool {
	if !ok {
		c.err = c.it.Error()
		return false
	}
	j, seq, err := readJourneyKey(c.it.Key())
	if err != nil || j != c.journey {
		c.err = fmt.Errorf("journey index key %x: %w", c.it.Key(), errKey)
		return false
	}
	v, err := c.it.ValueAndErr()
	if err != nil {
		c.err = err
		return false
	}
	c.seq, c.customer = seq, string(v)
	return true
}

type seqHeap []*seqCursor

func (h seqHeap) Len() int           { return len(h) }
func (h seqHeap) Less(i, k int) bool { return h[i].seq < h[k].seq }
func (h seqHeap) Swap(i, k int)      { h[i], h[k] = h[k], h[i] }
func (h *seqHeap) Push(x any)        { *h = append(*h, x.(*seqCursor)) }
func (h *seqHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
