package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/store"
)

// DrainBacklog is the backlog RunOutboxDrainBench drains (DrainBacklogShort
// with -short).
const (
	DrainBacklog      = 100_000
	DrainBacklogShort = 5_000
)

// RunOutboxDrainBench is every store's BenchmarkOutboxDrain: a backlog of
// sends waiting for delivery (DrainBacklog, each from Write) drained the
// way the dispatcher drains it: claims of up to drainWorkers items, each
// item settled as Delivered by a worker of its own, the next claim once
// they are all settled. It reports items/s over the first and the last
// tenth of the drain, and end/start, their ratio: a store whose claims get
// slower as the backlog empties (a scan over what earlier claims deleted)
// shows it there, well under 1. The drain is timed once per op; run it
// with -benchtime 1x (make bench does).
func RunOutboxDrainBench(b *testing.B, open func(b *testing.B) store.Store) {
	n := DrainBacklog
	if testing.Short() {
		n = DrainBacklogShort
	}
	ctx := context.Background()
	var start, end, total float64
	for range b.N {
		b.StopTimer()
		s := open(b)
		fill(b, s, n)
		b.StartTimer()
		st, en, all := drain(b, ctx, s, n)
		b.StopTimer()
		start, end, total = start+st, end+en, total+all
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(start/float64(b.N), "start-items/s")
	b.ReportMetric(end/float64(b.N), "end-items/s")
	b.ReportMetric(total/float64(b.N), "items/s")
	b.ReportMetric(end/start, "end/start")
}

// drainWorkers is the dispatcher's default number of deliveries at once.
const drainWorkers = 8

// fill commits n customers, each with one send to deliver, due a
// millisecond apart from T0.
func fill(b *testing.B, s store.Store, n int) {
	for i := 0; i < n; {
		bt := &store.Batch{}
		for ; i < n && len(bt.Customers) < 500; i++ {
			bt.Customers = append(bt.Customers, Write(fmt.Sprintf("d%07d", i), 1, T0.Add(time.Duration(i)*time.Millisecond)))
		}
		if err := s.Commit(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
}

// drain empties the outbox and returns items/s over the first tenth, the
// last tenth and the whole.
func drain(b *testing.B, ctx context.Context, s store.Store, n int) (start, end, all float64) {
	now := T0.Add(time.Duration(n)*time.Millisecond + time.Hour)
	tenth := n / 10
	var (
		done      int
		t0        = time.Now()
		tStart    time.Duration // when the first tenth was done
		tEndBegin time.Duration // when the last tenth began
	)
	for done < n {
		items, err := s.ClaimOutbox(ctx, now, time.Hour, drainWorkers)
		if err != nil {
			b.Fatal(err)
		}
		if len(items) == 0 {
			b.Fatalf("the outbox ran dry after %d of %d items", done, n)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(items))
		for _, it := range items {
			wg.Go(func() {
				if err := s.Delivered(ctx, it.Send.Key, now); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		before := done
		done += len(items)
		el := time.Since(t0)
		if before < tenth && done >= tenth {
			tStart = el
		}
		if before < n-tenth && done >= n-tenth {
			tEndBegin = el
		}
	}
	total := time.Since(t0)
	if left, err := s.ClaimOutbox(ctx, now, time.Hour, 1); err != nil || len(left) != 0 {
		b.Fatalf("after the drain: %d items left, %v", len(left), err)
	}
	return float64(tenth) / tStart.Seconds(), float64(tenth) / (total - tEndBegin).Seconds(), float64(n) / total.Seconds()
}
