package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// BenchmarkCommit is storetest.RunCommitBench on this store, with
// synchronous=FULL: the baseline the end-to-end ingest benchmark is
// compared with. Its floor appends each event as one row to a bare table
// of a database with the store's settings.
//
//	go test ./runtime/store/sqlite -run '^$' -bench Commit -benchtime 20x
func BenchmarkCommit(b *testing.B) {
	storetest.RunCommitBench(b,
		func(b *testing.B) store.Store { return benchStore(b) },
		func(b *testing.B) func([]storetest.FloorRow) error {
			path := filepath.Join(b.TempDir(), "floor.db")
			db, err := sql.Open("sqlite", dsn(path, commonPragmas, writerPragmas, []string{"journal_mode(WAL)"}))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			db.SetMaxOpenConns(1)
			if _, err := db.Exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, customer TEXT NOT NULL, state BLOB NOT NULL, send BLOB NOT NULL)"); err != nil {
				b.Fatal(err)
			}
			return func(rows []storetest.FloorRow) error {
				tx, err := db.Begin()
				if err != nil {
					return err
				}
				defer tx.Rollback()
				for len(rows) > 0 {
					n := min(len(rows), 64)
					args := make([]any, 0, 3*n)
					for _, r := range rows[:n] {
						args = append(args, r.Customer, r.State, r.Send)
					}
					q := "INSERT INTO log(customer, state, send) VALUES " + strings.Repeat("(?,?,?),", n-1) + "(?,?,?)"
					if _, err := tx.Exec(q, args...); err != nil {
						return err
					}
					rows = rows[n:]
				}
				return tx.Commit()
			}
		})
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkDue: the timer index with a million customers waiting, their
// wakes spread over 30 days; each call reads the next 10,000 due, as the
// scheduler does when it has fallen behind (a tenth of the wakes are due).
// Reports ms per call.
//
//	go test ./runtime/store/sqlite -run '^$' -bench Due
//
// The rows are written in wake order, so that setting up a million takes
// seconds (random order would be minutes of B-tree splits); the index and
// the query do not depend on the order the rows came in.
func BenchmarkDue(b *testing.B) {
	const pending, next = 1_000_000, 10_000
	s := benchStore(b)
	ctx := context.Background()
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	span := 30 * 24 * time.Hour
	wakes := make([]int64, pending)
	for i := range wakes {
		wakes[i] = micros(storetest.T0.Add(time.Duration(rng.Int64N(int64(span)))))
	}
	slices.Sort(wakes)
	state := []byte(`{"id":""}`)
	insert := newBulk("INSERT INTO customers(id, state, next_wake) VALUES ", "(?,?,?)", ",", "")
	const chunk = 100_000
	for lo := 0; lo < pending; lo += chunk {
		args := make([]any, 0, 3*chunk)
		for i := lo; i < lo+chunk; i++ {
			args = append(args, fmt.Sprintf("customer-%07d", i), state, wakes[i])
		}
		if err := s.write(ctx, func(w *writer) error { _, err := w.run(insert, args); return err }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d pending wakes written in %v", pending, time.Since(start).Round(time.Millisecond))
	until := storetest.T0.Add(span / 10)
	b.ResetTimer()
	for range b.N {
		ws, err := s.Due(ctx, until, next)
		if err != nil {
			b.Fatal(err)
		}
		if len(ws) != next {
			b.Fatalf("Due returned %d, want %d", len(ws), next)
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/call")
	// And when nothing is due: the scheduler's common case.
	const calls = 1000
	t0 := time.Now()
	for range calls {
		if ws, err := s.Due(ctx, storetest.T0.Add(-time.Hour), next); err != nil || len(ws) != 0 {
			b.Fatalf("Due before every wake = %d, %v", len(ws), err)
		}
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/calls, "µs/empty-call")
}

// BenchmarkOutboxDrain is storetest.RunOutboxDrainBench on this store:
// end/start near 1 means claims cost the same with the backlog full or
// nearly drained.
//
//	go test ./runtime/store/sqlite ./runtime/store/pebble -run '^$' -bench OutboxDrain -benchtime 1x
func BenchmarkOutboxDrain(b *testing.B) {
	storetest.RunOutboxDrainBench(b, func(b *testing.B) store.Store { return benchStore(b) })
}
