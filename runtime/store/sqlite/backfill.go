package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// backfillTallies is the fill of the migration that adds the tallies: a
// database written before it has history but no tallies, so the records
// are replayed once (tally.Replayer, the same derivation the tests hold
// the live tallies to) and what a live commit would have stamped is put
// where later commits expect it:
//
//   - the tallies of every journey with records;
//   - the cohort of every outbox item that can still change state (pending
//     or dead), so that settling it moves its delivery tally;
//   - the visited stages and split variants of every active instance
//     (engine.Instance.Visited, Splits), from which the engine stamps the
//     transition that ends it (visitors, leakage, conversions per variant).
//
// The records of all journeys go through one Replayer in commit order: an
// instance of a journey renamed by a moved block goes on, under its old
// id, in the records of the new name, and only a replay that has seen its
// entry under the old name counts it as the live commits did. The
// Replayer holds every instance's run until the end (a few hundred bytes
// each).
//
// It runs in the migration's transaction: a crash leaves the previous
// schema, and the next open replays again. What the history no longer holds
// (pruned by the retention) is not counted, as the record fold before it did
// not count it either; an instance whose entry was pruned has no known
// cohort, so its outbox items keep a NULL cohort (their delivery tallies do
// not move) and its Visited and Splits stay empty (its end counts no
// visitors, leakage or split conversion).
func backfillTallies(ctx context.Context, conn *sql.Conn) error {
	w := &writer{conn: conn}
	defer w.closeStmts()
	rp := tally.NewReplayer("")
	if err := records(ctx, conn, func(r store.JourneyRecord) error {
		rp.Add(r)
		return nil
	}, qAllRecords); err != nil {
		return fmt.Errorf("replaying the records: %w", err)
	}
	if err := w.addTallies(rp.Tallies()); err != nil {
		return err
	}
	items, err := openItems(ctx, conn)
	if err != nil {
		return err
	}
	for _, it := range items {
		c, ok := rp.SendCohort(it.key, it.instance) // none for a send the replay did not count
		if !ok {
			continue
		}
		if _, err := w.execStmt("UPDATE outbox SET cohort = ? WHERE key = ?", c, it.key); err != nil {
			return fmt.Errorf("the cohort of outbox item %q: %w", it.key, err)
		}
	}
	return backfillProgress(ctx, w, rp)
}

// openItem is an outbox item that can still change delivery state.
type openItem struct{ key, instance string }

// openItems reads the pending and dead outbox items (delivered ones never
// move again) with their sends' instances. They are a small part of the
// outbox unless delivery has been down.
func openItems(ctx context.Context, conn *sql.Conn) ([]openItem, error) {
	rs, err := conn.QueryContext(ctx, `SELECT o.key, h.instance FROM outbox AS o JOIN history AS h ON h.seq = o.send_seq
		WHERE o.state != 'delivered'`)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rs.Close()
	var out []openItem
	for rs.Next() {
		var key string
		var instance sql.NullString
		if err := rs.Scan(&key, &instance); err != nil {
			return nil, err
		}
		out = append(out, openItem{key, instance.String})
	}
	return out, rs.Err()
}

// backfillProgress sets Visited and Splits on the active instances from
// the replay, rewriting the state of each customer that has one.
func backfillProgress(ctx context.Context, w *writer, rp *tally.Replayer) error {
	rs, err := w.conn.QueryContext(ctx, "SELECT DISTINCT customer FROM active_instances")
	if err != nil {
		return fmt.Errorf("active instances: %w", err)
	}
	var ids []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rs.Close(); err != nil {
		return err
	}
	for _, id := range ids {
		var state []byte
		if err := w.conn.QueryRowContext(ctx, "SELECT state FROM customers WHERE id = ?", id).Scan(&state); err != nil {
			return fmt.Errorf("customer %q: %w", id, err)
		}
		c := new(engine.Customer)
		if err := json.Unmarshal(state, c); err != nil {
			return fmt.Errorf("customer %q: decoding the state: %w", id, err)
		}
		changed := false
		for _, in := range c.Instances {
			if in == nil || !in.Active() {
				continue
			}
			if visited, splits, ok := rp.Progress(in.ID); ok {
				in.Visited, in.Splits = visited, splits
				changed = true
			}
		}
		if !changed {
			continue
		}
		if state, err = json.Marshal(c); err != nil {
			return fmt.Errorf("customer %q: encoding the state: %w", id, err)
		}
		if _, err := w.execStmt("UPDATE customers SET state = ? WHERE id = ?", state, id); err != nil {
			return fmt.Errorf("customer %q: %w", id, err)
		}
	}
	return nil
}
