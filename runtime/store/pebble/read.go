package pebble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Reads go straight to the database, never through the writer: a point
// read sees the last committed batch, an iterator (or the snapshot of a
// read that takes several steps) one committed state throughout.

// scan calls f with each key and value in [lower, upper) in order (both
// valid only during the call) until f returns false.
func scan(r interface {
	NewIter(*pdb.IterOptions) (*pdb.Iterator, error)
}, lower, upper []byte, f func(k, v []byte) (bool, error)) error {
	it, err := r.NewIter(&pdb.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		more, err := f(it.Key(), v)
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	return it.Close()
}

// Customer implements store.Store.
func (s *Store) Customer(ctx context.Context, id string) (*engine.Customer, error) {
	var c *engine.Customer
	err := s.read(func() error {
		v, found, err := get(s.db, customerKey(id))
		if err != nil {
			return fmt.Errorf("pebble: customer %q: %w", id, err)
		}
		if !found {
			return store.ErrNotFound
		}
		r, err := decodeCust(v, false)
		if err != nil {
			return fmt.Errorf("pebble: customer %q: %w", id, err)
		}
		if c, err = store.DecodeState(r.state); err != nil {
			return fmt.Errorf("pebble: customer %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SeenMessages implements store.Store.
func (s *Store) SeenMessages(ctx context.Context, ids []string) (map[string]bool, error) {
	seen := make(map[string]bool)
	err := s.read(func() error {
		for _, id := range ids {
			if seen[id] {
				continue
			}
			_, found, err := get(s.db, messageKey(id))
			if err != nil {
				return err
			}
			if found {
				seen[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: seen messages: %w", err)
	}
	return seen, nil
}

// Due implements store.Store: a walk of w/ in time order. Wake.At is the
// next wake rounded up to the microsecond.
func (s *Store) Due(ctx context.Context, until time.Time, limit int) ([]store.Wake, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	var out []store.Wake
	err := s.read(func() error {
		// Rounded up like the stored wakes, so a wake due exactly at until
		// is in, whatever its nanoseconds.
		up := appendTime(mk(pWake, 8), ceilMicros(until)+1)
		return scan(s.db, pWake, up, func(k, _ []byte) (bool, error) {
			at, id, err := readTime(k[len(pWake):])
			if err != nil {
				return false, err
			}
			out = append(out, store.Wake{CustomerID: string(id), At: fromMicros(at)})
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: due: %w", err)
	}
	return out, nil
}

// ActiveCustomers implements store.Store: a walk of ac/ after `after`.
func (s *Store) ActiveCustomers(ctx context.Context, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	var out []string
	err := s.read(func() error {
		from := actCustKey(after)
		return scan(s.db, from, upper(pActCust), func(k, _ []byte) (bool, error) {
			if bytes.Equal(k, from) {
				return true, nil
			}
			out = append(out, string(k[len(pActCust):]))
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: active customers: %w", err)
	}
	return out, nil
}

// history calls f with each history record of customer of the given kinds,
// oldest first, with the snapshot it reads.
func (s *Store) history(customer string, kinds string, f func(r pdb.Reader, kind byte, data []byte) error) error {
	return s.read(func() error {
		snap := s.db.NewSnapshot()
		defer snap.Close()
		p := historyPrefix(customer)
		return scan(snap, p, upper(p), func(_, v []byte) (bool, error) {
			if len(v) == 0 {
				return false, errRecord
			}
			if bytes.IndexByte([]byte(kinds), v[0]) < 0 {
				return true, nil
			}
			return true, f(snap, v[0], v[1:])
		})
	})
}

// Transitions implements store.Store. A customer without history (or
// unknown) has none: an empty list, not an error.
func (s *Store) Transitions(ctx context.Context, customerID string) ([]engine.Transition, error) {
	var out []engine.Transition
	err := s.history(customerID, string(kindTransition), func(_ pdb.Reader, _ byte, data []byte) error {
		var tr engine.Transition
		if err := json.Unmarshal(data, &tr); err != nil {
			return fmt.Errorf("decoding a transition: %w", err)
		}
		out = append(out, tr)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: transitions of %q: %w", customerID, err)
	}
	return out, nil
}

// Sends implements store.Store: every send decision, with the delivery
// state of the outbox item under its key for decisions to deliver.
func (s *Store) Sends(ctx context.Context, customerID string) ([]store.SendRecord, error) {
	var out []store.SendRecord
	err := s.history(customerID, string(kindSend), func(r pdb.Reader, _ byte, data []byte) error {
		var rec store.SendRecord
		if err := json.Unmarshal(data, &rec.Send); err != nil {
			return fmt.Errorf("decoding a send: %w", err)
		}
		if rec.Fate == engine.FateDeliver {
			v, found, err := get(r, outboxKey(rec.Key))
			if err != nil {
				return err
			}
			if found {
				o, err := decodeOut(v)
				if err != nil {
					return fmt.Errorf("outbox item %q: %w", rec.Key, err)
				}
				rec.Attempts, rec.LastError = o.attempt, o.lastError
				switch o.state {
				case statePending:
					rec.Delivery = store.DeliveryPending
				case stateDelivered:
					rec.Delivery, rec.DeliveredAt = store.DeliveryDelivered, fromMicros(o.settledAt)
				case stateDead:
					rec.Delivery = store.DeliveryDead
				}
			}
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: sends of %q: %w", customerID, err)
	}
	return out, nil
}

// Events implements store.EventHistory.
func (s *Store) Events(ctx context.Context, customerID string) ([]store.Event, error) {
	var out []store.Event
	kinds := string([]byte{kindRefusal, kindError, kindEmit})
	err := s.history(customerID, kinds, func(_ pdb.Reader, kind byte, data []byte) error {
		name := store.EventEmit
		switch kind {
		case kindRefusal:
			name = store.EventRefusal
		case kindError:
			name = store.EventError
		}
		ev, err := store.DecodeEvent(name, data)
		if err != nil {
			return err
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: events of %q: %w", customerID, err)
	}
	return out, nil
}

// Programs implements store.Store: newest first, programs created at the
// same time latest saved first.
func (s *Store) Programs(ctx context.Context) ([]store.Program, error) {
	type prog struct {
		store.Program
		seq uint64
	}
	var ps []prog
	err := s.read(func() error {
		return scan(s.db, pProgram, upper(pProgram), func(k, v []byte) (bool, error) {
			d := dec{b: v}
			p := prog{Program: store.Program{Hash: string(k[len(pProgram):]), CreatedAt: fromMicros(d.varint())}, seq: d.uvarint()}
			if d.err != nil {
				return false, fmt.Errorf("program %s: %w", p.Hash, d.err)
			}
			p.IR = append([]byte{}, d.b...)
			ps = append(ps, p)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: programs: %w", err)
	}
	slices.SortFunc(ps, func(a, b prog) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	out := make([]store.Program, len(ps))
	for i, p := range ps {
		out[i] = p.Program
	}
	return out, nil
}

// StageCounts implements store.Store: one walk of a/, whose keys come
// grouped by journey, version and stage; never a decoded state.
func (s *Store) StageCounts(ctx context.Context) ([]store.StageCount, error) {
	var out []store.StageCount
	var prev []byte // the journey, version and stage part of the last key
	err := s.read(func() error {
		return scan(s.db, pActive, upper(pActive), func(k, _ []byte) (bool, error) {
			rest := k[len(pActive):]
			j, rest, err := readStr(rest)
			if err != nil {
				return false, err
			}
			v, rest, err := readStr(rest)
			if err != nil {
				return false, err
			}
			st, rest, err := readStr(rest)
			if err != nil {
				return false, err
			}
			group := k[len(pActive) : len(k)-len(rest)]
			if len(out) > 0 && bytes.Equal(group, prev) {
				out[len(out)-1].Active++
				return true, nil
			}
			prev = append(prev[:0], group...)
			out = append(out, store.StageCount{Journey: j, Version: v, Stage: st, Active: 1})
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: stage counts: %w", err)
	}
	return out, nil
}
