package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// ClaimOutbox implements store.Store. A claim moves each item's due entry
// to the end of the lease: until then no other claim sees it, and if the
// dispatcher that holds it dies it is deliverable again, with no sweeper.
// Items come earliest decision first.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	type claimed struct {
		attempt int
		send    []byte // the history record, decoded once the batch is written
	}
	var got []claimed
	until, at := micros(now.Add(lease)), micros(now)
	err := s.write(ctx, func(t *tx) error {
		got = got[:0]
		var moves []store.Tally // of the items dead-lettered: added once, at the end
		lowerBound, upperBound := pOutDue, appendTime(mk(pOutDue, 8), at+1)
		if f := t.s.outFloor; f != nil {
			lowerBound = f
		}
		if bytes.Compare(lowerBound, upperBound) >= 0 {
			return nil // nothing due: every key up to now is below the floor
		}
		it, err := t.b.NewIter(&pdb.IterOptions{LowerBound: lowerBound, UpperBound: upperBound})
		if err != nil {
			return err
		}
		defer func() {
			if t.s.claimSteps != nil {
				st := it.Stats()
				t.s.claimSteps(st.ForwardSeekCount[pdb.InternalIterCall] + st.ForwardStepCount[pdb.InternalIterCall])
			}
			it.Close()
		}()
		// Next only while items are wanted: past the last one it could
		// step over every tombstone up to the next live key.
		ok := it.First()
		for ; ok; ok = len(got) < limit && it.Next() {
			due := append([]byte(nil), it.Key()...)
			// Every key up to this one is deleted by this claim or was
			// below the floor.
			t.claimFloor = append(due, 0)
			_, rest, err := readTime(due[len(pOutDue):])
			if err != nil {
				return err
			}
			key := string(rest)
			v, found, err := t.get(outboxKey(key))
			if err != nil {
				return err
			}
			t.del(due)
			if !found {
				continue // a stray entry: drop it
			}
			r, err := decodeOut(v)
			if err != nil {
				return fmt.Errorf("outbox item %q: %w", key, err)
			}
			if r.state != statePending {
				continue
			}
			send, found, err := t.get(historyKey(r.customer, r.seq))
			if err != nil {
				return err
			}
			if !found || len(send) == 0 || send[0] != kindSend {
				// An item whose send is gone from the history can never
				// be delivered: dead-letter it rather than fail every
				// claim after it.
				r.state, r.settledAt, r.lastError = stateDead, at, "the send is missing from the history"
				t.set(outboxKey(key), r.encode())
				t.set(deadKey(key), nil)
				moves = append(moves, deliveryMove(&r, statePending)...)
				continue
			}
			r.next = until
			t.set(outboxKey(key), r.encode())
			t.set(outDueKey(until, key), nil)
			got = append(got, claimed{attempt: r.attempt, send: send[1:]})
		}
		if err := it.Error(); err != nil {
			return err
		}
		if !ok && len(got) < limit {
			// The range is exhausted: nothing up to now is left (the keys
			// this claim set at the end of the lease lower the floor again
			// in runGroup).
			t.claimFloor = upperBound
		}
		return t.addTallies(tally.Merge(moves))
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: claim outbox: %w", err)
	}
	items := make([]store.OutboxItem, len(got))
	for i, c := range got {
		items[i].Attempt = c.attempt
		if err := json.Unmarshal(c.send, &items[i].Send); err != nil {
			return nil, fmt.Errorf("pebble: claim outbox: decoding a send: %w", err)
		}
	}
	slices.SortFunc(items, func(a, b store.OutboxItem) int {
		if c := a.Send.At.Compare(b.Send.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Send.Key, b.Send.Key)
	})
	return items, nil
}

// settle applies change to the outbox item under key; change reports
// whether it changed the record. An unknown key is store.ErrNotFound; an
// item already settled is left as it is (a late dispatcher after its lease
// ran out).
func (s *Store) settle(ctx context.Context, what, key string, change func(r *outRec) bool) error {
	err := s.write(ctx, func(t *tx) error {
		k := outboxKey(key)
		v, found, err := t.get(k)
		if err != nil {
			return err
		}
		if !found {
			return store.ErrNotFound
		}
		r, err := decodeOut(v)
		if err != nil {
			return err
		}
		was, next := r.state, r.next
		if !change(&r) {
			return nil
		}
		if was == statePending {
			t.del(outDueKey(next, key))
		}
		if r.state == statePending {
			t.set(outDueKey(r.next, key), nil)
		}
		switch {
		case was != stateDead && r.state == stateDead:
			t.set(deadKey(key), nil)
		case was == stateDead && r.state != stateDead:
			t.del(deadKey(key))
		}
		if was != stateDelivered && r.state == stateDelivered {
			t.set(deliveredKey(r.settledAt, key), nil) // for PruneHistory
		}
		t.set(k, r.encode())
		return t.addTallies(tally.Merge(deliveryMove(&r, was)))
	})
	if err != nil {
		return fmt.Errorf("pebble: %s %q: %w", what, key, err)
	}
	return nil
}

// Delivered implements store.Store. The successful attempt counts as one.
// It wins over an earlier Dead (the message did go out) and keeps the
// first delivery time when two dispatchers both delivered.
func (s *Store) Delivered(ctx context.Context, key string, at time.Time) error {
	return s.settle(ctx, "delivered", key, func(r *outRec) bool {
		if r.state == stateDelivered {
			return false
		}
		r.state, r.settledAt, r.attempt = stateDelivered, micros(at), r.attempt+1
		return true
	})
}

