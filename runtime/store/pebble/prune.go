package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// PruneHistory implements store.HistoryPruner in two passes, history then
// outbox, each in chunks of pruneChunk keys. A chunk is read from a
// snapshot, outside the writer, where the records are decoded; only the
// keys to forget go to the writer, in one write request (one batch) per
// chunk, which checks again what may have changed meanwhile (an outbox
// item's state). So commits go on between chunks and are held only for the
// deletes, and each chunk resumes after the last key the previous one read.
//
//   - The history: h/ has no time index, so the pass reads every record
//     (one scan of the whole history per prune, off the writer; the server
//     prunes hourly) and decodes only its "at" and "key" members. A record
//     before before is forgotten unless it is the send of an outbox item
//     that is pending or dead: the item under its "key" whose customer and
//     sequence number point at this very record (a held decision and the
//     later decision to deliver share a key; only the latter is the item's
//     send). A record that does not decode is kept and counted, and the
//     prune goes on; the error returned at the end names the first.
//   - The outbox: o/ is read whole, and an item delivered before before
//     (its settledAt, kept in microseconds) is forgotten. A delivered item
//     has no od/ entry (settle removes it) nor d/ entry, so o/<key> is all
//     there is to delete.
//
// Nothing else is touched: customers, the timer and instance indexes,
// message ids and programs. The counts are of h/ and o/ keys deleted.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (records, items int64, err error) {
	var unread int
	var firstUnread error
	records, err = s.pruneScan(ctx, pHistory,
		func(k, v []byte) (pruneCandidate, bool) {
			c, ok, err := historyCandidate(k, v, before)
			if err != nil {
				if unread++; firstUnread == nil {
					firstUnread = err
				}
			}
			return c, ok
		},
		func(t *tx, c pruneCandidate) (bool, error) {
			if c.outboxKey == "" {
				return true, nil
			}
			keep, err := t.outboxNeeds(c.key, c.outboxKey)
			return !keep, err
		})
	if err != nil {
		return records, 0, fmt.Errorf("pebble: prune history: %w", err)
	}
	// A delivery time (settledAt) is whole microseconds: it is before
	// before exactly when it is before before rounded up to one.
	cut := ceilMicros(before)
	delivered := func(v []byte) bool {
		r, err := decodeOut(v)
		return err == nil && r.state == stateDelivered && r.settledAt < cut
	}
	items, err = s.pruneScan(ctx, pOutbox,
		func(k, v []byte) (pruneCandidate, bool) {
			return pruneCandidate{key: bytes.Clone(k)}, delivered(v)
		},
		func(t *tx, c pruneCandidate) (bool, error) {
			v, found, err := t.get(c.key)
			return found && delivered(v), err
		})
	if err != nil {
		return records, items, fmt.Errorf("pebble: prune history: %w", err)
	}
	if unread > 0 {
		return records, items, fmt.Errorf("pebble: prune history: %d history records could not be read and were kept; the first: %w", unread, firstUnread)
	}
	return records, items, nil
}

// pruneCandidate is a key a prune means to delete; outboxKey is set for a
// send, whose outbox item the writer checks first.
type pruneCandidate struct {
	key       []byte
	outboxKey string
}

// pruneScan walks the keys under prefix in chunks of pruneChunk keys: pick
// reads each chunk from a snapshot and names the candidates, then one
// write request deletes those confirm agrees to, at the time of the write.
// It returns how many it deleted.
func (s *Store) pruneScan(ctx context.Context, prefix []byte,
	pick func(k, v []byte) (pruneCandidate, bool), confirm func(t *tx, c pruneCandidate) (bool, error)) (int64, error) {
	var total int64
	for lower := prefix; lower != nil; {
		var cands []pruneCandidate
		var next []byte
		err := s.read(func() error {
			snap := s.db.NewSnapshot()
			defer snap.Close()
			visited := 0
			var last []byte
			err := scan(snap, lower, upper(prefix), func(k, v []byte) (bool, error) {
				visited++
				last = append(last[:0], k...)
				if c, ok := pick(k, v); ok {
					cands = append(cands, c)
				}
				return visited < pruneChunk, nil
			})
			if visited == pruneChunk {
				next = append(last, 0) // the first key after the last read
			}
			return err
		})
		if err != nil {
			return total, err
		}
		if len(cands) > 0 {
			var n int64
			err = s.write(ctx, func(t *tx) error {
				n = 0
				for _, c := range cands {
					ok, err := confirm(t, c)
					if err != nil {
						return err
					}
					if ok {
						t.del(c.key)
						n++
					}
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
		}
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

// historyCandidate decodes the history record k, v and reports whether it
// is before before, and so to be forgotten (a send: if its outbox item
// does not need it). An error names a record that does not decode.
func historyCandidate(k, v []byte, before time.Time) (pruneCandidate, bool, error) {
	if len(v) == 0 || !knownKind(v[0]) {
		return pruneCandidate{}, false, fmt.Errorf("%s: %w", describeHistKey(k), errRecord)
	}
	var h histTime
	if err := json.Unmarshal(v[1:], &h); err != nil {
		return pruneCandidate{}, false, fmt.Errorf("%s: %w", describeHistKey(k), err)
	}
	if h.At == nil {
		return pruneCandidate{}, false, fmt.Errorf("%s: no time: %w", describeHistKey(k), errRecord)
	}
	if !h.At.Before(before) {
		return pruneCandidate{}, false, nil
	}
	c := pruneCandidate{key: bytes.Clone(k)}
	if v[0] == kindSend {
		c.outboxKey = h.Key
	}
	return c, true, nil
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
