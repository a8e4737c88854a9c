package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// readStmts are the read pool's prepared statements; database/sql keeps
// each prepared on every pool connection that runs it.
type readStmts struct {
	customer, seen, due, active *sql.Stmt
	transitions, sends, events  *sql.Stmt
	programs, stageCounts       *sql.Stmt
	dead, failed, activeStates  *sql.Stmt
}

// The read queries. TestQueryPlans checks the index each one uses.
const (
	qCustomer = "SELECT state FROM customers WHERE id = ?"
	// The ids come as one JSON array: one statement for any number of
	// ids. CROSS JOIN keeps json_each outside, so each id is one probe of
	// the primary key, whatever the planner guesses about json_each.
	qSeen = "SELECT m.id FROM json_each(?) AS j CROSS JOIN messages AS m ON m.id = j.value"
	// Served by the partial index customers_wake, in its order.
	qDue = `SELECT id, next_wake FROM customers
		WHERE next_wake IS NOT NULL AND next_wake <= ? ORDER BY next_wake, id LIMIT ?`
	// The primary key's order: DISTINCT costs nothing.
	qActive      = "SELECT DISTINCT customer FROM active_instances WHERE customer > ? ORDER BY customer LIMIT ?"
	qTransitions = `SELECT instance, journey, version, from_stage, to_stage, cause, status, at, data
		FROM history WHERE customer = ? AND kind = 'transition' ORDER BY seq`
	// Only a "deliver" decision has an outbox item; the held decision
	// under the same key does not show the delivery state.
	qSends = `SELECT h.data, o.state, o.attempt, o.last_error, o.delivered_at
		FROM history AS h LEFT JOIN outbox AS o ON h.fate = 'deliver' AND o.key = h.key
		WHERE h.customer = ? AND h.kind = 'send' ORDER BY h.seq`
	qEvents = `SELECT kind, data FROM history
		WHERE customer = ? AND kind IN ('refusal', 'error', 'emit') ORDER BY seq`
	qPrograms = "SELECT hash, ir, created_at FROM programs ORDER BY created_at DESC, rowid DESC"
	// Served by the partial index history_failed, in its order; the row
	// value compare is the cursor (time, then seq).
	qFailedSends = `SELECT seq, at, customer, data FROM history
		WHERE kind = 'send' AND fate = 'failed' AND (at, seq) > (?, ?) ORDER BY at, seq LIMIT ?`
	// The page's ids from the active_instances primary key, then one probe
	// of the customers' primary key each.
	qActiveStates = `SELECT c.id, c.state FROM customers AS c
		WHERE c.id IN (SELECT DISTINCT customer FROM active_instances WHERE customer > ? ORDER BY customer LIMIT ?)
		ORDER BY c.id`
	qStageCounts = `SELECT journey, version, stage, count(*) FROM active_instances
		GROUP BY journey, version, stage ORDER BY journey, version, stage`
)

func (r *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&r.customer, qCustomer},
		{&r.seen, qSeen},
		{&r.due, qDue},
		{&r.active, qActive},
		{&r.transitions, qTransitions},
		{&r.sends, qSends},
		{&r.events, qEvents},
		{&r.programs, qPrograms},
		{&r.stageCounts, qStageCounts},
		{&r.dead, qDeadLetters},
		{&r.failed, qFailedSends},
		{&r.activeStates, qActiveStates},
	} {
		st, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", p.q, err)
		}
		*p.st = st
	}
	return nil
}

func (r *readStmts) close() error {
	var err error
	for _, st := range []*sql.Stmt{r.customer, r.seen, r.due, r.active, r.transitions, r.sends, r.events, r.programs, r.stageCounts, r.dead, r.failed, r.activeStates} {
		if st != nil {
			err = errors.Join(err, st.Close())
		}
	}
	*r = readStmts{}
	return err
}

