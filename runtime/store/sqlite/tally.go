package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// The analytics tallies (runtime/store/tally) live in the table tallies,
// keyed by (journey, cohort, kind, a, b). A commit adds tally.Merge of its
// writes' tally.Of, one upsert per key; settling an outbox item moves its
// send between delivery states in the same transaction; SumTallies reads
// one range of the key per journey name.

// upsertTallies adds to a tally, creating it at zero first.
var upsertTallies = newBulk(
	"INSERT INTO tallies(journey, cohort, kind, a, b, n, sum) VALUES ", "(?,?,?,?,?,?,?)", ",",
	" ON CONFLICT(journey, cohort, kind, a, b) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum")

// tallyArgs flattens merged tallies into upsertTallies' arguments.
func tallyArgs(ts []store.Tally) []any {
	args := make([]any, 0, 7*len(ts))
	for _, t := range ts {
		args = append(args, t.Journey, t.Cohort, t.Kind, t.A, t.B, t.N, t.Sum)
	}
	return args
}

// addTallies adds ts (merged by key) in the writer's transaction.
func (w *writer) addTallies(ts []store.Tally) error {
	if _, err := w.run(upsertTallies, tallyArgs(tally.Merge(ts))); err != nil {
		return fmt.Errorf("tallies: %w", err)
	}
	return nil
}

// qItemTally reads what settling an outbox item changes in the tallies:
// its delivery state now, its cohort, and its send's journey and name (the
// send's history row, by primary key; kept by a prune while the item is
// pending or dead, the only states it can leave).
const qItemTally = `SELECT o.state, o.cohort, h.journey, h.name
	FROM outbox AS o LEFT JOIN history AS h ON h.seq = o.send_seq WHERE o.key = ?`

// itemTally is an outbox item as qItemTally reads it.
type itemTally struct {
	state         string
	cohort        sql.NullInt64
	journey, name sql.NullString
}

// readItemTally reads the item under key; ok is false when there is none.
func (w *writer) readItemTally(key string) (it itemTally, ok bool, err error) {
	st, err := w.stmt(qItemTally)
	if err != nil {
		return it, false, err
	}
	err = st.QueryRowContext(bg, key).Scan(&it.state, &it.cohort, &it.journey, &it.name)
	if err == sql.ErrNoRows {
		return it, false, nil
	}
	return it, err == nil, err
}

// move adds the tallies of the item going from its state to the state to.
// An item without a cohort (decided before the engine stamped one, or
// whose instance the upgrade could not place) or without its send in the
// history is in no tally, so nothing moves.
func (w *writer) move(it itemTally, to string) error {
	if it.state == to || !it.cohort.Valid || !it.journey.Valid || !it.name.Valid {
		return nil
	}
	j, name, c := it.journey.String, it.name.String, it.cohort.Int64
	ts := tally.Delivery(j, name, c, to)
	if it.state != store.DeliveryPending {
		ts = []store.Tally{
			{Journey: j, Cohort: c, Kind: tally.KindSendDelivery, A: name, B: it.state, N: -1},
			{Journey: j, Cohort: c, Kind: tally.KindSendDelivery, A: name, B: to, N: 1},
		}
	}
	return w.addTallies(ts)
}

// qSumTallies sums the tallies of each journey named (a JSON array) in a
// cohort range: one range of the primary key per name, grouped in a
// temporary b-tree of a few rows per (kind, a, b).
const qSumTallies = `SELECT t.kind, t.a, t.b, sum(t.n), sum(t.sum)
	FROM json_each(?1) AS j CROSS JOIN tallies AS t ON t.journey = j.value AND t.cohort >= ?2 AND t.cohort < ?3
	GROUP BY t.kind, t.a, t.b HAVING sum(t.n) != 0 OR sum(t.sum) != 0
	ORDER BY t.kind, t.a, t.b`

// SumTallies implements store.Tallies. A name given twice counts once.
func (s *Store) SumTallies(ctx context.Context, journeys []string, from, to int64) ([]store.Tally, error) {
	names := slices.Clone(journeys)
	slices.Sort(names)
	names = slices.Compact(names)
	arg, err := json.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sum tallies: %w", err)
	}
	var out []store.Tally
	err = s.read(func() error {
		rs, err := s.rdb.QueryContext(ctx, qSumTallies, string(arg), from, to) // text: a BLOB would be read as JSONB
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var t store.Tally
			if err := rs.Scan(&t.Kind, &t.A, &t.B, &t.N, &t.Sum); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: sum tallies of %q: %w", journeys, err)
	}
	return out, nil
}
