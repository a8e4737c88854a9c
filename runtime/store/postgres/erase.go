package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waymark-dev/waymark/runtime/store"
)

var _ store.Eraser = (*Store)(nil)

// The erase's statements. Outbox items are found by their customer column
// (the index outbox_customer_all, migration 5), which tells a customer "a"
// from a customer "a/b" whose keys share the prefix "a/", delivered items
// included. The history goes whole (every kind: transitions, sends,
// refusals, errors, emitted events, received inputs). Message ids stay:
// they are kept as store.DedupKey hashes, which name no customer.
const (
	qEraseCustomer = "DELETE FROM customers WHERE id = $1"
	qEraseActive   = "DELETE FROM active_instances WHERE customer = $1"
	qEraseHistory  = "DELETE FROM history WHERE customer = $1"
	qEraseOutbox   = `WITH d AS (DELETE FROM outbox WHERE customer = $1 RETURNING state)
		SELECT count(*), count(*) FILTER (WHERE state <> 'delivered') FROM d`
)

// Erase implements store.Eraser: one transaction of the group writer, so
// no commit sees half an erase. With a fence set it is fenced like a
// commit to the customer's shard: a node that lost the shard erases
// nothing (a *FencedError), and a takeover waits for an erase under way.
func (s *Store) Erase(ctx context.Context, customerID string) (store.Erased, error) {
	var e store.Erased
	shards := []int{s.ShardOf(customerID)}
	if err := s.checkFenceLocal(shards); err != nil {
		return e, fmt.Errorf("postgres: erase %q: %w", customerID, err)
	}
	err := s.write(ctx, func(w *wtx) error {
		e = store.Erased{} // the writer may run this twice (see runGroup)
		b := &pgx.Batch{}
		fenced := s.queueFence(b, shards)
		b.Queue(qEraseCustomer, customerID).Exec(func(ct pgconn.CommandTag) error {
			e.Customer = ct.RowsAffected() > 0
			return nil
		})
		b.Queue(qEraseActive, customerID)
		b.Queue(qEraseHistory, customerID).Exec(func(ct pgconn.CommandTag) error {
			e.History = ct.RowsAffected()
			return nil
		})
		b.Queue(qEraseOutbox, customerID).QueryRow(func(r pgx.Row) error {
			return r.Scan(&e.Outbox, &e.Cancelled)
		})
		err := w.tx.SendBatch(w.ctx, b).Close()
		if err != nil && fenced && isCode(err, "WM001") {
			return s.fenceLost(shards)
		}
		return err
	})
	if err != nil {
		return store.Erased{}, fmt.Errorf("postgres: erase %q: %w", customerID, err)
	}
	return e, nil
}

// Deliverable implements store.Eraser: a point read of the outbox.
func (s *Store) Deliverable(ctx context.Context, key string) (bool, error) {
	var state string
	err := s.read(func() error {
		return s.pool.QueryRow(ctx, "SELECT state FROM outbox WHERE key = $1", key).Scan(&state)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: outbox item %q: %w", key, err)
	}
	return state == store.DeliveryPending, nil
}
