package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// keep is what a prune keeps before the cut: the decision to deliver of an
// outbox item still pending or dead (Sends shows it; delivery reads the
// outbox's own copy).
const keep = `(kind = 'send' AND fate = 'deliver' AND EXISTS (SELECT 1 FROM outbox AS o
	WHERE o.key = h.key AND o.state <> 'delivered'))`

// pruneChunk bounds one delete, so that a prune of millions of rows is many
// short transactions between which commits go on. A variable: tests make
// chunks small.
var pruneChunk = 10000

// PruneHistory implements store.HistoryPruner. Whole monthly partitions
// before the cut are dropped (what they must keep is moved to the default
// partition first): a prune of a month costs what the kept rows cost, not
// what the month holds. Rows before the cut elsewhere (the partition the
// cut falls in, the default partition) are deleted. Delivered outbox items
// before the cut are deleted. Then the partitions of the coming months are
// made, should no node have made them yet.
func (s *Store) PruneHistory(ctx context.Context, before time.Time) (records, items int64, err error) {
	// The outbox first: a delivered item's send is then no longer kept.
	items, err = s.chunks(ctx, "outbox", `DELETE FROM outbox WHERE key IN (SELECT key FROM outbox
		WHERE state = 'delivered' AND delivered_at < $1 LIMIT $2)`, before)
	if err != nil {
		return 0, items, err
	}
	parts, err := s.partitionsBefore(ctx, before)
	if err != nil {
		return 0, items, err
	}
	for _, p := range parts {
		n, err := s.dropPartition(ctx, p)
		if err != nil {
			return records, items, err
		}
		records += n
	}
	n, err := s.chunks(ctx, "history", `DELETE FROM history WHERE seq IN (SELECT seq FROM history AS h
		WHERE at < $1 AND NOT `+keep+` LIMIT $2)`, before)
	records += n
	if err != nil {
		return records, items, err
	}
	if err := s.read(func() error { return ensurePartitions(ctx, s.pool, s.now()) }); err != nil {
		return records, items, err
	}
	return records, items, nil
}

// partitionsBefore lists the monthly partitions of history that end at or
// before cut.
func (s *Store) partitionsBefore(ctx context.Context, cut time.Time) ([]string, error) {
	names, err := queryAll(ctx, s, "history partitions", func(rs pgx.Rows) (name string, err error) {
		return name, rs.Scan(&name)
	}, `SELECT c.relname FROM pg_inherits AS i
		JOIN pg_class AS c ON c.oid = i.inhrelid
		JOIN pg_class AS p ON p.oid = i.inhparent
		WHERE p.relname = 'history' AND c.relname ~ '^history_[0-9]{4}_[0-9]{2}$'
		ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		var y, m int
		if _, err := fmt.Sscanf(name, "history_%04d_%02d", &y, &m); err != nil {
			continue
		}
		end := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
		if !end.After(cut) {
			out = append(out, name)
		}
	}
	return out, nil
}

// dropPartition detaches the partition name if it ends at or before the
// cut, moves the rows it must keep to the default partition, and drops it,
// in one transaction; it returns how many records went.
func (s *Store) dropPartition(ctx context.Context, name string) (int64, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		n = 0
		if err := w.tx.QueryRow(w.ctx, fmt.Sprintf("SELECT count(*) FROM %s AS h WHERE NOT %s", name, keep)).Scan(&n); err != nil {
			return err
		}
		if _, err := w.tx.Exec(w.ctx, "ALTER TABLE history DETACH PARTITION "+name); err != nil {
			return err
		}
		if _, err := w.tx.Exec(w.ctx, fmt.Sprintf(`INSERT INTO history OVERRIDING SYSTEM VALUE SELECT * FROM %s AS h WHERE %s`, name, keep)); err != nil {
			return err
		}
		_, err := w.tx.Exec(w.ctx, "DROP TABLE "+name)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune history: dropping %s: %w", name, err)
	}
	return n, nil
}

// chunks runs del ($1 the cut, $2 the chunk size) until it deletes less
// than a chunk, one transaction per chunk, and returns the rows deleted.
func (s *Store) chunks(ctx context.Context, what, del string, cut time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(w *wtx) error {
			ct, err := w.tx.Exec(w.ctx, del, cut, pruneChunk)
			n = ct.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("postgres: prune %s: %w", what, err)
		}
		total += n
		if n < int64(pruneChunk) {
			return total, nil
		}
	}
}

// PruneMessages implements store.MessagePruner.
func (s *Store) PruneMessages(ctx context.Context, before time.Time) (int64, error) {
	return s.chunks(ctx, "messages", "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE at < $1 LIMIT $2)", before)
}
