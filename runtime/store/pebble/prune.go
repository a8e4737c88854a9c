package pebble

import (
	"bytes"
	"context"
	"fmt"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
)

// PruneHistory implements store.HistoryPruner through two time indexes
// (schema 3), so that a prune costs what it forgets, not the size of the
// history:
//
//   - ht/<t><seq> lists the history records one commit wrote, filed under
//     the latest record's time t: an entry before the cut holds only
//     records before it. Each is forgotten unless it is the send of an
//     outbox item that is pending or dead (the item under its key whose
//     customer and sequence number point at this very record: a held
//     decision and the later decision to deliver share a key); the entry
//     then keeps just those, and a later prune looks at them again. A
//     record committed well after its time (timers handled after an
//     outage) shares its commit's later time and waits for a later prune.
//   - dv/<t><key> lists delivered outbox items by delivery time: each
//     before the cut is forgotten (o/<key>; a delivered item has no od/ or
//     d/ entry left).
//
// Both walk their index from its start in chunks of pruneChunk entries,
// one write request (one batch) per chunk, so commits go on between them.
// Times are compared in whole microseconds rounded up, so an entry in the
// very microsecond of the cut waits for the next prune, never the reverse.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (records, items int64, err error) {
	cut := ceilMicros(before)
	var unread int
	var firstUnread error
	records, err = s.pruneIndex(ctx, pHistTime, cut, func(t *tx, k, v []byte) (int64, int, error) {
		x, err := decodeHistIndex(v)
		if err != nil {
			// Kept, counted, and named at the end: one bad entry must not
			// stop every prune after it.
			if unread++; firstUnread == nil {
				firstUnread = fmt.Errorf("history index entry %x: %w", k, err)
			}
			return 0, 1, nil
		}
		var kept histIndex
		for _, r := range x {
			hkey := historyKey(r.customer, r.seq)
			if r.outbox != "" {
				need, err := t.outboxNeeds(hkey, r.outbox)
				if err != nil {
					return 0, 0, err
				}
				if need {
					kept = append(kept, r)
					continue
				}
			}
			// Its jr/ entry goes with it: the journey is in the record.
			v, found, err := t.get(hkey)
			if err != nil {
				return 0, 0, err
			}
			if j, ok := recordJourney(v); found && ok {
				t.del(journeyKey(j, r.seq))
			}
			t.del(hkey)
		}
		switch {
		case len(kept) == 0:
			t.del(bytes.Clone(k))
		case len(kept) < len(x):
			t.set(bytes.Clone(k), kept.encode())
		}
		return int64(len(x) - len(kept)), len(x), nil
	})
	if err != nil {
		return records, 0, fmt.Errorf("pebble: prune history: %w", err)
	}
	// The failed-send index by the sends' own time: its entries before the
	// cut name records that go (or, committed late, go at a later prune;
	// they leave the list a little early, as their time says they should).
	if _, err := s.pruneIndex(ctx, pFailed, cut, func(t *tx, k, _ []byte) (int64, int, error) {
		t.del(bytes.Clone(k))
		return 0, 1, nil
	}); err != nil {
		return records, 0, fmt.Errorf("pebble: prune history: failed sends: %w", err)
	}
	items, err = s.pruneIndex(ctx, pDelivAt, cut, func(t *tx, k, _ []byte) (int64, int, error) {
		t.del(bytes.Clone(k))
		at, rest, err := readTime(k[len(pDelivAt):])
		if err != nil {
			return 0, 1, nil // a stray entry: gone
		}
		key := outboxKey(string(rest))
		v, found, err := t.get(key)
		if err != nil || !found {
			return 0, 1, err
		}
		if r, err := decodeOut(v); err != nil || r.state != stateDelivered || r.settledAt != at {
			return 0, 1, nil // not this entry's delivery: only the stale entry goes
		}
		t.del(key)
		return 1, 1, nil
	})
	if err != nil {
		return records, items, fmt.Errorf("pebble: prune history: %w", err)
	}
	if unread > 0 {
		return records, items, fmt.Errorf("pebble: prune history: %d history index entries could not be read and were kept; the first: %w", unread, firstUnread)
	}
	return records, items, nil
}

// pruneIndex walks the entries of the time index under prefix filed before
// cut (unix microseconds), handing each to forget, which stages what to
// delete and says how many records went and how many it looked at. One
// write request handles entries until pruneChunk records were looked at
// (an ht/ entry lists a whole commit's), so commits go on between chunks.
// Each chunk resumes after the last entry the previous one handled, so an
// entry forget rewrote (kept records) is not handled twice in one prune.
func (s *Store) pruneIndex(ctx context.Context, prefix []byte, cut int64, forget func(t *tx, k, v []byte) (deleted int64, seen int, err error)) (int64, error) {
	var total int64
	bound := appendTime(bytes.Clone(prefix), cut)
	for lower := prefix; lower != nil; {
		var n int64
		var next []byte
		err := s.write(ctx, func(t *tx) error {
			n, next = 0, nil
			it, err := t.b.NewIter(&pdb.IterOptions{LowerBound: lower, UpperBound: bound})
			if err != nil {
				return err
			}
			defer it.Close()
			seen := 0
			for ok := it.First(); ok; ok = it.Next() {
				if seen >= pruneChunk {
					next = bytes.Clone(it.Key()) // the next chunk starts here
					break
				}
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				m, k, err := forget(t, it.Key(), v)
				if err != nil {
					return err
				}
				n += m
				seen += k
			}
			return it.Error()
		})
		if err != nil {
			return total, err
		}
		total += n
		lower = next
	}
	return total, nil
}

// outboxNeeds reports whether the send record under hkey is the send of a
// pending or dead outbox item under key, which delivery (ClaimOutbox) or
// the dead-letter queue (DeadLetters) still reads.
func (t *tx) outboxNeeds(hkey []byte, key string) (bool, error) {
	v, found, err := t.get(outboxKey(key))
	if err != nil || !found {
		return false, err
	}
	r, err := decodeOut(v)
	if err != nil {
		return false, fmt.Errorf("outbox item %q: %w", key, err)
	}
	if r.state != statePending && r.state != stateDead {
		return false, nil
	}
	return bytes.Equal(historyKey(r.customer, r.seq), hkey), nil
}
