package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
	"github.com/waymark-dev/waymark/runtime/store/tally"
)

// The upgrade to schema 9 derives the very sums the commits wrote, each
// shard's rows its own customers' tallies (the commits wrote each
// commit's under one of its shards).
func TestUpgradeTallies(t *testing.T) {
	var d dbs
	ctx := context.Background()
	var before []string
	dump := func(t *testing.T) []string {
		rs, err := sqlConn(t, d.of(t)).Query(ctx, `SELECT journey, cohort, kind, a, b, sum(n), sum(sum) FROM tallies
			GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 OR sum(sum) <> 0 ORDER BY 1, 2, 3, 4, 5`)
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

// Commits running at once share a transaction (group commit), their
// tallies upserted once at its end: the sums are those of every commit.
func TestTalliesOfConcurrentCommits(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	ws, want := tallyWrites(40)
	var wg sync.WaitGroup
	errs := make(chan error, len(ws))
	for i := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Commit(ctx, &store.Batch{Customers: []store.CustomerWrite{ws[i]}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkTallySums(t, s, want)
}

// A commit adds its tallies under one shard, the lowest it writes to (its
// own, fenced): a few rows per journey, whatever the shards it touches.
func TestCommitTalliesUnderOneShard(t *testing.T) {
	s, dsn := openStore(t)
	ctx := context.Background()
	ws, want := tallyWrites(40)
	lowest, shards := s.Shards(), map[int]bool{}
	for _, w := range ws {
		sh := s.ShardOf(w.State.ID)
		shards[sh] = true
		lowest = min(lowest, sh)
	}
	if len(shards) < 10 {
		t.Fatalf("the customers fall in %d shards: too few to tell", len(shards))
	}
	if err := s.Commit(ctx, &store.Batch{Customers: ws}); err != nil {
		t.Fatal(err)
	}
	var n, sh int
	if err := sqlConn(t, dsn).QueryRow(ctx, "SELECT count(DISTINCT shard), min(shard) FROM tallies").Scan(&n, &sh); err != nil {
		t.Fatal(err)
	}
	if n != 1 || sh != lowest {
		t.Errorf("the commit's tallies are in %d shards from %d, want 1: %d, the lowest of its customers'", n, sh, lowest)
	}
	checkTallySums(t, s, want)
}

// tallyWrites are n customers' writes, each entering journey j and
// answering a metric in the first hour of storetest.T0, and their tallies.
func tallyWrites(n int) ([]store.CustomerWrite, []store.Tally) {
	var want []store.Tally
	var ws []store.CustomerWrite
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		in := &engine.Instance{ID: id + "/j/1", Journey: "j", Version: "v1", Seq: 1, Status: engine.StatusActive, Stage: "s", Visit: 1,
			EnteredAt: storetest.T0, EntryEvent: "e"}
		at := storetest.T0.Add(time.Duration(i) * time.Minute)
		w := store.CustomerWrite{State: &engine.Customer{ID: id, Instances: []*engine.Instance{in}}, Results: []engine.Result{{
			Transitions: []engine.Transition{{Instance: in.ID, Journey: "j", Version: "v1", To: "s", Cause: "entry:e", Status: engine.StatusActive,
				At: at, Entered: at, Visit: 1, First: true}},
			Responses: []engine.Response{{Metric: "nps", Journey: "j", Instance: in.ID, Stage: "s", Value: float64(i % 11), At: at, Entered: at}},
		}}}
		ws = append(ws, w)
		want = append(want, tally.Of(&w)...)
	}
	return ws, want
}

// checkTallySums checks that the tallies of journey j in storetest.T0's
// hour sum to want.
func checkTallySums(t *testing.T, s *Store, want []store.Tally) {
	t.Helper()
	h0 := tally.Cohort(storetest.T0)
	got, err := s.SumTallies(context.Background(), []string{"j"}, h0, h0+1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].Journey, want[i].Cohort = "", 0
	}
	want = tally.Merge(want)
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("tallies:\n%+v\nwant\n%+v", got, want)
	}
	for i := range got {
		if got[i].Kind != want[i].Kind || got[i].A != want[i].A || got[i].B != want[i].B || got[i].N != want[i].N || math.Abs(got[i].Sum-want[i].Sum) > 1e-9 {
			t.Fatalf("tally %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// SumTallies reads only the rows of the journeys and hours asked, by the
// primary key, among many other journeys' and hours' (the table analyzed,
// as autovacuum would have it).
func TestSumTalliesPlan(t *testing.T) {
	ctx := context.Background()
	s, dsn := openStore(t)
	conn := sqlConn(t, dsn)
	// 20 journeys, 2,000 hours, 4 kinds, 2 shards: 320,000 rows.
	if _, err := conn.Exec(ctx, `INSERT INTO tallies(shard, journey, cohort, kind, a, b, n)
		SELECT sh, 'j' || j, c, k, 'stage', '', 1
		FROM generate_series(0, 1) AS sh, generate_series(1, 20) AS j, generate_series(490000, 491999) AS c,
			unnest(ARRAY['entered', 'edge', 'stage_entered', 'stage_active']) AS k`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE tallies"); err != nil {
		t.Fatal(err)
	}
	rs, err := conn.Query(ctx, "EXPLAIN "+qSumTallies, []string{"j3", "j7"}, int64(491000), int64(491024))
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for rs.Next() {
		var line string
		if err := rs.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", plan.String())
	if p := plan.String(); !strings.Contains(p, "tallies_pkey") || !strings.Contains(p, "cohort >=") || strings.Contains(p, "Seq Scan") {
		t.Errorf("SumTallies does not read one range of tallies_pkey per journey:\n%s", p)
	}
	got, err := s.SumTallies(ctx, []string{"j3", "j7"}, 491000, 491024)
	if err != nil {
		t.Fatal(err)
	}
	// 2 journeys × 24 hours × 2 shards of each kind.
	if len(got) != 4 || got[0].N != 96 {
		t.Errorf("SumTallies = %+v, want 4 kinds of 96", got)
	}
}
