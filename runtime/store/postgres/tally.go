package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

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
	}, `SELECT kind, a, b, sum(n)::bigint, sum(sum) FROM tallies
		WHERE journey = ANY($1) AND cohort >= $2 AND cohort < $3
		GROUP BY kind, a, b HAVING sum(n) <> 0 OR sum(sum) <> 0
		ORDER BY kind, a, b`, journeys, from, to)
}

// backfillTallies is the upgrade of a database without tallies (part of
// the migration that makes them, in its transaction, so it runs once
// however many nodes start): each journey's records are replayed
// (tally.Replayer), one replayer per journey and shard, so that each
// shard's rows hold its own customers' tallies as its commits would have
// written them. Then the outbox items not delivered yet get the journey,
// name and cohort their settlement moves, and the active instances the
// stages and variants they had (tally.FillProgress). Records written by
// a node of an older version while this runs are not counted: upgrade
// with the older nodes stopped.
func backfillTallies(ctx context.Context, tx pgx.Tx) error {
	var shards int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM shards").Scan(&shards); err != nil || shards == 0 {
		return fmt.Errorf("tallies: reading the shard count (%d): %v", shards, err)
	}
	// The journeys with records: a skip scan of history_journey.
	rs, err := tx.Query(ctx, `WITH RECURSIVE j(journey) AS (
			SELECT min(journey) FROM history WHERE kind IN ('transition', 'send', 'response')
			UNION ALL
			SELECT (SELECT min(h.journey) FROM history AS h WHERE h.kind IN ('transition', 'send', 'response') AND h.journey > j.journey)
			FROM j WHERE j.journey IS NOT NULL)
		SELECT journey FROM j WHERE journey IS NOT NULL AND journey <> ''`)
	if err != nil {
		return fmt.Errorf("tallies: listing journeys: %w", err)
	}
	journeys, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("tallies: listing journeys: %w", err)
	}
	type where struct {
		journey string
		shard   int
	}
	reps := map[where]*tally.Replayer{}
	var order []where
	forever := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, j := range journeys {
		err := journeyRecords(ctx, tx, j, forever, func(customer string, rec store.JourneyRecord) error {
			w := where{j, ShardOf(customer, shards)}
			r := reps[w]
			if r == nil {
				r = tally.NewReplayer(j)
				reps[w] = r
				order = append(order, w)
			}
			r.Add(rec)
			return nil
		})
		if err != nil {
			return fmt.Errorf("tallies: replaying journey %q: %w", j, err)
		}
	}
	slices.SortFunc(order, func(a, b where) int {
		return cmp.Or(cmp.Compare(a.shard, b.shard), strings.Compare(a.journey, b.journey))
	})
	var cols tallyCols
	flush := func() error {
		if len(cols.n) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, qAddTallies, cols.args()...)
		cols = tallyCols{}
		return err
	}
	for _, w := range order {
		cols.add(w.shard, tally.Merge(reps[w].Tallies()))
		if len(cols.n) >= backfillChunk {
			if err := flush(); err != nil {
				return fmt.Errorf("tallies: writing: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("tallies: writing: %w", err)
	}
	replayer := func(journey, customer string) *tally.Replayer {
		return reps[where{journey, ShardOf(customer, shards)}]
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
func backfillOutbox(ctx context.Context, tx pgx.Tx, replayer func(journey, customer string) *tally.Replayer) error {
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
			if r := replayer(sd.Journey, it.customer); r != nil {
				if c, ok := r.Cohort(sd.Instance); ok {
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
func backfillProgress(ctx context.Context, tx pgx.Tx, replayer func(journey, customer string) *tally.Replayer) error {
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
			out, changed, err := tally.FillProgress(c.state, func(journey, instance string) ([]string, map[string]string, bool) {
				if r := replayer(journey, c.id); r != nil {
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
