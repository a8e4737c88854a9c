package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waymark-dev/waymark/runtime/store"
)

// qClaim leases up to $3 deliverable items by moving their next attempt to
// the end of the lease ($1): until then no other claim sees them, and if
// the dispatcher that holds them dies they come back, with no sweeper.
// SKIP LOCKED: two nodes claiming at once take different items. $4 is the
// shards to claim from (NULL: all).
const qClaim = `UPDATE outbox SET next_attempt = $1, lease_until = $1
	WHERE key IN (SELECT key FROM outbox WHERE state = 'pending' AND next_attempt <= $2
		AND ($4::integer[] IS NULL OR shard = ANY($4))
		ORDER BY next_attempt LIMIT $3 FOR UPDATE SKIP LOCKED)
	RETURNING key, send, attempt`

// ClaimOutbox implements store.Store. With a fence set it claims only from
// the shards the node owns, fenced. Items come earliest decision first.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	owned, fenced := s.owned()
	if fenced && len(owned) == 0 {
		return nil, s.read(func() error { return nil })
	}
	var items []store.OutboxItem
	err := s.write(ctx, func(w *wtx) error {
		items = items[:0] // the writer may run this twice (see runGroup)
		b := &pgx.Batch{}
		s.queueFence(b, owned)
		var shards []int32
		if fenced {
			shards = int32s(owned)
		}
		var bad []string
		b.Queue(qClaim, now.Add(lease), now, limit, shards).Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var key string
				var data []byte
				var it store.OutboxItem
				if err := rs.Scan(&key, &data, &it.Attempt); err != nil {
					return err
				}
				if err := json.Unmarshal(data, &it.Send); err != nil {
					bad = append(bad, key)
					continue
				}
				items = append(items, it)
			}
			return rs.Err()
		})
		if err := w.tx.SendBatch(w.ctx, b).Close(); err != nil {
			if fenced && isCode(err, "WM001") {
				return s.fenceLost(owned)
			}
			return err
		}
		// An item whose send cannot be read can never be delivered:
		// dead-letter it rather than fail every claim after it.
		for _, key := range bad {
			if _, err := w.tx.Exec(w.ctx, `UPDATE outbox SET state = 'dead', last_error = 'the stored send cannot be decoded',
				lease_until = NULL, dead_at = $1 WHERE key = $2`, now, key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim outbox: %w", err)
	}
	slices.SortFunc(items, func(a, b store.OutboxItem) int {
		if c := a.Send.At.Compare(b.Send.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Send.Key, b.Send.Key)
	})
	return items, nil
}

// owned is the shards the fence says the node owns, and whether a fence is
// set at all.
func (s *Store) owned() ([]int, bool) {
	f := s.getFence()
	if f == nil {
		return nil, false
	}
	return f.Owned(), true
}

