package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

var _ store.Tallies = (*Store)(nil)

// SumTallies implements store.Tallies: a range of the tallies' primary key
// per journey, summed across shards.
func (s *Store) SumTallies(ctx context.Context, journeys []string, from, to int64) ([]store.Tally, error) {
	if len(journeys) == 0 || from >= to {
		return nil, s.read(func() error { return nil })
	}
	return queryAll(ctx, s, "tallies", func(rs pgx.Rows) (store.Tally, error) {
		var t store.Tally
		return t, rs.Scan(&t.Kind, &t.A, &t.B, &t.N, &t.Sum)
	}, qSumTallies, journeys, from, to)
}

// qSumTallies is SumTallies' query: one range of the primary key per
// journey named (TestSumTalliesPlan checks it is read so).
const qSumTallies = `SELECT kind, a, b, sum(n)::bigint, sum(sum) FROM tallies
	WHERE journey = ANY($1) AND cohort >= $2 AND cohort < $3
	GROUP BY kind, a, b HAVING sum(n) <> 0 OR sum(sum) <> 0
	ORDER BY kind, a, b`

// backfillTallies is the upgrade of a database without tallies (part of
// the migration that makes them, in its transaction, so it runs once
// however many nodes start): the records are replayed (tally.Replayer),
// one replayer per shard, each shard's rows its own customers' tallies
// (commits add theirs under one shard each: the sums are the same). Then the outbox items not delivered yet get the journey,
// name and cohort their settlement moves, and the active instances the
// stages and variants they had (tally.FillProgress). Records written by
// a node of an older version while this runs are not counted: upgrade
// with the older nodes stopped.
func backfillTallies(ctx context.Context, tx pgx.Tx) error {
	var shards int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM shards").Scan(&shards); err != nil || shards == 0 {
		return fmt.Errorf("tallies: reading the shard count (%d): %v", shards, err)
	}
	// One replayer per shard, fed its customers' records in commit order
	// across journeys: an instance renamed by a moved block goes on under
	// the new name, and only a replay that saw its entry under the old
	// one counts it as the commits did. A sort of the whole history, once.
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '256MB'"); err != nil {
		return fmt.Errorf("tallies: %w", err)
	}
	reps := make([]*tally.Replayer, shards)
	err := scanRecords(ctx, tx, func(customer string, rec store.JourneyRecord) error {
		sh := ShardOf(customer, shards)
		if reps[sh] == nil {
			reps[sh] = tally.NewReplayer("")
		}
		reps[sh].Add(rec)
		return nil
	}, qAllRecords)
	if err != nil {
		return fmt.Errorf("tallies: replaying the records: %w", err)
	}
	var cols tallyCols
	flush := func() error {
		if len(cols.n) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, qAddTallies, cols.args()...)
		cols = tallyCols{}
		return err
	}
	for sh, r := range reps {
		if r == nil {
			continue
		}
		cols.add(sh, r.Tallies())
		if len(cols.n) >= backfillChunk {
			if err := flush(); err != nil {
				return fmt.Errorf("tallies: writing: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("tallies: writing: %w", err)
	}
	replayer := func(customer string) *tally.Replayer {
		return reps[ShardOf(customer, shards)]
	}
	if err := backfillOutbox(ctx, tx, replayer); err != nil {
		return err
	}
	return backfillProgress(ctx, tx, replayer)
}

// backfillChunk is how many rows a backfill statement writes at most.
const backfillChunk = 5000

// backfillOutbox gives the items still pending or dead (the only ones a
// settlement moves) their send's journey, name and cohort, by key order
// in chunks. An item whose instance no record names (pruned) keeps a NULL
// cohort: its settlement moves no tally, as none counted it.
func backfillOutbox(ctx context.Context, tx pgx.Tx, replayer func(customer string) *tally.Replayer) error {
	after := ""
	for {
		type item struct {
			key, customer string
			send          []byte
		}
		rs, err := tx.Query(ctx, `SELECT key, customer, send FROM outbox WHERE state <> 'delivered' AND key > $1 ORDER BY key LIMIT $2`, after, backfillChunk)
		if err != nil {
			return fmt.Errorf("tallies: reading the outbox: %w", err)
		}
		items, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (item, error) {
			var it item
			return it, r.Scan(&it.key, &it.customer, &it.send)
		})
		if err != nil {
			return fmt.Errorf("tallies: reading the outbox: %w", err)
		}
		if len(items) == 0 {
			return nil
		}
		after = items[len(items)-1].key
		var keys, journeys, names []string
		var cohorts []*int64
		for _, it := range items {
			var sd struct{ Journey, Instance, Name string }
			if json.Unmarshal(it.send, &sd) != nil {
				continue // dead-lettered at its claim, with nothing to place it by
			}
			var cohort *int64
			if r := replayer(it.customer); r != nil {
				if c, ok := r.SendCohort(it.key, sd.Instance); ok { // none for a send the replay did not count
					cohort = &c
				}
			}
			keys = append(keys, it.key)
			journeys = append(journeys, sd.Journey)
			names = append(names, sd.Name)
			cohorts = append(cohorts, cohort)
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox AS o SET journey = u.journey, name = u.name, cohort = u.cohort
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(key, journey, name, cohort)
			WHERE o.key = u.key`, keys, journeys, names, cohorts); err != nil {
			return fmt.Errorf("tallies: placing outbox items: %w", err)
		}
	}
}

// backfillProgress fills the visited stages and split variants of the
// active instances (tally.FillProgress), by customer id in chunks.
func backfillProgress(ctx context.Context, tx pgx.Tx, replayer func(customer string) *tally.Replayer) error {
	after := ""
	for {
		type cust struct {
			id    string
			state []byte
		}
		rs, err := tx.Query(ctx, `SELECT c.id, c.state FROM customers AS c
			WHERE c.id > $1 AND EXISTS (SELECT 1 FROM active_instances AS a WHERE a.customer = c.id)
			ORDER BY c.id LIMIT $2`, after, backfillChunk)
		if err != nil {
			return fmt.Errorf("tallies: reading customers: %w", err)
		}
		custs, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (cust, error) {
			var c cust
			return c, r.Scan(&c.id, &c.state)
		})
		if err != nil {
			return fmt.Errorf("tallies: reading customers: %w", err)
		}
		if len(custs) == 0 {
			return nil
		}
		after = custs[len(custs)-1].id
		var ids []string
		var states [][]byte
		for _, c := range custs {
			out, changed, err := tally.FillProgress(c.state, func(_, instance string) ([]string, map[string]string, bool) {
				if r := replayer(c.id); r != nil {
					return r.Progress(instance)
				}
				return nil, nil, false
			})
			if err != nil {
				return fmt.Errorf("tallies: customer %q: %w", c.id, err)
			}
			if changed {
				ids = append(ids, c.id)
				states = append(states, out)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE customers AS c SET state = u.state FROM unnest($1::text[], $2::bytea[]) AS u(id, state)
			WHERE c.id = u.id`, ids, states); err != nil {
			return fmt.Errorf("tallies: filling instances: %w", err)
		}
	}
}
