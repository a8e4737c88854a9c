package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/waymark-dev/waymark/compiler"
	"github.com/waymark-dev/waymark/lang"
	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// onboarding is the journey most tests run: "signup" enters it and sends
// hello, "done" ends it, and after an hour it nudges and ends. Re-entry is
// always allowed so that a customer can go round again.
const onboarding = `
channel "log" {
  type = "log"
}
journey "onboarding" {
  reentry = "always"
  entry "signup" {}
  stage "welcome" {
    send "hello" {
      channel = channel.log
      data    = { id = customer.id }
    }
    on "done" { goto = end }
    after "1h" { goto = stage.nudge }
  }
  stage "nudge" {
    send "nudge" {
      channel = channel.log
      data    = { id = customer.id }
    }
    goto = end
  }
}
`

// newEngine compiles src with the real compiler and builds an engine.
func newEngine(t testing.TB, src string, opts engine.Options) *engine.Engine {
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
	e, err := engine.New(res.Program, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs a worker until the test ends.
func start(t testing.TB, st store.Store, eng *engine.Engine, opts worker.Options, hooks ...func(*worker.Worker)) *worker.Worker {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := worker.New(st, eng, opts)
	for _, h := range hooks {
		h(w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return w
}

func event(customer, name, msg string) worker.Item {
	return worker.Item{CustomerID: customer, Input: engine.Input{Kind: engine.KindEvent, Event: name, MessageID: msg}}
}

func submit(t testing.TB, w *worker.Worker, items ...worker.Item) {
	t.Helper()
	if err := w.Submit(context.Background(), items); err != nil {
		t.Fatalf("Submit: %v", err)
	}
}

// async runs Submit on its own goroutine; the channel gets its error.
func async(w *worker.Worker, items ...worker.Item) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- w.Submit(context.Background(), items) }()
	return ch
}

func wait(t testing.TB, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Submit did not return within 10s")
		return nil
	}
}

// transitions renders a customer's committed transitions as "from>to".
func transitions(t testing.TB, st store.Store, id string) string {
	t.Helper()
	ts, err := st.Transitions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, tr := range ts {
		parts = append(parts, tr.From+">"+tr.To)
	}
	return strings.Join(parts, " ")
}

var errBoom = errors.New("boom: disk full")

// gate makes a store's commits wait: each Commit announces itself on entered
// and then waits for a value on release (nil: go on, else fail with it).
type gate struct {
	entered chan int
	release chan error
	mu      sync.Mutex
	n       int
	hold    func(n int) bool // which commits (1-based) are held; nil: all
}

func newGate(hold func(n int) bool) *gate {
	return &gate{entered: make(chan int, 100), release: make(chan error, 100), hold: hold}
}

func (g *gate) before(*store.Batch) error {
	g.mu.Lock()
	g.n++
	n := g.n
	g.mu.Unlock()
	if g.hold != nil && !g.hold(n) {
		return nil
	}
	g.entered <- n
	return <-g.release
}

func (g *gate) waitEntered(t testing.TB) int {
	t.Helper()
	select {
	case n := <-g.entered:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no commit started within 10s")
		return 0
	}
}

// eventually waits up to 10s for cond.
func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// dedupKeys is how the worker commits message ids (store.DedupKey).
func dedupKeys(ids ...string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, store.DedupKey(id))
	}
	return out
}
