package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// BenchmarkCommit measures durable events per second written straight to
// the store: each event is one realistic customer write (storetest.Write: a
// customer with two active instances, one send that goes out, two
// transitions, one message id), committed with synchronous=FULL in batches
// of 1, 100 and 500 customers. It is the baseline that the end-to-end
// ingest benchmark is compared with.
//
//	go test ./runtime/store/sqlite -run '^$' -bench Commit -benchtime 20x
//
// The customers are a pool of 20,000 written beforehand; each event goes to
// one drawn at random, so most commits update a customer, as in production,
// and touch pages all over the tables, as at scale.
//
// parallel=N runs N committers at once: the writer groups their batches into
// shared transactions, and encoding (in the callers) overlaps writing; that
// is the store's capacity when its caller is never the bottleneck.
//
// Each sub-benchmark also measures, in the same run, a floor: the same
// events, encoded the same way, appended as one row each to a bare table of
// a database with the same settings, in the same batches. x-floor is how
// many times that floor one event costs in the store (its indexes, history,
// outbox, timer index and upserts).
func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct{ size, parallel int }{{1, 1}, {100, 1}, {500, 1}, {100, 4}, {500, 2}} {
		name := fmt.Sprintf("batch=%d", c.size)
		if c.parallel > 1 {
			name += fmt.Sprintf("/parallel=%d", c.parallel)
		}
		b.Run(name, func(b *testing.B) { benchCommit(b, c.size, c.parallel) })
	}
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

// commitAll commits the batches from ch with parallel committers.
func commitAll(parallel int, ch chan *store.Batch, commit func(*store.Batch) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bt := range ch {
				if err := commit(bt); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// timed commits n batches of size made by ev and returns the time and the
// process CPU time taken, the making of the batches (the engine's work, not
// the store's) left out; with timer, b's timer runs during the commits only.
func timed(b *testing.B, timer bool, ev *storetest.Events, n, size, parallel int, commit func(*store.Batch) error) (wall, cpu time.Duration) {
	b.Helper()
	const ahead = 64
	for done := 0; done < n; {
		k := min(ahead, n-done)
		ch := make(chan *store.Batch, k)
		for range k {
			ch <- ev.Batch(size)
		}
		close(ch)
		if timer {
			b.StartTimer()
		}
		start, cpu0 := time.Now(), cpuTime()
		err := commitAll(parallel, ch, commit)
		wall += time.Since(start)
		cpu += cpuTime() - cpu0
		if timer {
			b.StopTimer()
		}
		if err != nil {
			b.Fatal(err)
		}
		done += k
	}
	return wall, cpu
}

func benchCommit(b *testing.B, size, parallel int) {
	ctx := context.Background()
	floor := floorPerEvent(b, size, parallel)

	s := benchStore(b)
	ev := storetest.NewEvents()
	start := time.Now()
	timed(b, false, ev, storetest.Pool/500, 500, 1, func(bt *store.Batch) error { return s.Commit(ctx, bt) })
	b.Logf("pool of %d customers written in %v", storetest.Pool, time.Since(start).Round(time.Millisecond))

	b.ResetTimer()
	b.StopTimer()
	el, cpu := timed(b, true, ev, b.N, size, parallel, func(bt *store.Batch) error { return s.Commit(ctx, bt) })
	events := float64(b.N * size)
	b.ReportMetric(events/el.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
	b.ReportMetric(floor.Seconds()*1e6, "floor-µs/event")
	b.ReportMetric(el.Seconds()/events/floor.Seconds(), "x-floor")
	// CPU time of the whole process per event (encoding, writer,
	// checkpointer): less sensitive than wall time to other work on the
	// machine, and what bounds throughput when the disk does not.
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
}

// floorPerEvent measures the floor of BenchmarkCommit: appending each
// event's encoded state and send as one row to a bare table, in batches of
// size, in a database with the store's settings.
func floorPerEvent(b *testing.B, size, parallel int) time.Duration {
	b.Helper()
	path := filepath.Join(b.TempDir(), "floor.db")
	db, err := sql.Open("sqlite", dsn(path, commonPragmas, writerPragmas, []string{"journal_mode(WAL)"}))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, customer TEXT NOT NULL, state BLOB NOT NULL, send BLOB NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex // one writer, as in the store
	commit := func(bt *store.Batch) error {
		args := make([]any, 0, 3*len(bt.Customers))
		for _, cw := range bt.Customers {
			st, err := json.Marshal(cw.State)
			if err != nil {
				return err
			}
			sd, err := json.Marshal(cw.Results[0].Sends[0])
			if err != nil {
				return err
			}
			args = append(args, cw.State.ID, st, sd)
		}
		mu.Lock()
		defer mu.Unlock()
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for len(args) > 0 {
			n := min(len(args)/3, 64)
			q := "INSERT INTO log(customer, state, send) VALUES " + strings.Repeat("(?,?,?),", n-1) + "(?,?,?)"
			if _, err := tx.Exec(q, args[:3*n]...); err != nil {
				return err
			}
			args = args[3*n:]
		}
		return tx.Commit()
	}
	ev := storetest.NewEvents()
	ev.SkipPool() // the pool is a store's matter
	n := max(20, 10000/size)
	el, _ := timed(b, false, ev, n, size, parallel, commit)
	return el / time.Duration(n*size)
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

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