func int32s(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// qFenceItem fences the shard of the item under key $1 against the epochs
// the node owns its shards at ($2, $3): an item of a shard the node does
// not own (epoch NULL) fails it too.
const qFenceItem = `SELECT waymark_fence(ARRAY[o.shard],
	ARRAY[(SELECT u.e FROM unnest($2::integer[], $3::bigint[]) AS u(s, e) WHERE u.s = o.shard)])
	FROM outbox AS o WHERE o.key = $1`

// settle runs one settling UPDATE of the item under key, fenced when a
// fence is set; when it changed nothing, the item is either settled already
// (fine: a late dispatcher after its lease ran out) or unknown
// (ErrNotFound).
func (s *Store) settle(ctx context.Context, what, key, query string, args ...any) error {
	owned, fenced := s.owned()
	err := s.write(ctx, func(w *wtx) error {
		b := &pgx.Batch{}
		if fenced {
			ids, epochs, _ := fenceArgs(s.getFence(), owned)
			b.Queue(qFenceItem, key, ids, epochs)
		}
		var n int64
		b.Queue(query, args...).Exec(func(ct pgconn.CommandTag) error {
			n = ct.RowsAffected()
			return nil
		})
		if err := w.tx.SendBatch(w.ctx, b).Close(); err != nil {
			if fenced && isCode(err, "WM001") {
				var sh int
				if e := s.pool.QueryRow(bg, "SELECT shard FROM outbox WHERE key = $1", key).Scan(&sh); e == nil {
					return s.fenceLost([]int{sh})
				}
				return &FencedError{}
			}
			return err
		}
		if n > 0 {
			return nil
		}
		var one int
		err := w.tx.QueryRow(w.ctx, "SELECT 1 FROM outbox WHERE key = $1", key).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: %s %q: %w", what, key, err)
	}
	return nil
}

// Delivered implements store.Store. The successful attempt counts as one.
// It wins over an earlier Dead (the message did go out) and keeps the
// first delivery time when two dispatchers both delivered.
func (s *Store) Delivered(ctx context.Context, key string, at time.Time) error {
	return s.settle(ctx, "delivered", key, `UPDATE outbox SET state = 'delivered', delivered_at = $1, attempt = attempt + 1,
		lease_until = NULL WHERE key = $2 AND state <> 'delivered'`, at, key)
}

// Retry implements store.Store: attempt attempts were made, the next is due
// at next. An item already delivered or dead stays so.
func (s *Store) Retry(ctx context.Context, key string, attempt int, next time.Time, lastError string) error {
	return s.settle(ctx, "retry", key, `UPDATE outbox SET attempt = $1, next_attempt = $2, last_error = $3, lease_until = NULL
		WHERE key = $4 AND state = 'pending'`, attempt, next, lastError, key)
}

// Dead implements store.Store: the item is given up after attempt attempts.
func (s *Store) Dead(ctx context.Context, key string, attempt int, at time.Time, lastError string) error {
	return s.settle(ctx, "dead", key, `UPDATE outbox SET state = 'dead', attempt = $1, dead_at = $2, last_error = $3,
		lease_until = NULL WHERE key = $4 AND state = 'pending'`, attempt, at, lastError, key)
}

// DeadLetters implements store.DeadLetterQueue, in key order through the
// partial index outbox_dead, across all shards.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]store.DeadLetter, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, "dead letters", func(rs pgx.Rows) (store.DeadLetter, error) {
		var d store.DeadLetter
		var deadAt *time.Time
		var data []byte
		if err := rs.Scan(&d.Send.Key, &d.Customer, &d.Attempts, &d.LastError, &deadAt, &data); err != nil {
			return d, err
		}
		d.DeadAt = nullTime(deadAt)
		key := d.Send.Key
		if err := json.Unmarshal(data, &d.Send); err != nil {
			return d, fmt.Errorf("decoding the send of %q: %w", key, err)
		}
		return d, nil
	}, `SELECT key, customer, attempt, last_error, dead_at, send FROM outbox
		WHERE state = 'dead' AND key > $1 ORDER BY key LIMIT $2`, after, limit)
}

// Requeue implements store.DeadLetterQueue.
func (s *Store) Requeue(ctx context.Context, key string, at time.Time) error {
	err := s.write(ctx, func(w *wtx) error {
		ct, err := w.tx.Exec(w.ctx, `UPDATE outbox SET state = 'pending', attempt = 0, next_attempt = $1, lease_until = NULL, dead_at = NULL, last_error = ''
			WHERE key = $2 AND state = 'dead'`, at, key)
		if err != nil {
			return err
		}
		if ct.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: requeue %q: %w", key, err)
	}
	return nil
}

// SaveProgram implements store.Store. A zero CreatedAt is the time of
// saving; saving a hash again keeps the first row, time included.
func (s *Store) SaveProgram(ctx context.Context, p store.Program) error {
	if p.Hash == "" {
		return fmt.Errorf("postgres: save program: empty hash")
	}
	at := p.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	ir := p.IR
	if ir == nil {
		ir = []byte{}
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.tx.Exec(w.ctx, "INSERT INTO programs(hash, ir, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING", p.Hash, ir, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: save program %s: %w", p.Hash, err)
	}
	return nil
}
