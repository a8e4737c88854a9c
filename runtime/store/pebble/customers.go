package pebble

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

var _ interface {
	store.CustomerLister
	store.ReceivedHistory
	store.ResponseHistory
} = (*Store)(nil)

// kindInput is the history record of an input received
// (store.Received's JSON): kept, pruned and erased with the history.
const kindInput = 'i'

// Responses implements store.ResponseHistory: the customer's records of
// kind kindResponse (kept since schema 5; none before).
func (s *Store) Responses(ctx context.Context, customerID string) ([]engine.Response, error) {
	var out []engine.Response
	err := s.history(customerID, string(kindResponse), func(_ pdb.Reader, _ byte, data []byte) error {
		r, err := store.DecodeResponse(data)
		if err != nil {
			return err
		}
		out = append(out, *r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: metric responses of %q: %w", customerID, err)
	}
	return out, nil
}

// Received implements store.ReceivedHistory.
func (s *Store) Received(ctx context.Context, customerID string) ([]store.Received, error) {
	var out []store.Received
	err := s.history(customerID, string(kindInput), func(_ pdb.Reader, _ byte, data []byte) error {
		var in store.Received
		if err := json.Unmarshal(data, &in); err != nil {
			return fmt.Errorf("decoding a received input: %w", err)
		}
		out = append(out, in)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: received inputs of %q: %w", customerID, err)
	}
	return out, nil
}

// ListCustomers implements store.CustomerLister: a walk of c/ from the
// later of After and the prefix, each state decoded to match the trait.
func (s *Store) ListCustomers(ctx context.Context, q store.CustomerQuery) (store.CustomerPage, error) {
	var page store.CustomerPage
	if q.Limit <= 0 {
		return page, s.read(func() error { return nil })
	}
	from := customerKey(q.IDPrefix)
	after := customerKey(q.After)
	if bytes.Compare(after, from) >= 0 {
		from = after
	}
	to := upper(pCustomer)
	if end := store.PrefixEnd(q.IDPrefix); end != "" {
		to = customerKey(end)
	}
	read, last := 0, ""
	err := s.read(func() error {
		return scan(s.db, from, to, func(k, v []byte) (bool, error) {
			if bytes.Equal(k, after) {
				return true, nil // After itself is excluded
			}
			id := string(k[len(pCustomer):])
			if q.Scan > 0 && read == q.Scan {
				page.Next = last // more to read: go on after the last one read
				return false, nil
			}
			read, last = read+1, id
			r, err := decodeCust(v, false)
			if err != nil {
				return false, fmt.Errorf("customer %q: %w", id, err)
			}
			c, err := store.DecodeState(r.state)
			if err != nil {
				// Named, not fatal: one old state must not hide everyone.
				page.Unreadable = append(page.Unreadable, store.UnreadableCustomer{ID: id, Error: err.Error()})
				return true, nil
			}
			if q.Match(c) {
				page.Customers = append(page.Customers, store.Summarize(c))
			}
			if len(page.Customers) == q.Limit {
				page.Next = id
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil {
		return store.CustomerPage{}, fmt.Errorf("pebble: list customers: %w", err)
	}
	return page, nil
}
