package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/store"
)

// An erase in a cluster (runtime/cluster) is an inbox row with Erase set:
// the node that takes the request enqueues it like an input, the owner of
// the customer's shard applies it in inbox order (after the inputs
// acknowledged before it, before those after it) and records what it
// erased under the row's message id (FinishErase), and the node that took
// the request reads that (TakeErasure) to answer.

// erasureKeep is how long an erase's result waits for the node that took
// the request (one that gave up, its client gone, never reads it).
const erasureKeep = 24 * time.Hour

// FinishErase records the result of the erase in the inbox row seq,
// filed under its message id, and takes the row out of the inbox, in one
// transaction: the erase is applied once (applying it again would erase
// nothing, as the erase itself is idempotent).
func (s *Store) FinishErase(ctx context.Context, seq int64, messageID string, e store.Erased) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("postgres: finish erase: %w", err)
	}
	err = s.write(ctx, func(w *wtx) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO erasures(message_id, result) VALUES ($1, $2)
			ON CONFLICT (message_id) DO UPDATE SET result = excluded.result`, messageID, data)
		b.Queue("DELETE FROM inbox WHERE seq = $1", seq)
		return w.tx.SendBatch(w.ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: finish erase: %w", err)
	}
	return nil
}

// TakeErasure returns and forgets the result of the erase enqueued under
// messageID; ok is false while it has not been applied. Results nobody
// took for erasureKeep go with it.
func (s *Store) TakeErasure(ctx context.Context, messageID string) (e store.Erased, ok bool, err error) {
	var data []byte
	// One statement, its own transaction, straight on the pool: a poll
	// does not queue behind (nor slow) the group writer's commits.
	err = s.read(func() error {
		rs, err := s.pool.Query(ctx, `DELETE FROM erasures WHERE message_id = $1 OR at < now() - $2::interval
			RETURNING message_id, result`, messageID, fmt.Sprintf("%d seconds", int(erasureKeep.Seconds())))
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var id string
			var r []byte
			if err := rs.Scan(&id, &r); err != nil {
				return err
			}
			if id == messageID {
				data = r
			}
		}
		return rs.Err()
	})
	if err == nil && data == nil {
		return e, false, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &e)
	}
	if err != nil {
		return store.Erased{}, false, fmt.Errorf("postgres: result of erase %s: %w", messageID, err)
	}
	return e, true, nil
}
