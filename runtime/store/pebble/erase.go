package pebble

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

var _ store.Eraser = (*Store)(nil)

// Erase implements store.Eraser: one write request, so no commit sees half
// an erase. It deletes c/<id> with the index entries its record names (w/,
// a/, ac/), every h/<id> record with the fs/ entry of a failed send and
// the jr/ entry of a journey's record, and the o/ items under the key
// prefix "<id>/" that belong to the customer with their od/, d/ or dv/
// entry.
//
// The ht/ entries that named the erased records stay until PruneHistory
// reaches them (they hold the customer id and sequence numbers, nothing
// else; a prune of a record already gone deletes nothing): finding them
// would mean reading the whole time index.
func (s *Store) Erase(ctx context.Context, customerID string) (store.Erased, error) {
	var e store.Erased
	err := s.write(ctx, func(t *tx) error {
		e = store.Erased{}
		ck := customerKey(customerID)
		v, found, err := t.get(ck)
		if err != nil {
			return err
		}
		if found {
			e.Customer = true
			r, err := decodeCust(v, true)
			if err != nil {
				return fmt.Errorf("customer record: %w", err)
			}
			if r.hasWake {
				t.del(wakeKey(r.wake, customerID))
			}
			for _, a := range r.active {
				t.del(activeKey(a, customerID))
			}
			if len(r.active) > 0 {
				t.del(actCustKey(customerID))
			}
			t.del(ck)
		}
		hp := historyPrefix(customerID)
		err = scan(t.b, hp, upper(hp), func(k, v []byte) (bool, error) {
			e.History++
			t.del(append([]byte(nil), k...))
			if j, ok := recordJourney(v); ok && len(k) == len(hp)+8 {
				t.del(journeyKey(j, binary.BigEndian.Uint64(k[len(hp):])))
			}
			if len(v) == 0 || v[0] != kindSend || len(k) < len(hp)+8 {
				return true, nil
			}
			var sd struct {
				Fate string    `json:"fate"`
				At   time.Time `json:"at"`
			}
			if json.Unmarshal(v[1:], &sd) == nil && sd.Fate == engine.FateFailed {
				t.del(failedKey(micros(sd.At), binary.BigEndian.Uint64(k[len(hp):])))
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		op := outboxKey(customerID + "/")
		return scan(t.b, op, upper(op), func(k, v []byte) (bool, error) {
			r, err := decodeOut(v)
			if err != nil {
				return false, fmt.Errorf("outbox item %q: %w", k[len(pOutbox):], err)
			}
			if r.customer != customerID {
				return true, nil // a customer whose id extends this one's with "/"
			}
			key := string(k[len(pOutbox):])
			e.Outbox++
			switch r.state {
			case statePending:
				e.Cancelled++
				t.del(outDueKey(r.next, key))
			case stateDead:
				e.Cancelled++
				t.del(deadKey(key))
			case stateDelivered:
				t.del(deliveredKey(r.settledAt, key))
			}
			t.del(append([]byte(nil), k...))
			return true, nil
		})
	})
	if err != nil {
		return store.Erased{}, fmt.Errorf("pebble: erase %q: %w", customerID, err)
	}
	return e, nil
}

// Deliverable implements store.Eraser.
func (s *Store) Deliverable(ctx context.Context, key string) (bool, error) {
	var ok bool
	err := s.read(func() error {
		v, found, err := get(s.db, outboxKey(key))
		if err != nil || !found {
			return err
		}
		r, err := decodeOut(v)
		ok = err == nil && r.state == statePending
		return err
	})
	if err != nil {
		return false, fmt.Errorf("pebble: outbox item %q: %w", key, err)
	}
	return ok, nil
}
