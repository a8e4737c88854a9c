package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
)

// PruneHistory implements store.HistoryPruner in two passes, each in
// chunks of pruneChunk keys, one write request (one batch) per chunk, so
// commits go on between them; each chunk resumes after the last key the
// previous one visited, so each pass reads its keys once.
//
//   - The history: h/ has no time index, so the pass reads every record
//     (one scan of the whole history per prune; the server prunes
//     periodically, hourly or so) and decodes only its "at" member. A
//     record before before is forgotten unless it is the send of an
//     outbox item that is pending or dead: the item under its "key" whose
//     customer and sequence number point at this very record (a held
//     decision and the later decision to deliver share a key; only the
//     latter is the item's send). A record that does not decode stops the
//     prune with an error naming it: nothing is forgotten unread.
//   - The outbox: o/ is read whole, and an item delivered before before
//     (its settledAt, kept in microseconds) is forgotten. A delivered item
//     has no od/ entry (settle removes it) nor d/ entry, so o/<key> is all
//     there is to delete.
//
// Nothing else is touched: customers, the timer and instance indexes,
// message ids and programs. The key layout is unchanged (no new index, no
// schema version). The counts are of h/ and o/ keys deleted; on an error,
// they count what the chunks committed before it forgot.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (records, items int64, err error) {
	records, err = s.pruneScan(ctx, pHistory, func(t *tx, k, v []byte) (bool, error) {
		return t.forgetRecord(k, v, before)
	})
	if err != nil {
		return records, 0, fmt.Errorf("pebble: prune history: %w", err)
	}
	// A delivery time (settledAt) is whole microseconds: it is before
	// before exactly when it is before before rounded up to one.
	cut := ceilMicros(before)
	items, err = s.pruneScan(ctx, pOutbox, func(_ *tx, k, v []byte) (bool, error) {
		r, err := decodeOut(v)
		if err != nil {
			return false, fmt.Errorf("outbox item %q: %w", k[len(pOutbox):], err)
		}
		return r.state == stateDelivered && r.settledAt < cut, nil
	})
	if err != nil {
		return records, items, fmt.Errorf("pebble: prune history: %w", err)
	}
	return records, items, nil
}

// pruneScan walks the keys under prefix in chunks of pruneChunk keys, one
// write request (one batch) per chunk, deleting those forget says to, and
// returns how many it deleted. Each chunk resumes after the last key the
// previous one visited, so the walk reads each key once.
func (s *Store) pruneScan(ctx context.Context, prefix []byte, forget func(t *tx, k, v []byte) (bool, error)) (int64, error) {
	var total int64
	for lower := prefix; lower != nil; {
		var n int64
		var next []byte
		err := s.write(ctx, func(t *tx) error {
			n, next = 0, nil // the writer may run this twice (see runGroup)
			it, err := t.b.NewIter(&pdb.IterOptions{LowerBound: lower, UpperBound: upper(prefix)})
			if err != nil {
				return err
			}
			defer it.Close()
			visited := 0
			var last []byte
			for ok := it.First(); ok && visited < pruneChunk; ok = it.Next() {
				visited++
				k := it.Key()
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				last = append(last[:0], k...)
				del, err := forget(t, k, v)
				if err != nil {
					return err
				}
				if del {
					t.del(bytes.Clone(k))
					n++
				}
			}
			if visited == pruneChunk {
				next = append(last, 0) // the first key after the last visited
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

// histTime is what PruneHistory decodes of a history record: the engine's
// records (Transition, Send, Refusal, Error, Emitted) all have an "at"
// member; Key is a send's outbox key.
type histTime struct {
	At  *time.Time `json:"at"`
	Key string     `json:"key"`
}

// forgetRecord reports whether the history record k, v is to be forgotten:
// it is before before and is not the send of a pending or dead outbox item.
func (t *tx) forgetRecord(k, v []byte, before time.Time) (bool, error) {
	if len(v) == 0 || !knownKind(v[0]) {
		return false, fmt.Errorf("%s: %w", describeHistKey(k), errRecord)
	}
	var h histTime
	if err := json.Unmarshal(v[1:], &h); err != nil {
		return false, fmt.Errorf("%s: %w", describeHistKey(k), err)
	}
	if h.At == nil {
		return false, fmt.Errorf("%s: no time: %w", describeHistKey(k), errRecord)
	}
	if !h.At.Before(before) {
		return false, nil
	}
	if v[0] != kindSend {
		return true, nil
	}
	keep, err := t.outboxNeeds(k, h.Key)
	if err != nil {
		return false, fmt.Errorf("%s: %w", describeHistKey(k), err)
	}
	return !keep, nil
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

func knownKind(k byte) bool {
	switch k {
	case kindTransition, kindSend, kindRefusal, kindError, kindEmit:
		return true
	}
	return false
}

// describeHistKey names a history key in an error: its customer and
// sequence number, or the raw key if it does not parse.
func describeHistKey(k []byte) string {
	c, rest, err := readStr(k[len(pHistory):])
	if err != nil || len(rest) != 8 {
		return fmt.Sprintf("history record %q", k)
	}
	return fmt.Sprintf("history record %d of customer %q", binary.BigEndian.Uint64(rest), c)
}
