package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// FloorRow is one event as a store's floor writes it: the customer's
// encoded state and its send, appended as one row or key.
type FloorRow struct {
	Customer    string
	State, Send []byte
}

// RunCommitBench is every store's BenchmarkCommit: durable events per
// second written straight to the store, each event one realistic customer
// write (Write: a customer with two active instances, one send that goes
// out, two transitions, one message id), in synced batches of 1, 100 and
// 500 customers, by one committer or several at once (the store groups
// their batches, and encoding in the callers overlaps writing: the store's
// capacity when its caller is never the bottleneck). The customers are a
// pool of Pool written beforehand; each event goes to one drawn at random,
// so most commits update a customer and touch pages all over, as at scale.
//
// In the same run it measures a floor: the same events, encoded the same
// way, appended by floor (a bare database of the store's kind with its
// settings, one writer at a time) in the same batches. x-floor is how many
// times that floor one event costs in the store (its reads, indexes,
// history, outbox and timer index). cpu-µs/event is the whole process's
// CPU time per event: less sensitive than wall time to other work on the
// machine, and what bounds throughput when the disk does not.
func RunCommitBench(b *testing.B, open func(b *testing.B) store.Store, floor func(b *testing.B) func([]FloorRow) error) {
	for _, c := range []struct{ size, parallel int }{{1, 1}, {100, 1}, {500, 1}, {100, 4}, {500, 2}} {
		name := fmt.Sprintf("batch=%d", c.size)
		if c.parallel > 1 {
			name += fmt.Sprintf("/parallel=%d", c.parallel)
		}
		b.Run(name, func(b *testing.B) { benchCommit(b, c.size, c.parallel, open, floor) })
	}
}

func benchCommit(b *testing.B, size, parallel int, open func(*testing.B) store.Store, floor func(*testing.B) func([]FloorRow) error) {
	ctx := context.Background()
	perEvent := floorPerEvent(b, size, parallel, floor(b))

	s := open(b)
	b.Cleanup(func() { s.Close() })
	commit := func(bt *store.Batch) error { return s.Commit(ctx, bt) }
	ev := NewEvents()
	start := time.Now()
	timed(b, false, ev, Pool/500, 500, 1, commit)
	b.Logf("pool of %d customers written in %v", Pool, time.Since(start).Round(time.Millisecond))

	b.ResetTimer()
	b.StopTimer()
	el, cpu := timed(b, true, ev, b.N, size, parallel, commit)
	events := float64(b.N * size)
	b.ReportMetric(events/el.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/el.Seconds(), "commits/s")
	b.ReportMetric(perEvent.Seconds()*1e6, "floor-µs/event")
	b.ReportMetric(el.Seconds()/events/perEvent.Seconds(), "x-floor")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
}

// floorPerEvent times the floor: each batch's events encoded and handed to
// write, one writer at a time, as in a store.
func floorPerEvent(b *testing.B, size, parallel int, write func([]FloorRow) error) time.Duration {
	b.Helper()
	var mu sync.Mutex
	commit := func(bt *store.Batch) error {
		rows := make([]FloorRow, 0, len(bt.Customers))
		for _, cw := range bt.Customers {
			st, err := json.Marshal(cw.State)
			if err != nil {
				return err
			}
			sd, err := json.Marshal(cw.Results[0].Sends[0])
			if err != nil {
				return err
			}
			rows = append(rows, FloorRow{Customer: cw.State.ID, State: st, Send: sd})
		}
		mu.Lock()
		defer mu.Unlock()
		return write(rows)
	}
	ev := NewEvents()
	ev.SkipPool() // the pool is a store's matter
	n := max(20, 10000/size)
	el, _ := timed(b, false, ev, n, size, parallel, commit)
	return el / time.Duration(n*size)
}

// timed commits n batches of size made by ev with parallel committers and
// returns the wall and process CPU time of the commits alone (making the
// batches is the engine's work, not the store's); with timer, b's timer
// runs during the commits only.
func timed(b *testing.B, timer bool, ev *Events, n, size, parallel int, commit func(*store.Batch) error) (wall, cpu time.Duration) {
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

// commitAll commits the batches from ch with parallel committers.
func commitAll(parallel int, ch chan *store.Batch, commit func(*store.Batch) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for range parallel {
		wg.Go(func() {
			for bt := range ch {
				if err := commit(bt); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