// Customer implements store.Store.
func (s *Store) Customer(ctx context.Context, id string) (*engine.Customer, error) {
	var c *engine.Customer
	err := s.read(func() error {
		var state []byte
		err := s.reads.customer.QueryRowContext(ctx, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: customer %q: %w", id, err)
		}
		if c, err = store.DecodeState(state); err != nil {
			return fmt.Errorf("sqlite: customer %q: %w", id, err)
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
	if len(ids) == 0 {
		return seen, s.read(func() error { return nil })
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: seen messages: %w", err)
	}
	err = s.read(func() error {
		rs, err := s.reads.seen.QueryContext(ctx, string(arg))
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				return err
			}
			seen[id] = true
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: seen messages: %w", err)
	}
	return seen, nil
}

// Due implements store.Store. Wake.At is the next wake rounded up to the
// microsecond: a Step at At handles everything the wake was for.
func (s *Store) Due(ctx context.Context, until time.Time, limit int) ([]store.Wake, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	var out []store.Wake
	err := s.read(func() error {
		// Rounded up like the stored wakes, so a wake due exactly at until
		// is in, whatever its nanoseconds.
		rs, err := s.reads.due.QueryContext(ctx, ceilMicros(until), limit)
		if err != nil {
			return err
		}
		defer rs.Close()
		out = make([]store.Wake, 0, min(limit, 1024))
		for rs.Next() {
			var id string
			var at int64
			if err := rs.Scan(&id, &at); err != nil {
				return err
			}
			out = append(out, store.Wake{CustomerID: id, At: fromMicros(at)})
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: due: %w", err)
	}
	return out, nil
}

// ActiveCustomers implements store.Store.
func (s *Store) ActiveCustomers(ctx context.Context, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, s.reads.active, "active customers", func(rs *sql.Rows) (id string, err error) {
		return id, rs.Scan(&id)
	}, after, limit)
}

// ActiveStates implements store.ActiveStateReader.
func (s *Store) ActiveStates(ctx context.Context, after string, limit int) ([]store.RawState, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, s.reads.activeStates, "active states", func(rs *sql.Rows) (r store.RawState, err error) {
		return r, rs.Scan(&r.ID, &r.State)
	}, after, limit)
}

// Transitions implements store.Store. A customer without history (or
// unknown) has none: an empty list, not an error.
func (s *Store) Transitions(ctx context.Context, customerID string) ([]engine.Transition, error) {
	return queryAll(ctx, s, s.reads.transitions, fmt.Sprintf("transitions of %q", customerID), func(rs *sql.Rows) (engine.Transition, error) {
		var t engine.Transition
		var at int64
		var data []byte
		if err := rs.Scan(&t.Instance, &t.Journey, &t.Version, &t.From, &t.To, &t.Cause, &t.Status, &at, &data); err != nil {
			return t, err
		}
		t.At = fromMicros(at)
		return t, store.DecodeTransitionData(data, &t)
	}, customerID)
}

// Sends implements store.Store.
func (s *Store) Sends(ctx context.Context, customerID string) ([]store.SendRecord, error) {
	return queryAll(ctx, s, s.reads.sends, fmt.Sprintf("sends of %q", customerID), func(rs *sql.Rows) (store.SendRecord, error) {
		var rec store.SendRecord
		var data []byte
		var state, lastError sql.NullString
		var attempt, deliveredAt sql.NullInt64
		if err := rs.Scan(&data, &state, &attempt, &lastError, &deliveredAt); err != nil {
			return rec, err
		}
		if err := json.Unmarshal(data, &rec.Send); err != nil {
			return rec, fmt.Errorf("decoding a send: %w", err)
		}
		rec.Delivery = state.String
		rec.Attempts = int(attempt.Int64)
		rec.LastError = lastError.String
		rec.DeliveredAt = nullMicros(deliveredAt)
		return rec, nil
	}, customerID)
}

// Events implements store.EventHistory.
func (s *Store) Events(ctx context.Context, customerID string) ([]store.Event, error) {
	var out []store.Event
	err := s.read(func() error {
		rs, err := s.reads.events.QueryContext(ctx, customerID)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var kind string
			var data []byte
			if err := rs.Scan(&kind, &data); err != nil {
				return err
			}
			ev, err := store.DecodeEvent(kind, data)
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: events of %q: %w", customerID, err)
	}
	return out, nil
}

// Programs implements store.Store.
func (s *Store) Programs(ctx context.Context) ([]store.Program, error) {
	return queryAll(ctx, s, s.reads.programs, "programs", func(rs *sql.Rows) (store.Program, error) {
		var p store.Program
		var at int64
		err := rs.Scan(&p.Hash, &p.IR, &at)
		p.CreatedAt = fromMicros(at)
		return p, err
	})
}

// StageCounts implements store.Store: one scan of the active_instances
// stage index, never of the customers' states.
func (s *Store) StageCounts(ctx context.Context) ([]store.StageCount, error) {
	return queryAll(ctx, s, s.reads.stageCounts, "stage counts", func(rs *sql.Rows) (c store.StageCount, err error) {
		return c, rs.Scan(&c.Journey, &c.Version, &c.Stage, &c.Active)
	})
}

// queryAll runs a prepared read under the store's read lock and scans each
// row with scan; an error is wrapped with what was being read.
func queryAll[T any](ctx context.Context, s *Store, stmt *sql.Stmt, what string, scan func(*sql.Rows) (T, error), args ...any) ([]T, error) {
	var out []T
	err := s.read(func() error {
		rs, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			v, err := scan(rs)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

// FailedSends implements store.FailedSendLister.
func (s *Store) FailedSends(ctx context.Context, after string, limit int) ([]store.FailedSend, error) {
	at, seq, ok, err := store.ParseFailedSendCursor(after)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if !ok {
		at, seq = math.MinInt64, 0
	}
	seq = min(seq, math.MaxInt64) // SQLite's integers are signed

	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, s.reads.failed, "failed sends", func(rs *sql.Rows) (store.FailedSend, error) {
		var f store.FailedSend
		var rowSeq, rowAt int64
		var data []byte
		if err := rs.Scan(&rowSeq, &rowAt, &f.Customer, &data); err != nil {
			return f, err
		}
		f.Cursor = store.FailedSendCursor(rowAt, uint64(rowSeq))
		if err := json.Unmarshal(data, &f.Send); err != nil {
			return f, fmt.Errorf("decoding the failed send %s: %w", f.Cursor, err)
		}
		return f, nil
	}, at, int64(seq), limit)
}
