package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/waymark-dev/waymark/runtime/store"
)

var _ store.Eraser = (*Store)(nil)

// The erase's statements (TestQueryPlans checks their plans). Outbox items
// are found by key range (the primary key), the customer column telling a
// customer "a" from a customer "a/b" whose keys share the prefix "a/".
const (
	qEraseCustomer = "DELETE FROM customers WHERE id = ?"
	qEraseActive   = "DELETE FROM active_instances WHERE customer = ?"
	qEraseHistory  = "DELETE FROM history WHERE customer = ?"
	qEraseReceived = "DELETE FROM received WHERE customer = ?"
	qEraseCount    = `SELECT count(*), coalesce(sum(state != 'delivered'), 0) FROM outbox
		WHERE key >= ?1 AND key < ?2 AND customer = ?3`
	qEraseOutbox = "DELETE FROM outbox WHERE key >= ?1 AND key < ?2 AND customer = ?3"
	qDeliverable = "SELECT state FROM outbox WHERE key = ?"
)

// Erase implements store.Eraser: one write transaction, so no commit sees
// half an erase.
func (s *Store) Erase(ctx context.Context, customerID string) (store.Erased, error) {
	var e store.Erased
	prefix := customerID + "/"
	end := store.PrefixEnd(prefix) // never empty: prefix ends in '/'

	err := s.write(ctx, func(w *writer) error {
		e = store.Erased{} // the writer may run this twice (see runGroup)
		res, err := w.execStmt(qEraseCustomer, customerID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		e.Customer = n > 0
		if _, err := w.execStmt(qEraseActive, customerID); err != nil {
			return err
		}
		for _, q := range []string{qEraseHistory, qEraseReceived} {
			res, err := w.execStmt(q, customerID)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			e.History += n
		}
		if err := w.conn.QueryRowContext(bg, qEraseCount, prefix, end, customerID).Scan(&e.Outbox, &e.Cancelled); err != nil {
			return err
		}
		_, err = w.execStmt(qEraseOutbox, prefix, end, customerID)
		return err
	})
	if err != nil {
		return store.Erased{}, fmt.Errorf("sqlite: erase %q: %w", customerID, err)
	}
	return e, nil
}

// Deliverable implements store.Eraser.
func (s *Store) Deliverable(ctx context.Context, key string) (bool, error) {
	var state string
	err := s.read(func() error {
		return s.rdb.QueryRowContext(ctx, qDeliverable, key).Scan(&state)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: outbox item %q: %w", key, err)
	}
	return state == store.DeliveryPending, nil
}
