package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
)

// Reads go straight to the pool: each sees the last committed state and
// never waits for the writer.

// Customer implements store.Store.
func (s *Store) Customer(ctx context.Context, id string) (*engine.Customer, error) {
	var c *engine.Customer
	err := s.read(func() error {
		var state []byte
		err := s.pool.QueryRow(ctx, "SELECT state FROM customers WHERE id = $1", id).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("postgres: customer %q: %w", id, err)
		}
		if c, err = store.DecodeState(state); err != nil {
			return fmt.Errorf("postgres: customer %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Customers implements store.CustomersReader: one query for many ids.
func (s *Store) Customers(ctx context.Context, ids []string) (map[string]*engine.Customer, error) {
	out := make(map[string]*engine.Customer, len(ids))
	_, err := queryAll(ctx, s, "customers", func(rs pgx.Rows) (struct{}, error) {
		var id string
		var state []byte
		if err := rs.Scan(&id, &state); err != nil {
			return struct{}{}, err
		}
		c, err := store.DecodeState(state)
		if err != nil {
			return struct{}{}, fmt.Errorf("customer %q: %w", id, err)
		}
		out[id] = c
		return struct{}{}, nil
	}, "SELECT id, state FROM customers WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SeenMessages implements store.Store.
func (s *Store) SeenMessages(ctx context.Context, ids []string) (map[string]bool, error) {
	seen := make(map[string]bool)
	if len(ids) == 0 {
		return seen, s.read(func() error { return nil })
	}
	found, err := queryAll(ctx, s, "seen messages", func(rs pgx.Rows) (id string, err error) {
		return id, rs.Scan(&id)
	}, "SELECT id FROM messages WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, err
	}
	for _, id := range found {
		seen[id] = true
	}
	return seen, nil
}

// Due implements store.Store, through the partial index customers_wake.
// With a fence set it lists only the shards the node owns.
func (s *Store) Due(ctx context.Context, until time.Time, limit int) ([]store.Wake, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	owned, fenced := s.owned()
	if fenced && len(owned) == 0 {
		return nil, s.read(func() error { return nil })
	}
	var shards []int32
	if fenced {
		shards = int32s(owned)
	}
	return queryAll(ctx, s, "due", func(rs pgx.Rows) (w store.Wake, err error) {
		err = rs.Scan(&w.CustomerID, &w.At)
		w.At = w.At.UTC()
		return w, err
	}, `SELECT id, next_wake FROM customers
		WHERE next_wake IS NOT NULL AND next_wake <= $1 AND ($3::integer[] IS NULL OR shard = ANY($3))
		ORDER BY next_wake, id LIMIT $2`, ceilMicros(until), limit, shards)
}

// ActiveCustomers implements store.Store. With a fence set it lists only
// the shards the node owns: each node migrates its own customers.
func (s *Store) ActiveCustomers(ctx context.Context, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	owned, fenced := s.owned()
	var shards []int32
	if fenced {
		shards = int32s(owned)
	}
	return queryAll(ctx, s, "active customers", func(rs pgx.Rows) (id string, err error) {
		return id, rs.Scan(&id)
	}, `SELECT DISTINCT customer FROM active_instances
		WHERE customer > $1 AND ($3::integer[] IS NULL OR shard = ANY($3))
		ORDER BY customer LIMIT $2`, after, limit, shards)
}

// StaleCustomers lists, in id order after after, at most limit customers
// of shards with an active instance on a journey version not among
// versions: those a node that took the shards runs on another program
// than the one that ran them, and must migrate (runtime/reload's Adopt).
// It reads the shards given, whoever owns them.
func (s *Store) StaleCustomers(ctx context.Context, shards []int, versions []string, after string, limit int) ([]string, error) {
	if limit <= 0 || len(shards) == 0 {
		return nil, s.read(func() error { return nil })
	}
	if versions == nil {
		versions = []string{}
	}
	return queryAll(ctx, s, "customers on other versions", func(rs pgx.Rows) (id string, err error) {
		return id, rs.Scan(&id)
	}, `SELECT DISTINCT customer FROM active_instances
		WHERE customer > $1 AND shard = ANY($3) AND version <> ALL($4)
		ORDER BY customer LIMIT $2`, after, limit, int32s(shards), versions)
}

// ActiveStates implements store.ActiveStateReader (with a fence set, of
// the shards the node owns, like ActiveCustomers).
func (s *Store) ActiveStates(ctx context.Context, after string, limit int) ([]store.RawState, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	owned, fenced := s.owned()
	var shards []int32
	if fenced {
		shards = int32s(owned)
	}
	return queryAll(ctx, s, "active states", func(rs pgx.Rows) (r store.RawState, err error) {
		return r, rs.Scan(&r.ID, &r.State)
	}, `SELECT c.id, c.state FROM customers AS c
		WHERE c.id IN (SELECT DISTINCT customer FROM active_instances
			WHERE customer > $1 AND ($3::integer[] IS NULL OR shard = ANY($3)) ORDER BY customer LIMIT $2)
		ORDER BY c.id`, after, limit, shards)
}

// FailedSends implements store.FailedSendLister, through the partial index
// history_failed, in its order; the row compare is the cursor.
func (s *Store) FailedSends(ctx context.Context, after string, limit int) ([]store.FailedSend, error) {
	at, seq, ok, err := store.ParseFailedSendCursor(after)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	var from *time.Time
	if ok {
		t := time.UnixMicro(at).UTC()
		from = &t
	}
	return queryAll(ctx, s, "failed sends", func(rs pgx.Rows) (store.FailedSend, error) {
		var f store.FailedSend
		var rowSeq int64
		var rowAt time.Time
		var data []byte
		if err := rs.Scan(&rowSeq, &rowAt, &f.Customer, &data); err != nil {
			return f, err
		}
		f.Cursor = store.FailedSendCursor(rowAt.UnixMicro(), uint64(rowSeq))
		if err := json.Unmarshal(data, &f.Send); err != nil {
			return f, fmt.Errorf("decoding the failed send %s: %w", f.Cursor, err)
		}
		return f, nil
	}, `SELECT seq, at, customer, data FROM history
		WHERE kind = 'send' AND fate = 'failed' AND ($1::timestamptz IS NULL OR (at, seq) > ($1, $2))
		ORDER BY at, seq LIMIT $3`, from, int64(min(seq, math.MaxInt64)), limit)
}

// Transitions implements store.Store.
func (s *Store) Transitions(ctx context.Context, customerID string) ([]engine.Transition, error) {
	return queryAll(ctx, s, fmt.Sprintf("transitions of %q", customerID), func(rs pgx.Rows) (engine.Transition, error) {
		var t engine.Transition
		var version, from, to, cause, status *string
		var data []byte
		if err := rs.Scan(&t.Instance, &t.Journey, &version, &from, &to, &cause, &status, &t.At, &data); err != nil {
			return t, err
		}
		t.Version, t.From, t.To, t.Cause, t.Status = str(version), str(from), str(to), str(cause), str(status)
		t.At = t.At.UTC()
		return t, store.DecodeTransitionData(data, &t)
	}, `SELECT instance, journey, version, from_stage, to_stage, cause, status, at, data
		FROM history WHERE customer = $1 AND kind = 'transition' ORDER BY seq`, customerID)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Sends implements store.Store. Only a "deliver" decision has an outbox
// item; the held decision under the same key shows no delivery state.
func (s *Store) Sends(ctx context.Context, customerID string) ([]store.SendRecord, error) {
	return queryAll(ctx, s, fmt.Sprintf("sends of %q", customerID), func(rs pgx.Rows) (store.SendRecord, error) {
		var rec store.SendRecord
		var data []byte
		var state, lastError *string
		var attempt *int
		var deliveredAt *time.Time
		if err := rs.Scan(&data, &state, &attempt, &lastError, &deliveredAt); err != nil {
			return rec, err
		}
		if err := json.Unmarshal(data, &rec.Send); err != nil {
			return rec, fmt.Errorf("decoding a send: %w", err)
		}
		rec.Delivery = str(state)
		if attempt != nil {
			rec.Attempts = *attempt
		}
		rec.LastError = str(lastError)
		rec.DeliveredAt = nullTime(deliveredAt)
		return rec, nil
	}, `SELECT h.data, o.state, o.attempt, o.last_error, o.delivered_at
		FROM history AS h LEFT JOIN outbox AS o ON h.fate = 'deliver' AND o.key = h.key
		WHERE h.customer = $1 AND h.kind = 'send' ORDER BY h.seq`, customerID)
}

// Events implements store.EventHistory.
func (s *Store) Events(ctx context.Context, customerID string) ([]store.Event, error) {
	return queryAll(ctx, s, fmt.Sprintf("events of %q", customerID), func(rs pgx.Rows) (store.Event, error) {
		var kind string
		var data []byte
		if err := rs.Scan(&kind, &data); err != nil {
			return store.Event{}, err
		}
		return store.DecodeEvent(kind, data)
	}, `SELECT kind, data FROM history
		WHERE customer = $1 AND kind IN ('refusal', 'error', 'emit') ORDER BY seq`, customerID)
}

// Programs implements store.Store.
func (s *Store) Programs(ctx context.Context) ([]store.Program, error) {
	return queryAll(ctx, s, "programs", func(rs pgx.Rows) (store.Program, error) {
		var p store.Program
		err := rs.Scan(&p.Hash, &p.IR, &p.CreatedAt)
		p.CreatedAt = p.CreatedAt.UTC()
		return p, err
	}, "SELECT hash, ir, created_at FROM programs ORDER BY created_at DESC, n DESC")
}

// StageCounts implements store.Store: one scan of the stage index of
// active_instances, across all shards.
func (s *Store) StageCounts(ctx context.Context) ([]store.StageCount, error) {
	return queryAll(ctx, s, "stage counts", func(rs pgx.Rows) (c store.StageCount, err error) {
		return c, rs.Scan(&c.Journey, &c.Version, &c.Stage, &c.Active)
	}, `SELECT journey, version, stage, count(*) FROM active_instances
		GROUP BY journey, version, stage ORDER BY journey, version, stage`)
}

// queryAll runs a read with the store held open and scans each row with
// scan; an error is wrapped with what was being read.
func queryAll[T any](ctx context.Context, s *Store, what string, scan func(pgx.Rows) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := s.read(func() error {
		rs, err := s.pool.Query(ctx, query, args...)
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
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}
