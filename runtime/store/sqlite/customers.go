package sqlite

import (
	"context"
	"fmt"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

var _ interface {
	store.CustomerLister
	store.ReceivedHistory
	store.ResponseHistory
} = (*Store)(nil)

// The customer queries (TestQueryPlans checks their plans).
const (
	qReceived = `SELECT kind, name, message_id, at, commit_seq FROM received WHERE customer = ? ORDER BY seq`
	// Through history_customer, as the other history reads of a customer.
	qResponses = `SELECT data FROM history WHERE customer = ? AND kind = 'response' ORDER BY seq`
	// A page of customers in id order from a lower bound (after, exclusive,
	// or the prefix, inclusive) to the prefix's end ('' for none): one range
	// of the primary key, bounded on both sides so that a prefix that
	// matches few reads only those.
	qListCustomers = `SELECT id, state FROM customers
		WHERE id > ?1 AND id >= ?2 AND id < ?3 ORDER BY id LIMIT ?4`
	// The prune of received inputs, as the history's (see PruneHistory).
	qReceivedChunk = "SELECT max(seq), min(at) FROM (SELECT seq, at FROM received WHERE seq > ? ORDER BY seq LIMIT ?)"
	qPruneReceived = "DELETE FROM received WHERE seq > ?1 AND seq <= ?2 AND at < ?3"
)

// Received implements store.ReceivedHistory.
func (s *Store) Received(ctx context.Context, customerID string) ([]store.Received, error) {
	var out []store.Received
	err := s.read(func() error {
		rs, err := s.rdb.QueryContext(ctx, qReceived, customerID)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var in store.Received
			var at int64
			if err := rs.Scan(&in.Kind, &in.Name, &in.MessageID, &at, &in.Seq); err != nil {
				return err
			}
			in.At = fromMicros(at)
			out = append(out, in)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: received inputs of %q: %w", customerID, err)
	}
	return out, nil
}

// Responses implements store.ResponseHistory.
func (s *Store) Responses(ctx context.Context, customerID string) ([]engine.Response, error) {
	var out []engine.Response
	err := s.read(func() error {
		rs, err := s.rdb.QueryContext(ctx, qResponses, customerID)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var data []byte
			if err := rs.Scan(&data); err != nil {
				return err
			}
			r, err := store.DecodeResponse(data)
			if err != nil {
				return err
			}
			out = append(out, *r)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: metric responses of %q: %w", customerID, err)
	}
	return out, nil
}

// noEnd is greater than every id: ids are UTF-8, which never holds 0xFF.
const noEnd = "\xff"

// listChunk is how many customers ListCustomers reads a query.
const listChunk = 256

// ListCustomers implements store.CustomerLister: a walk of the primary key
// in chunks, each state decoded to match the trait.
func (s *Store) ListCustomers(ctx context.Context, q store.CustomerQuery) (store.CustomerPage, error) {
	if q.Limit <= 0 {
		return store.CustomerPage{}, s.read(func() error { return nil })
	}
	end := store.PrefixEnd(q.IDPrefix)
	if end == "" {
		end = noEnd
	}
	page, err := store.ListChunks(q, listChunk, func(after string, n int, row func(id string, state []byte) error) error {
		return s.read(func() error {
			rs, err := s.rdb.QueryContext(ctx, qListCustomers, after, q.IDPrefix, end, n)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var id string
				var state []byte
				if err := rs.Scan(&id, &state); err != nil {
					return err
				}
				if err := row(id, state); err != nil {
					return err
				}
			}
			return rs.Err()
		})
	})
	if err != nil {
		return store.CustomerPage{}, fmt.Errorf("sqlite: list customers: %w", err)
	}
	return page, nil
}
