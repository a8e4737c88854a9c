package pebble

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
)

// BenchmarkCommit is the SQLite store's BenchmarkCommit run against this
// store: the same events (storetest.Write: a customer with two active
// instances, one send that goes out, two transitions, one message id), the
// same pool of 20,000 customers written beforehand and drawn at random, the
// same batch sizes and committer counts, every batch synced. Run both in
// one go to compare them:
//
//	go test ./runtime/store/sqlite ./runtime/store/pebble -run '^$' -bench Commit -benchtime 20x
//
// The floor is this store's: the same events, encoded the same way, each
// appended as one key to a bare Pebble database with the same options, in
// the same synced batches. x-floor is how many times that one event costs
// in the store (its reads, indexes, history, outbox and timer index).
func BenchmarkCommit(b *testing.B) {
	for _, c := range []struct{ size, parallel int }{{1, 1}, {100, 1}, {500, 1}, {100, 4}, {500, 2}} {
		name := fmt.Sprintf("batch=%d", c.size)
		if c.parallel > 1 {
			name += fmt.Sprintf("/parallel=%d", c.parallel)
		}
		b.Run(name, func(b *testing.B) { benchCommit(b, c.size, c.parallel) })
	}
}

// timed commits n batches of size from ev with parallel committers and
// returns the wall and process CPU time of the commits alone (making the
// batches is the engine's work, not the store's); with timer, b's timer
// runs during the commits only.
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
		wall += time.Since(start)
		cpu += cpuTime() - cpu0
		if timer {
			b.StopTimer()
		}
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		done += k
	}
	return wall, cpu
}

func benchCommit(b *testing.B, size, parallel int) {
	ctx := context.Background()
	floor := floorPerEvent(b, size, parallel)

	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	commit := func(bt *store.Batch) error { return s.Commit(ctx, bt) }
	ev := storetest.NewEvents()
	start := time.Now()
	timed(b, false, ev, storetest.Pool/500, 500, 1, commit)
	b.Logf("pool of %d customers written in %v", storetest.Pool, time.Since(start).Round(time.Millisecond))

	b.ResetTimer()
	b.StopTimer()
	el, cpu := timed(b, true, ev, b.N, size, parallel, commit)
	events := float64(b.N * size)
	b.ReportMetric(events/el.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
	b.ReportMetric(floor.Seconds()*1e6, "floor-µs/event")
	b.ReportMetric(el.Seconds()/events/floor.Seconds(), "x-floor")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
}

// floorPerEvent measures BenchmarkCommit's floor: each event's encoded
// state and send appended as one key to a bare database with the store's
// options, in synced batches of size, one writer at a time.
func floorPerEvent(b *testing.B, size, parallel int) time.Duration {
	b.Helper()
	db, err := pdb.Open(b.TempDir(), options(vfs.Default))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var mu sync.Mutex // one writer, as in the store
	var seq uint64
	commit := func(bt *store.Batch) error {
		vals := make([][]byte, 0, len(bt.Customers))
		for _, cw := range bt.Customers {
			st, err := json.Marshal(cw.State)
			if err != nil {
				return err
			}
			sd, err := json.Marshal(cw.Results[0].Sends[0])
			if err != nil {
				return err
			}
			vals = append(vals, append(st, sd...))
		}
		mu.Lock()
		defer mu.Unlock()
		wb := db.NewBatch()
		defer wb.Close()
		for _, v := range vals {
			seq++
			if err := wb.Set(binary.BigEndian.AppendUint64([]byte("log/"), seq), v, nil); err != nil {
				return err
			}
		}
		return wb.Commit(pdb.Sync)
	}
	ev := storetest.NewEvents()
	ev.SkipPool() // the pool is a store's matter
	n := max(20, 10000/size)
	el, _ := timed(b, false, ev, n, size, parallel, commit)
	return el / time.Duration(n*size)
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
