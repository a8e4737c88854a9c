package worker_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
	"github.com/waymark-dev/waymark/runtime/worker/workertest"
)

// The worker benchmarks push events through a Worker from many concurrent
// submitters, the way ingest does, and report events/s. Each also measures,
// in the same run and on the same store, the baseline: calling store.Commit
// directly, one caller, with ready-made batches of the same size and shape
// as the worker's (the same states and results), so x-commit-only is the
// share of the store's own speed that the worker keeps after loading,
// deduplicating, stepping the engine and waiting for batches to fill.
//
//	go test ./runtime/worker -run '^$' -bench Worker -benchtime 3x
//
// One op is benchEvents events over benchCustomers customers: "signup"
// (enters onboarding: a transition, a send to the outbox, a timer) and
// "done" (ends it: a transition) in turn, each with a message id.
const (
	benchEvents     = 20000
	benchCustomers  = 10000
	benchSubmitters = 64
)

type benchStore struct {
	name string
	open func(b *testing.B) store.Store
}

var benchStores = []benchStore{
	{"fake", func(b *testing.B) store.Store { return workertest.NewStore() }},
	{"fake-fsync2ms", func(b *testing.B) store.Store {
		st := workertest.NewStore()
		st.CommitDelay = 2 * time.Millisecond
		return st
	}},
	{"sqlite", func(b *testing.B) store.Store {
		st, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}},
}

func BenchmarkWorker(b *testing.B) {
	for _, bs := range benchStores {
		for _, m := range modes {
			for _, per := range []int{1, 20} {
				b.Run(fmt.Sprintf("store=%s/%s/items-per-submit=%d", bs.name, m.name, per), func(b *testing.B) {
					benchWorker(b, bs.open(b), worker.Options{Pipeline: m.pipeline}, per)
				})
			}
		}
	}
}

func benchWorker(b *testing.B, st store.Store, opts worker.Options, perSubmit int) {
	eng := newEngine(b, onboarding, engine.Options{})
	opts.Logger = slog.New(slog.DiscardHandler)
	w := worker.New(st, eng, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	ids := make([]string, benchCustomers)
	for i := range ids {
		ids[i] = fmt.Sprintf("c-%06d", i)
	}
	var next atomic.Int64 // the global event number
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		end := next.Load() + benchEvents
		var wg sync.WaitGroup
		for range benchSubmitters {
			wg.Go(func() {
				items := make([]worker.Item, 0, perSubmit)
				for {
					k := next.Add(int64(perSubmit)) - int64(perSubmit)
					if k >= end {
						return
					}
					items = items[:0]
					for j := k; j < min(k+int64(perSubmit), end); j++ {
						ev := "signup"
						if (j/benchCustomers)%2 == 1 {
							ev = "done"
						}
						items = append(items, event(ids[j%benchCustomers], ev, fmt.Sprintf("m-%d", j)))
					}
					if err := w.Submit(context.Background(), items); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		next.Store(end)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	s := w.Stats()
	events := float64(b.N * benchEvents)
	avg := int(s.Inputs / max(s.Batches, 1))
	workerRate := events / elapsed.Seconds()
	baseRate := commitOnly(b, st, eng, b.N*benchEvents, avg)
	b.ReportMetric(workerRate, "events/s")
	b.ReportMetric(baseRate, "commit-only-events/s")
	b.ReportMetric(workerRate/baseRate, "x-commit-only")
	b.ReportMetric(float64(avg), "inputs/batch")
	b.ReportMetric(1000*s.Commit.Sum/float64(max(s.Commit.Count, 1)), "commit-ms")
	b.ReportMetric(0, "ns/op") // one op is a whole run: the per-op time says nothing
}

// commitOnly measures store.Commit alone on total events in batches of size
// batch, with the states and results the worker would write, and returns
// events/s. The batches are built before the clock starts.
func commitOnly(b *testing.B, st store.Store, eng *engine.Engine, total, batch int) float64 {
	b.Helper()
	batch = max(batch, 1)
	now := time.Now().UTC()
	// Two writes per customer, as the worker alternates them: after
	// "signup" and after "done".
	type pair struct{ in, out store.CustomerWrite }
	pairs := make([]pair, benchCustomers)
	for i := range pairs {
		c := &engine.Customer{ID: fmt.Sprintf("base-%06d", i)}
		r1 := eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "signup"}, now)
		s1 := worker.CloneCustomer(c)
		r2 := eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "done"}, now)
		pairs[i] = pair{
			store.CustomerWrite{State: s1, NextWake: s1.NextWake(), Results: []engine.Result{r1}},
			store.CustomerWrite{State: c, NextWake: c.NextWake(), Results: []engine.Result{r2}},
		}
	}
	var batches []*store.Batch
	for k := 0; k < total; k += batch {
		sb := &store.Batch{}
		for j := k; j < min(k+batch, total); j++ {
			cw := pairs[j%benchCustomers].in
			if (j/benchCustomers)%2 == 1 {
				cw = pairs[j%benchCustomers].out
			}
			cw.MessageIDs = []string{fmt.Sprintf("base-m-%d-%d", now.UnixNano(), j)}
			sb.Customers = append(sb.Customers, cw)
		}
		batches = append(batches, sb)
	}
	start := time.Now()
	for _, sb := range batches {
		if err := st.Commit(context.Background(), sb); err != nil {
			b.Fatal(err)
		}
	}
	return float64(total) / time.Since(start).Seconds()
}
