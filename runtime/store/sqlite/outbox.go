package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

const (
	qClaim = `UPDATE outbox SET next_attempt = ?1, lease_until = ?1
		WHERE rowid IN (SELECT rowid FROM outbox WHERE state = 'pending' AND next_attempt <= ?2
			ORDER BY next_attempt LIMIT ?3)
		RETURNING key, send_seq, attempt`
	qClaimSends = "SELECT h.seq, h.data FROM json_each(?) AS j CROSS JOIN history AS h ON h.seq = j.value"
)

// ClaimOutbox implements store.Store. A claim moves the items' next attempt
// to the end of the lease: until then no other claim sees them, and if the
// dispatcher that holds them dies they are deliverable again, with no
// sweeper. Items come earliest decision first.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	var items []store.OutboxItem
	until := micros(now.Add(lease))
	err := s.write(ctx, func(w *writer) error {
		items = items[:0] // the writer may run this twice (see runGroup)
		st, err := w.stmt(qClaim)
		if err != nil {
			return err
		}
		rs, err := st.QueryContext(bg, until, micros(now), limit)
		if err != nil {
			return err
		}
		attempts := make(map[int64]int)
		keys := make(map[int64]string)
		var seqs []int64
		for rs.Next() {
			var key string
			var seq int64
			var attempt int
			if err := rs.Scan(&key, &seq, &attempt); err != nil {
				rs.Close()
				return err
			}
			attempts[seq], keys[seq] = attempt, key
			seqs = append(seqs, seq)
		}
		if err := rs.Close(); err != nil {
			return err
		}
		if len(seqs) == 0 {
			return nil
		}
		// The sends themselves are in the history.
		arg, err := json.Marshal(seqs)
		if err != nil {
			return err
		}
		st, err = w.stmt(qClaimSends)
		if err != nil {
			return err
		}
		rs, err = st.QueryContext(bg, string(arg))
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var seq int64
			var data []byte
			if err := rs.Scan(&seq, &data); err != nil {
				return err
			}
			it := store.OutboxItem{Attempt: attempts[seq]}
			delete(keys, seq)
			if err := json.Unmarshal(data, &it.Send); err != nil {
				return fmt.Errorf("decoding an outbox item: %w", err)
			}
			items = append(items, it)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		if len(items) == len(seqs) {
			return nil
		}
		// An item whose send is gone from the history (deleted by hand)
		// can never be delivered: dead-letter it rather than fail every
		// claim after it. Its delivery tally stays pending: with the send
		// gone, its journey and name are not known here.
		for _, key := range keys {
			if _, err := w.execStmt(`UPDATE outbox SET state = 'dead', last_error = 'the send is missing from the history',
				lease_until = NULL, dead_at = ? WHERE key = ?`, micros(now), key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim outbox: %w", err)
	}
	// RETURNING has no order of its own.
	slices.SortFunc(items, func(a, b store.OutboxItem) int {
		if c := a.Send.At.Compare(b.Send.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Send.Key, b.Send.Key)
	})
	return items, nil
}

// settle runs one settling UPDATE of the item under key, which leaves it
// in delivery state to ("" when it stays as it is); when it changed
// nothing, the item is either settled already (fine: a late dispatcher after
// its lease ran out) or unknown (ErrNotFound). An item that did change
// state moves its send's delivery tally in the same transaction, so a
// settle repeated (by a second dispatcher) moves nothing twice.
func (s *Store) settle(ctx context.Context, what, key, to, query string, args ...any) error {
	err := s.write(ctx, func(w *writer) error {
		var it itemTally
		if to != "" {
			var ok bool
			var err error
			if it, ok, err = w.readItemTally(key); err != nil {
				return err
			} else if !ok {
				return store.ErrNotFound
			}
		}
		res, err := w.execStmt(query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if to == "" {
				return nil
			}
			return w.move(it, to)
		}
		var one int
		err = w.conn.QueryRowContext(bg, "SELECT 1 FROM outbox WHERE key = ?", key).Scan(&one)
		if err == sql.ErrNoRows {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: %s %q: %w", what, key, err)
	}
	return nil
}

// Delivered implements store.Store. The successful attempt counts as one.
// It wins over an earlier Dead (the message did go out) and keeps the
// first delivery time when two dispatchers both delivered.
func (s *Store) Delivered(ctx context.Context, key string, at time.Time) error {
	return s.settle(ctx, "delivered", key, store.DeliveryDelivered, `UPDATE outbox SET state = 'delivered', delivered_at = ?, attempt = attempt + 1,
		lease_until = NULL WHERE key = ? AND state != 'delivered'`, micros(at), key)
}

// Retry implements store.Store: attempt attempts were made, the next is due
// at next. An item already delivered or dead stays so.
func (s *Store) Retry(ctx context.Context, key string, attempt int, next time.Time, lastError string) error {
	return s.settle(ctx, "retry", key, "", `UPDATE outbox SET attempt = ?, next_attempt = ?, last_error = ?, lease_until = NULL
		WHERE key = ? AND state = 'pending'`, attempt, micros(next), lastError, key)
}

// Dead implements store.Store: the item is given up after attempt attempts.
func (s *Store) Dead(ctx context.Context, key string, attempt int, at time.Time, lastError string) error {
	return s.settle(ctx, "dead", key, store.DeliveryDead, `UPDATE outbox SET state = 'dead', attempt = ?, dead_at = ?, last_error = ?,
		lease_until = NULL WHERE key = ? AND state = 'pending'`, attempt, micros(at), lastError, key)
}

// qDeadLetters reads the dead-letter queue through outbox_dead, in key
// order; an item whose send is missing from the history still shows.
const qDeadLetters = `SELECT o.key, o.customer, o.attempt, o.last_error, o.dead_at, h.data
	FROM outbox AS o LEFT JOIN history AS h ON h.seq = o.send_seq
	WHERE o.state = 'dead' AND o.key > ? ORDER BY o.key LIMIT ?`

// DeadLetters implements store.DeadLetterQueue.
func (s *Store) DeadLetters(ctx context.Context, after string, limit int) ([]store.DeadLetter, error) {
	if limit <= 0 {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, s.reads.dead, "dead letters", func(rs *sql.Rows) (store.DeadLetter, error) {
		var d store.DeadLetter
		var deadAt sql.NullInt64
		var data []byte
		if err := rs.Scan(&d.Send.Key, &d.Customer, &d.Attempts, &d.LastError, &deadAt, &data); err != nil {
			return d, err
		}
		d.DeadAt = nullMicros(deadAt)
		if data != nil {
			key := d.Send.Key
			if err := json.Unmarshal(data, &d.Send); err != nil {
				return d, fmt.Errorf("decoding the send of %q: %w", key, err)
			}
		}
		return d, nil
	}, after, limit)
}

// Requeue implements store.DeadLetterQueue.
func (s *Store) Requeue(ctx context.Context, key string, at time.Time) error {
	err := s.write(ctx, func(w *writer) error {
		it, ok, err := w.readItemTally(key)
		if err != nil {
			return err
		}
		res, err := w.execStmt(`UPDATE outbox SET state = 'pending', attempt = 0, next_attempt = ?, lease_until = NULL, dead_at = NULL, last_error = ''
			WHERE key = ? AND state = 'dead'`, micros(at), key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || !ok {
			return store.ErrNotFound
		}
		return w.move(it, store.DeliveryPending)
	})
	if err != nil {
		return fmt.Errorf("sqlite: requeue %q: %w", key, err)
	}
	return nil
}

// SaveProgram implements store.Store. A zero CreatedAt is the time of
// saving; saving a hash again keeps the first row, time included.
func (s *Store) SaveProgram(ctx context.Context, p store.Program) error {
	if p.Hash == "" {
		return fmt.Errorf("sqlite: save program: empty hash")
	}
	at := p.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	ir := p.IR
	if ir == nil {
		ir = []byte{} // NOT NULL: an empty document is still a document
	}
	err := s.write(ctx, func(w *writer) error {
		_, err := w.execStmt("INSERT INTO programs(hash, ir, created_at) VALUES (?, ?, ?) ON CONFLICT(hash) DO NOTHING",
			p.Hash, ir, micros(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save program %s: %w", p.Hash, err)
	}
	return nil
}

// PruneHistory implements store.HistoryPruner. Both tables are walked in
// insertion order (seq, rowid), a chunk per transaction so that commits go
// on between chunks, from the oldest row kept.
//
// The history has no index on time (one would cost every commit): the walk
// stops at the first chunk whose records all lie at or after the cut.
// Commit order follows time closely; a record committed well after its
// time (timers handled after an outage) may outlive the cut until a later
// prune. Outbox items are exact: one created after the cut cannot have
// been delivered before it.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (records, items int64, err error) {
	cut := micros(before)
	// The outbox first: a delivered item's send is then no longer needed.
	items, err = s.pruneChunks(ctx, "outbox", cut, qOutboxChunk, qPruneOutbox)
	if err != nil {
		return 0, items, err
	}
	records, err = s.pruneChunks(ctx, "history", cut, qHistoryChunk, qPruneHistory)
	if err != nil {
		return records, items, err
	}
	received, err := s.pruneChunks(ctx, "received inputs", cut, qReceivedChunk, qPruneReceived)
	return records + received, items, err
}

// The prune's statements (TestQueryPlans checks their plans): the next
// chunk's last id and earliest time, then the delete within it.
const (
	qOutboxChunk  = "SELECT max(rowid), min(created_at) FROM (SELECT rowid, created_at FROM outbox WHERE rowid > ? ORDER BY rowid LIMIT ?)"
	qPruneOutbox  = "DELETE FROM outbox WHERE rowid > ?1 AND rowid <= ?2 AND state = 'delivered' AND delivered_at < ?3"
	qHistoryChunk = "SELECT max(seq), min(at) FROM (SELECT seq, at FROM history WHERE seq > ? ORDER BY seq LIMIT ?)"
	// The send of a pending or dead item stays: delivery and the
	// dead-letter queue read it (outbox.send_seq).
	qPruneHistory = `DELETE FROM history WHERE seq > ?1 AND seq <= ?2 AND at < ?3
		AND NOT (kind = 'send' AND EXISTS (SELECT 1 FROM outbox AS o
			WHERE o.key = history.key AND o.send_seq = history.seq AND o.state != 'delivered'))`
)

// pruneChunks runs del over the table chunk by chunk: bounds gives the last
// id of the next pruneChunk rows after an id and their earliest time; del
// deletes among ids (?1, ?2] what is older than ?3. It stops after the
// chunk whose rows are all at or after cut.
func (s *Store) pruneChunks(ctx context.Context, what string, cut int64, bounds, del string) (int64, error) {
	var total, from int64
	for {
		var hi, oldest sql.NullInt64
		var n int64
		err := s.write(ctx, func(w *writer) error {
			if err := w.conn.QueryRowContext(bg, bounds, from, pruneChunk).Scan(&hi, &oldest); err != nil {
				return err
			}
			if !hi.Valid {
				return nil
			}
			res, err := w.execStmt(del, from, hi.Int64, cut)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune %s: %w", what, err)
		}
		total += n
		if !hi.Valid || oldest.Int64 >= cut {
			return total, nil
		}
		from = hi.Int64
	}
}

// pruneChunk bounds one delete, so that a prune of millions of rows is many
// short transactions between which commits go on. A variable: tests make
// chunks small.
var pruneChunk = 10000

// PruneMessages implements store.MessagePruner.
func (s *Store) PruneMessages(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(w *writer) error {
			res, err := w.execStmt("DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE at < ? LIMIT ?)",
				micros(before), pruneChunk)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlite: prune messages: %w", err)
		}
		total += n
		if n < int64(pruneChunk) {
			return total, nil
		}
	}
}
