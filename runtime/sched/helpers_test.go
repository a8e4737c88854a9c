package sched_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// reminder waits `after` in its first stage, then sends and ends.
func reminder(after string) string {
	return `
channel "log" {
  type = "log"
}
journey "remind" {
  reentry = "always"
  entry "signup" {}
  stage "wait" {
    on "cancel" { goto = end }
    after "` + after + `" { goto = stage.remind }
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
}

func newEngine(t testing.TB, src string) *engine.Engine {
	t.Helper()
	ws, diags := lang.Parse(".", []lang.SourceFile{{Path: "x.journey.hcl", Src: []byte(src)}})
	res, more := compiler.Check(ws, compiler.Options{})
	diags = append(diags, more...)
	if diags.HasErrors() || res.Program == nil {
		var b strings.Builder
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				b.WriteString("\n  " + d.Error())
			}
		}
		t.Fatalf("workspace does not compile:%s", b.String())
	}
	e, err := engine.New(res.Program, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// clock is a test clock the worker and the scheduler share.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a worker and a scheduler on one store, as `waymark run` wires
// them.
type harness struct {
	w    *worker.Worker
	s    *sched.Scheduler
	stop func()
}

type setup struct {
	wopts  worker.Options
	sopts  sched.Options
	hints  bool // wire the worker's OnCommit to the scheduler
	submit func(next sched.Submit) sched.Submit
}

func start(t testing.TB, st store.Store, eng *engine.Engine, cfg setup) *harness {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	if cfg.wopts.Logger == nil {
		cfg.wopts.Logger = quiet
	}
	if cfg.sopts.Logger == nil {
		cfg.sopts.Logger = quiet
	}
	var s *sched.Scheduler
	if cfg.hints {
		cfg.wopts.OnCommit = func(b *store.Batch) { s.OnCommit(b) }
	}
	w := worker.New(st, eng, cfg.wopts)
	sub := sched.Submit(w.Submit)
	if cfg.submit != nil {
		sub = cfg.submit(sub)
	}
	s = sched.New(st, sub, cfg.sopts)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			t.Errorf("sched: %v", err)
		}
	})
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return &harness{w: w, s: s, stop: stop}
}

func signup(id string) worker.Item {
	return worker.Item{CustomerID: id, Input: engine.Input{Kind: engine.KindEvent, Event: "signup", MessageID: "signup-" + id}}
}

// eventually polls cond every 5ms for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dueLog wraps a store to record every Due call.
type dueLog struct {
	store.Store
	mu    sync.Mutex
	calls []dueCall
}

type dueCall struct{ limit, rows int }

func (d *dueLog) Due(ctx context.Context, until time.Time, limit int) ([]store.Wake, error) {
	rows, err := d.Store.Due(ctx, until, limit)
	d.mu.Lock()
	d.calls = append(d.calls, dueCall{limit, len(rows)})
	d.mu.Unlock()
	return rows, err
}

func (d *dueLog) maxRows() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := 0
	for _, c := range d.calls {
		m = max(m, c.rows)
	}
	return m
}
