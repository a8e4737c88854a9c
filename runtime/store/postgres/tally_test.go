package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// The upgrade to schema 9 derives, per shard, the very rows the commits
// wrote: each shard's rows hold its own customers' tallies.
func TestUpgradeTallies(t *testing.T) {
	var d dbs
	ctx := context.Background()
	var before []string
	dump := func(t *testing.T) []string {
		rs, err := sqlConn(t, d.of(t)).Query(ctx, "SELECT shard, journey, cohort, kind, a, b, n, sum FROM tallies WHERE n <> 0 OR sum <> 0 ORDER BY 1, 2, 3, 4, 5, 6")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			v, err := rs.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(v...))
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	storetest.RunTallyUpgrade(t, storetest.TallyUpgrade{
		Open: func(t *testing.T) store.Store {
			s, err := Open(d.of(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Downgrade: func(t *testing.T) {
			before = dump(t)
			_, err := sqlConn(t, d.of(t)).Exec(ctx, `DROP TABLE tallies;
				ALTER TABLE outbox DROP COLUMN journey, DROP COLUMN name, DROP COLUMN cohort;
				DELETE FROM schema_migrations WHERE version >= 9`)
			if err != nil {
				t.Fatal(err)
			}
		},
		Upgraded: func(t *testing.T, s store.Store) {
			after := dump(t)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("tally rows derived at the upgrade:\n%q\nwant those the commits wrote:\n%q", after, before)
			}
			shards := map[string]bool{}
			for _, id := range []string{"a", "b", "c"} {
				shards[fmt.Sprint(s.(*Store).ShardOf(id))] = true
			}
			var n int
			if err := sqlConn(t, d.of(t)).QueryRow(ctx, "SELECT count(DISTINCT shard) FROM tallies").Scan(&n); err != nil || n != len(shards) {
				t.Fatalf("tallies in %d shards (%v), want %d: the customers' own", n, err, len(shards))
			}
		},
	})
}
