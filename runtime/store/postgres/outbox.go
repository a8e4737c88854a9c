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

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
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
				// A claim fences every owned shard: drop only those that
				// moved (a handover under way), not all of them.
				return s.fenceLost(movedShards(err, owned))
			}
			return err
		}
		// An item whose send cannot be read can never be delivered:
		// dead-letter it rather than fail every claim after it.
		for _, key := range bad {
			if _, err := w.tx.Exec(w.ctx, qUndecodable, key, now); err != nil {
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

// moveState is a statement that moves the outbox item under key $1 to
// another delivery state (set: the UPDATE's SET list, for the rows whose
// state before, old.state, meets cond) and the send_delivery tally with
// it, in the shard's rows: one fewer in the state it leaves, one more in
// the state it takes. An item the upgrade could not place (cohort NULL)
// moves no tally. The result is the number of items moved.
func moveState(set, cond string) string {
	return `WITH old AS (SELECT key, state FROM outbox WHERE key = $1 FOR UPDATE),
	moved AS (UPDATE outbox AS o SET ` + set + ` FROM old WHERE o.key = old.key AND ` + cond + `
		RETURNING o.shard, o.journey, o.name, o.cohort, old.state AS was, o.state AS now),
	added AS (INSERT INTO tallies AS t(shard, journey, cohort, kind, a, b, n, sum)
		SELECT m.shard, m.journey, m.cohort, '` + tally.KindSendDelivery + `', m.name, d.state, d.n, 0
		FROM moved AS m CROSS JOIN LATERAL (VALUES (m.was, -1::bigint), (m.now, 1::bigint)) AS d(state, n)
		WHERE m.cohort IS NOT NULL AND m.journey IS NOT NULL AND m.name IS NOT NULL AND m.was <> m.now
		ORDER BY d.state
		ON CONFLICT (journey, cohort, kind, a, b, shard) DO UPDATE SET n = t.n + excluded.n)
	SELECT count(*) FROM moved`
}

// The moves between delivery states. Delivered wins over an earlier Dead
// (the message did go out) and keeps the first delivery time when two
// dispatchers both delivered; Dead and a send that cannot be decoded
// leave pending only; Requeue takes a dead item back to pending.
var (
	qDelivered = moveState(`state = 'delivered', delivered_at = $2, attempt = o.attempt + 1, lease_until = NULL`,
		`old.state <> 'delivered'`)
	qDead = moveState(`state = 'dead', attempt = $2, dead_at = $3, last_error = $4, lease_until = NULL`,
		`old.state = 'pending'`)
	qUndecodable = moveState(`state = 'dead', last_error = 'the stored send cannot be decoded', lease_until = NULL, dead_at = $2`,
		`old.state = 'pending'`)
	qRequeue = moveState(`state = 'pending', attempt = 0, next_attempt = $2, lease_until = NULL, dead_at = NULL, last_error = ''`,
		`old.state = 'dead'`)
)

// settle runs one settling statement of the item under key (its result:
// the items it changed), fenced when a fence is set; when it changed nothing, the item is either settled already
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
		b.Queue(query, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
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
	return s.settle(ctx, "delivered", key, qDelivered, key, at)
}

// Retry implements store.Store: attempt attempts were made, the next is due
// at next. An item already delivered or dead stays so.
func (s *Store) Retry(ctx context.Context, key string, attempt int, next time.Time, lastError string) error {
	return s.settle(ctx, "retry", key, `WITH moved AS (UPDATE outbox SET attempt = $2, next_attempt = $3, last_error = $4, lease_until = NULL
		WHERE key = $1 AND state = 'pending' RETURNING 1) SELECT count(*) FROM moved`, key, attempt, next, lastError)
}

// Dead implements store.Store: the item is given up after attempt attempts.
func (s *Store) Dead(ctx context.Context, key string, attempt int, at time.Time, lastError string) error {
	return s.settle(ctx, "dead", key, qDead, key, attempt, at, lastError)
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
		var n int64
		if err := w.tx.QueryRow(w.ctx, qRequeue, key, at).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
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
