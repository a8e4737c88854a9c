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
	records, err = s.pruneIndex(ctx, pHistTime, cut, func(t *tx, k, v []byte) (int64, error) {
		x, err := decodeHistIndex(v)
		if err != nil {
			return 0, fmt.Errorf("history index entry %x: %w", k, err)
		}
		var kept histIndex
		for _, r := range x {
			hkey := historyKey(r.customer, r.seq)
			if r.outbox != "" {
				need, err := t.outboxNeeds(hkey, r.outbox)
				if err != nil {
					return 0, err
				}
				if need {
					kept = append(kept, r)
					continue
				}
			}
			t.del(hkey)
		}
		if len(kept) > 0 {
			t.set(bytes.Clone(k), kept.encode())
		} else {
			t.del(bytes.Clone(k))
		}
		return int64(len(x) - len(kept)), nil
	})
	if err != nil {
		return records, 0, fmt.Errorf("pebble: prune history: %w", err)
	}
	items, err = s.pruneIndex(ctx, pDelivAt, cut, func(t *tx, k, _ []byte) (int64, error) {
		t.del(bytes.Clone(k))
		_, rest, err := readTime(k[len(pDelivAt):])
		if err != nil {
			return 0, err
		}
		key := outboxKey(string(rest))
		v, found, err := t.get(key)
		if err != nil || !found {
			return 0, err
		}
		if r, err := decodeOut(v); err != nil || r.state != stateDelivered {
			return 0, err // not ours to forget (and no longer indexed)
		}
		t.del(key)
		return 1, nil
	})
	if err != nil {
		return records, items, fmt.Errorf("pebble: prune history: %w", err)
	}
	return records, items, nil
}

// pruneIndex walks the entries of the time index under prefix filed before
// cut (unix microseconds), pruneChunk a write request, handing each to
// forget, which stages what to delete and says how many records went. Each
// chunk resumes after the last entry the previous one handled, so an entry
// forget rewrote (kept records) is not handled twice in one prune.
func (s *Store) pruneIndex(ctx context.Context, prefix []byte, cut int64, forget func(t *tx, k, v []byte) (int64, error)) (int64, error) {
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
			visited := 0
			for ok := it.First(); ok && visited < pruneChunk; ok = it.Next() {
				visited++
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				m, err := forget(t, it.Key(), v)
				if err != nil {
					return err
				}
				n += m
				if visited == pruneChunk {
					next = append(bytes.Clone(it.Key()), 0) // the first key after this one
				}
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
