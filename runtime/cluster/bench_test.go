package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/heap"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/postgres"
	"github.com/waymark-dev/waymark/runtime/store/postgres/pgtest"
	"github.com/waymark-dev/waymark/runtime/worker"
)

const reminderJourney = `
channel "log" {
  type = "log"
}
event "signup" {}
journey "remind" {
  reentry = "always"
  entry "signup" {}
  stage "wait" {
    after "1h" { goto = stage.remind }
  }
  stage "remind" {
    send "r" {
      channel = channel.log
      data    = { id = customer.id }
    }
    goto = end
  }
}
`

func benchEngine(b *testing.B) *engine.Engine {
	b.Helper()
	ws, diags := lang.Parse(".", []lang.SourceFile{{Path: "r.journey.hcl", Src: []byte(reminderJourney)}})
	res, more := compiler.Check(ws, compiler.Options{})
	if diags = append(diags, more...); diags.HasErrors() || res.Program == nil {
		b.Fatalf("the benchmark's journey does not compile: %v", diags.Error())
	}
	eng, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkTimerLag measures, on a cluster of two nodes (in this process)
// on one PostgreSQL with fsync on, how late timers fire when a burst of
// 10,000 falls due at one instant while the database holds 1,000,000
// pending waits (WAYMARK_BENCH_PENDING to change it), spread over all
// shards. Each node's scheduler reads the due-time index of its own shards
// (read-ahead into memory, as on one node) and its worker commits the
// wakes, fenced. Lag is, per wake, the time its commit returned minus its
// due time. The target is a p99 under 1s.
//
//	go test ./runtime/cluster -run '^$' -bench TimerLag -benchtime 1x -timeout 30m
func BenchmarkTimerLag(b *testing.B) {
	pending := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("WAYMARK_BENCH_PENDING")); err == nil && v >= 20_000 {
		pending = v
	}
	const burst = 10_000
	srv, err := pgtest.Start(pgtest.Options{Durable: true, Settings: pgtest.StatementSettings()})
	if err != nil {
		pgtest.Missing(b, err)
	}
	defer srv.Stop()
	// The collector paced as `waymark run` paces it.
	_, restore := heap.PaceWhile()
	defer restore()
	ctx := context.Background()
	eng := benchEngine(b)
	var lags []time.Duration
	var pgCPU, goCPU float64 // seconds, over the bursts
	for range b.N {
		b.StopTimer()
		dsn, err := srv.CreateDB(ctx)
		if err != nil {
			b.Fatal(err)
		}
		setup := time.Now()
		fillPending(b, dsn, eng, pending-burst)
		b.Logf("%d pending waits written in %v", pending-burst, time.Since(setup).Round(time.Millisecond))
		// The burst: due in 15s, by when both nodes run.
		due := time.Now().UTC().Add(15 * time.Second).Truncate(time.Second)
		st0, err := postgres.Open(dsn)
		if err != nil {
			b.Fatal(err)
		}
		inBurst := map[string]bool{}
		var sb store.Batch
		for i := range burst {
			c := &engine.Customer{ID: fmt.Sprintf("burst-%05d", i)}
			res := eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "signup"}, due.Add(-time.Hour))
			sb.Customers = append(sb.Customers, store.CustomerWrite{State: c, NextWake: c.NextWake(), Results: []engine.Result{res}})
			inBurst[c.ID] = true
			if len(sb.Customers) == 2000 {
				if err := st0.Commit(ctx, &sb); err != nil {
					b.Fatal(err)
				}
				sb.Customers = sb.Customers[:0]
			}
		}
		st0.Close()

		var mu sync.Mutex
		var got []time.Duration
		var timeline []string // WAYMARK_BENCH_TIMELINE: each commit of the burst
		done := make(chan struct{})
		var stops []func()
		for k := range 2 {
			st, err := postgres.Open(dsn)
			if err != nil {
				b.Fatal(err)
			}
			n, err := New(ctx, st, Options{ID: fmt.Sprintf("timer-%d", k), Tick: 200 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			var sch *sched.Scheduler
			w := worker.New(st, eng, worker.Options{Ownership: n.Ownership, Pipeline: true, OnCommit: func(bt *store.Batch) {
				now := time.Now()
				sch.OnCommit(bt)
				mu.Lock()
				defer mu.Unlock()
				before := len(got)
				for _, cw := range bt.Customers {
					if inBurst[cw.State.ID] {
						got = append(got, now.Sub(due))
						if len(got) == burst {
							close(done)
						}
					}
				}
				if len(got) > before && os.Getenv("WAYMARK_BENCH_TIMELINE") != "" {
					timeline = append(timeline, fmt.Sprintf("node %d: +%v %d wakes", k, now.Sub(due).Round(time.Millisecond), len(got)-before))
				}
			}})
			sch = sched.New(st, func(ctx context.Context, items []worker.Item) error {
				if items = n.OwnedItems(items); len(items) == 0 {
					return nil
				}
				return w.Submit(ctx, items)
			}, sched.Options{})
			rctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(func() { n.Run(rctx) })
			wg.Go(func() { w.Run(rctx) })
			wg.Go(func() { sch.Run(rctx) })
			stops = append(stops, func() { cancel(); wg.Wait(); st.Close() })
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		time.Sleep(time.Until(due))
		statements := pgtest.Statements(b, conn, "wake")
		pg0, pgErr := srv.CPU()
		go0 := pgtest.SelfCPU()
		select {
		case <-done:
		case <-time.After(due.Sub(time.Now()) + 2*time.Minute):
			b.Fatalf("%d of %d wakes committed two minutes after their due time", len(got), burst)
		}
		b.StopTimer()
		if pg1, err := srv.CPU(); err == nil && pgErr == nil {
			pgCPU += pg1 - pg0
		}
		goCPU += pgtest.SelfCPU() - go0
		statements(burst)
		conn.Close(ctx)
		for _, line := range timeline {
			b.Log(line)
		}
		for _, stop := range stops {
			stop()
		}
		lags = append(lags, got...)
	}
	slices.Sort(lags)
	q := func(p float64) float64 {
		return float64(lags[min(len(lags)-1, int(p*float64(len(lags))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "lag-p50-ms")
	b.ReportMetric(q(0.99), "lag-p99-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "lag-max-ms")
	b.ReportMetric(float64(pending), "pending")
	// Where the CPU went from the due time to the last commit (the Go side
	// is this process: both nodes).
	b.ReportMetric(pgCPU*1e6/float64(b.N*burst), "pg-cpu-µs/wake")
	b.ReportMetric(goCPU*1e6/float64(b.N*burst), "go-cpu-µs/wake")
	b.ReportMetric(0, "ns/op")
}

// fillPending writes n customers waiting days ahead straight into the
// customers table with CopyFrom (the same state, stepped once, under each
// id): the index the schedulers read, at the size the target names.
func fillPending(b *testing.B, dsn string, eng *engine.Engine, n int) {
	b.Helper()
	ctx := context.Background()
	st, err := postgres.Open(dsn) // the schema
	if err != nil {
		b.Fatal(err)
	}
	shards := st.Shards()
	st.Close()
	const tmpl = "later-0000000"
	c := &engine.Customer{ID: tmpl}
	base := time.Now().UTC().Add(24 * time.Hour)
	eng.Step(c, engine.Input{Kind: engine.KindEvent, Event: "signup"}, base)
	state, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	spread := 29 * 24 * time.Hour / time.Duration(max(n, 1))
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"customers"}, []string{"id", "shard", "state", "next_wake", "active_sig"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			id := fmt.Sprintf("later-%07d", i)
			row := []any{id, postgres.ShardOf(id, shards), bytes.Replace(state, []byte(tmpl), []byte(id), 1), base.Add(time.Duration(i) * spread), int64(0)}
			i++
			return row, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE customers"); err != nil {
		b.Fatal(err)
	}
}