// Retry implements store.Store: attempt attempts were made, the next is due
// at next. An item already delivered or dead stays so.
func (s *Store) Retry(ctx context.Context, key string, attempt int, next time.Time, lastError string) error {
	return s.settle(ctx, "retry", key, func(r *outRec) bool {
		if r.state != statePending {
			return false
		}
		r.attempt, r.next, r.lastError = attempt, micros(next), lastError
		return true
	})
}

// Dead implements store.Store: the item is given up after attempt attempts.
func (s *Store) Dead(ctx context.Context, key string, attempt int, at time.Time, lastError string) error {
	return s.settle(ctx, "dead", key, func(r *outRec) bool {
		if r.state != statePending {
			return false
		}
		r.state, r.attempt, r.settledAt, r.lastError = stateDead, attempt, micros(at), lastError
		return true
	})
}

// DeadLetters implements store.DeadLetterQueue: d/ in key order, each
// with its outbox record and its send from the history, from one snapshot.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]store.DeadLetter, error) {
	var out []store.DeadLetter
	err := s.read(func() error {
		if limit <= 0 {
			return nil
		}
		snap := s.db.NewSnapshot()
		defer snap.Close()
		lower := pDead
		if after != "" {
			lower = append(deadKey(after), 0) // the first key after `after`
		}
		return scan(snap, lower, upper(pDead), func(k, _ []byte) (bool, error) {
			key := string(k[len(pDead):])
			v, found, err := get(snap, outboxKey(key))
			if err != nil || !found {
				return err == nil, err // a stray entry: skip it
			}
			r, err := decodeOut(v)
			if err != nil {
				return false, fmt.Errorf("outbox item %q: %w", key, err)
			}
			if r.state != stateDead {
				return true, nil
			}
			d := store.DeadLetter{Customer: r.customer, Attempts: r.attempt, LastError: r.lastError, DeadAt: fromMicros(r.settledAt)}
			d.Send.Key = key
			send, found, err := get(snap, historyKey(r.customer, r.seq))
			if err != nil {
				return false, err
			}
			if found && len(send) > 0 && send[0] == kindSend {
				if err := json.Unmarshal(send[1:], &d.Send); err != nil {
					return false, fmt.Errorf("decoding the send of %q: %w", key, err)
				}
			}
			out = append(out, d)
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: dead letters: %w", err)
	}
	return out, nil
}

// Requeue implements store.DeadLetterQueue.
func (s *Store) Requeue(ctx context.Context, key string, at time.Time) error {
	dead := false
	err := s.settle(ctx, "requeue", key, func(r *outRec) bool {
		if dead = r.state == stateDead; !dead {
			return false
		}
		r.state, r.attempt, r.next, r.settledAt, r.lastError = statePending, 0, micros(at), 0, ""
		return true
	})
	if err == nil && !dead {
		err = fmt.Errorf("pebble: requeue %q: no dead item: %w", key, store.ErrNotFound)
	}
	return err
}

// SaveProgram implements store.Store. A zero CreatedAt is the time of
// saving; saving a hash again keeps the first, time included. The value is
// the creation time, a sequence number (the order of saving, for programs
// created at the same time) and the IR.
func (s *Store) SaveProgram(ctx context.Context, p store.Program) error {
	if p.Hash == "" {
		return fmt.Errorf("pebble: save program: empty hash")
	}
	at := p.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	err := s.write(ctx, func(t *tx) error {
		k := programKey(p.Hash)
		if _, found, err := t.get(k); err != nil || found {
			return err
		}
		v := binary.AppendVarint(nil, micros(at))
		v = binary.AppendUvarint(v, t.nextSeq())
		t.set(k, append(v, p.IR...))
		return nil
	})
	if err != nil {
		return fmt.Errorf("pebble: save program %s: %w", p.Hash, err)
	}
	return nil
}

// pruneChunk bounds one prune request (PruneMessages, PruneHistory) in
// keys visited, so that a prune of millions of keys is many short batches
// between which commits go on. A variable so that tests can make prunes
// span several chunks.
var pruneChunk = 10000

// PruneMessages implements store.MessagePruner. It walks mt/ up to before
// and forgets an id only if m/<id> still holds the time of that entry (an
// id committed again later is filed again, later).
func (s *Store) PruneMessages(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	bound := appendTime(mk(pMsgTime, 8), micros(before))
	for {
		var n, visited int
		err := s.write(ctx, func(t *tx) error {
			n, visited = 0, 0
			it, err := t.b.NewIter(&pdb.IterOptions{LowerBound: pMsgTime, UpperBound: bound})
			if err != nil {
				return err
			}
			defer it.Close()
			for ok := it.First(); ok && visited < pruneChunk; ok = it.Next() {
				visited++
				k := append([]byte(nil), it.Key()...)
				at, rest, err := readTime(k[len(pMsgTime):])
				if err != nil {
					return err
				}
				t.del(k)
				mkey := messageKey(string(rest))
				v, found, err := t.get(mkey)
				if err != nil {
					return err
				}
				if cur, m := binary.Varint(v); found && m > 0 && cur == at {
					t.del(mkey)
					n++
				}
			}
			return it.Error()
		})
		if err != nil {
			return total, fmt.Errorf("pebble: prune messages: %w", err)
		}
		total += int64(n)
		if visited < pruneChunk {
			return total, nil
		}
	}
}
