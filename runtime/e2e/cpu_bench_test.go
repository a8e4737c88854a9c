package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// statementsEnv, set, makes the cluster benchmarks print where
// PostgreSQL's time went, statement by statement (pg_stat_statements):
//
//	WAYMARK_BENCH_STATEMENTS=1 go test ./runtime/e2e -run '^$' -bench BenchmarkClusterIngest/nodes=1 -benchtime 3x
const statementsEnv = "WAYMARK_BENCH_STATEMENTS"

// startStatements resets PostgreSQL's statement statistics when
// statementsEnv is set, and returns the function that prints them per
// event; a no-op otherwise.
func startStatements(b *testing.B, conn *pgx.Conn) func(events int) {
	if os.Getenv(statementsEnv) == "" {
		return func(int) {}
	}
	ctx := context.Background()
	for _, q := range []string{"CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "SELECT pg_stat_statements_reset()"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	return func(events int) {
		rs, err := conn.Query(ctx, `SELECT calls, total_exec_time, rows, wal_bytes::bigint, left(regexp_replace(query, '\s+', ' ', 'g'), 80)
			FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20`)
		if err != nil {
			b.Fatal(err)
		}
		defer rs.Close()
		fmt.Printf("%8s %9s %8s %9s  %s\n", "calls", "µs/event", "rows", "WAL/row", "statement")
		for rs.Next() {
			var calls, rows, wal int64
			var ms float64
			var q string
			if err := rs.Scan(&calls, &ms, &rows, &wal, &q); err != nil {
				b.Fatal(err)
			}
			fmt.Printf("%8d %9.1f %8d %9d  %s\n", calls, ms*1000/float64(events), rows, wal/max(rows, 1), q)
		}
		if err := rs.Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuSeconds returns the CPU time of every process named postgres (with
// the children they reaped) and of this process, from /proc; -1, -1
// where there is no /proc.
func cpuSeconds() (pg, self float64) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1, -1
	}
	tick := 100.0 // USER_HZ on Linux
	pid := strconv.Itoa(os.Getpid())
	for _, e := range ents {
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 15 {
			continue
		}
		// Fields 14-17 of stat: utime, stime, cutime, cstime.
		var t [4]float64
		for k := range t {
			t[k], _ = strconv.ParseFloat(f[11+k], 64)
		}
		switch {
		case s[open+1:end] == "postgres":
			pg += (t[0] + t[1] + t[2] + t[3]) / tick
		case e.Name() == pid:
			self = (t[0] + t[1]) / tick
		}
	}
	return pg, self
}
