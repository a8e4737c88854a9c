package pgtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// StatementsEnv, set, makes the benchmarks that use Statements print where
// the server's time went, statement by statement (pg_stat_statements):
//
//	WAYMARK_BENCH_STATEMENTS=1 go test ./runtime/e2e -run '^$' -bench BenchmarkClusterIngest/nodes=1 -benchtime 3x
const StatementsEnv = "WAYMARK_BENCH_STATEMENTS"

// StatementSettings are the server settings Statements needs, when
// StatementsEnv is set (for Options.Settings).
func StatementSettings() []string {
	if os.Getenv(StatementsEnv) == "" {
		return nil
	}
	return []string{"shared_preload_libraries=pg_stat_statements"}
}

// Statements resets the server's statement statistics when StatementsEnv
// is set, and returns the function that prints them per unit of work (an
// event, a wake); a no-op otherwise.
func Statements(tb testing.TB, conn *pgx.Conn, unit string) func(units int) {
	if os.Getenv(StatementsEnv) == "" {
		return func(int) {}
	}
	ctx := context.Background()
	for _, q := range []string{"CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "SELECT pg_stat_statements_reset()"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	return func(events int) {
		tb.Helper()
		rs, err := conn.Query(ctx, `SELECT calls, total_exec_time, rows, wal_bytes::bigint, left(regexp_replace(query, '\s+', ' ', 'g'), 80)
			FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20`)
		if err != nil {
			tb.Fatal(err)
		}
		defer rs.Close()
		fmt.Printf("%8s %9s %8s %9s  %s\n", "calls", "µs/"+unit, "rows", "WAL/row", "statement")
		for rs.Next() {
			var calls, rows, wal int64
			var ms float64
			var q string
			if err := rs.Scan(&calls, &ms, &rows, &wal, &q); err != nil {
				tb.Fatal(err)
			}
			fmt.Printf("%8d %9.1f %8d %9d  %s\n", calls, ms*1000/float64(events), rows, wal/max(rows, 1), q)
		}
		if err := rs.Err(); err != nil {
			tb.Fatal(err)
		}
		rs.Close()
		// The server's own work meanwhile: autovacuum and checkpoints
		// take CPU no statement shows.
		var vacuums, analyzes, checkpoints int64
		var vacuumed string
		err = conn.QueryRow(ctx, `SELECT coalesce(sum(autovacuum_count), 0)::bigint, coalesce(sum(autoanalyze_count), 0)::bigint,
				coalesce(string_agg(relname || ' ' || autovacuum_count, ', ' ORDER BY relname) FILTER (WHERE autovacuum_count > 0), ''),
				(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)
			FROM pg_stat_user_tables`).Scan(&vacuums, &analyzes, &vacuumed, &checkpoints)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Printf("autovacuums %d (%s), autoanalyzes %d (this database, since it was made); checkpoints %d (the server's)\n", vacuums, vacuumed, analyzes, checkpoints)
	}
}
