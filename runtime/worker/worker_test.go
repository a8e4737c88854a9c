package worker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/worker"
	"github.com/waymark-dev/waymark/runtime/worker/workertest"
)

// modes runs a test with and without pipelining: both must keep every
// promise.
var modes = []struct {
	name     string
	pipeline bool
}{{"pipelined", true}, {"serial", false}}

// TestGroupCommit: Submits that arrive while a commit runs share the next
// commit (up to MaxBatch inputs); on an idle store a Submit goes at once.
func TestGroupCommit(t *testing.T) {
	tests := []struct {
		name    string
		submits int
		opts    worker.Options
		commits []int // customers per commit after the blocker's
	}{
		{"100 queued, MaxBatch 100: one commit", 100, worker.Options{MaxBatch: 100, FlushInterval: time.Hour}, []int{100}},
		{"100 queued, MaxBatch 25: four commits", 100, worker.Options{MaxBatch: 25, FlushInterval: time.Hour}, []int{25, 25, 25, 25}},
		{"100 queued, MaxBatch 500: one commit", 100, worker.Options{FlushInterval: time.Hour}, []int{100}},
	}
	for _, m := range modes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				st := workertest.NewStore()
				g := newGate(func(n int) bool { return n == 1 })
				st.BeforeCommit = g.before
				opts := tc.opts
				opts.Pipeline = m.pipeline
				w := start(t, st, newEngine(t, onboarding, engine.Options{}), opts)
				blocker := async(w, event("blocker", "signup", "blocker"))
				g.waitEntered(t)

				var wg sync.WaitGroup
				errs := make(chan error, tc.submits)
				for i := range tc.submits {
					wg.Go(func() {
						errs <- w.Submit(context.Background(), []worker.Item{event(fmt.Sprintf("c-%d", i), "signup", fmt.Sprintf("m-%d", i))})
					})
				}
				eventually(t, func() bool { return w.Stats().Submits == uint64(1+tc.submits) })
				g.release <- nil
				if err := wait(t, blocker); err != nil {
					t.Fatal(err)
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				if got := st.Commits()[1:]; !slices.Equal(got, tc.commits) {
					t.Errorf("commits after the blocker's: %v, want %v", got, tc.commits)
				}
				for i := range tc.submits {
					if got := transitions(t, st, fmt.Sprintf("c-%d", i)); got != ">welcome" {
						t.Fatalf("c-%d transitions %q, want entry into welcome", i, got)
					}
				}
				s := w.Stats()
				if s.Inputs != uint64(1+tc.submits) || s.Customers != uint64(1+tc.submits) || s.Batches != uint64(1+len(tc.commits)) {
					t.Errorf("stats %+v", s)
				}
				if s.Commit.Count != uint64(1+len(tc.commits)) {
					t.Errorf("commit histogram count %d, want %d", s.Commit.Count, 1+len(tc.commits))
				}
			})
		}
	}
	for _, m := range modes {
		t.Run(m.name+"/idle store: no waiting", func(t *testing.T) {
			st := workertest.NewStore()
			w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{FlushInterval: time.Hour, Pipeline: m.pipeline})
			begin := time.Now()
			submit(t, w, event("a", "signup", "1"))
			if took := time.Since(begin); took > time.Second {
				t.Errorf("a lone Submit on an idle store took %v", took)
			}
		})
	}
}

// TestFlushInterval: with Pipeline, a batch waits at most FlushInterval for
// more inputs while the previous commit runs, then is prepared anyway.
func TestFlushInterval(t *testing.T) {
	st := workertest.NewStore()
	g := newGate(func(n int) bool { return n == 1 })
	st.BeforeCommit = g.before
	var mu sync.Mutex
	var prepared []time.Time
	w := start(t, st, newEngine(t, onboarding, engine.Options{}),
		worker.Options{FlushInterval: 100 * time.Millisecond, Pipeline: true},
		func(w *worker.Worker) {
			worker.SetPrepared(w, func() {
				mu.Lock()
				prepared = append(prepared, time.Now())
				mu.Unlock()
			})
		})
	blocker := async(w, event("blocker", "signup", "blocker"))
	g.waitEntered(t)
	begin := time.Now()
	second := async(w, event("a", "signup", "1"))
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(prepared) == 2 })
	mu.Lock()
	waited := prepared[1].Sub(begin)
	mu.Unlock()
	if waited < 90*time.Millisecond || waited > 2*time.Second {
		t.Errorf("the second batch was prepared %v after its Submit, want about the 100ms interval", waited)
	}
	g.release <- nil
	for _, ch := range []<-chan error{blocker, second} {
		if err := wait(t, ch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOrderPerCustomer: concurrent submitters, each with its own customer and
// four shared ones. Every submitter's inputs reach each customer in the order
// it submitted them, within a Submit and across its Submits.
func TestOrderPerCustomer(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			st := workertest.NewStore()
			// A commit that takes as long as a fast fsync, so that Submits
			// queue behind it and batches really mix submitters: with an
			// instant store, one commit per Submit is a legitimate schedule,
			// and the order would go untested across batches.
			st.CommitDelay = 200 * time.Microsecond
			w := start(t, st, newEngine(t, onboarding, engine.Options{DedupWindow: -1}),
				worker.Options{MaxBatch: 64, FlushInterval: time.Millisecond, Pipeline: m.pipeline})
			const goroutines, rounds = 8, 60
			shared := []string{"s-0", "s-1", "s-2", "s-3"}
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					own := fmt.Sprintf("p-%d", g)
					for k := 1; k <= rounds; k++ {
						items := []worker.Item{
							{CustomerID: own, Input: engine.Input{Kind: engine.KindIdentify, Traits: map[string]any{"seq": k}, MessageID: fmt.Sprintf("%d/%d/a", g, k)}},
							// Two inputs for one customer in one Submit: in order.
							{CustomerID: own, Input: engine.Input{Kind: engine.KindIdentify, Traits: map[string]any{"half": k}, MessageID: fmt.Sprintf("%d/%d/b", g, k)}},
							event(shared[k%len(shared)], "signup", fmt.Sprintf("%d/%d/s", g, k)),
						}
						if err := w.Submit(context.Background(), items); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			for g := range goroutines {
				own := fmt.Sprintf("p-%d", g)
				var want []string
				for k := 1; k <= rounds; k++ {
					want = append(want, fmt.Sprintf("%d/%d/a", g, k), fmt.Sprintf("%d/%d/b", g, k))
				}
				if got := st.Messages(own); !slices.Equal(got, dedupKeys(want...)) {
					t.Fatalf("%s got messages in order %v", own, got)
				}
				c, err := st.Customer(context.Background(), own)
				if err != nil {
					t.Fatal(err)
				}
				if c.Traits["seq"] != float64(rounds) || c.Traits["half"] != float64(rounds) {
					t.Errorf("%s traits %v: the engine did not see the last input last", own, c.Traits)
				}
			}
			raw := map[string]string{} // the ids behind the committed dedup keys
			for g := range goroutines {
				for k := 0; k <= rounds; k++ {
					id := fmt.Sprintf("%d/%d/s", g, k)
					raw[store.DedupKey(id)] = id
				}
			}
			for _, s := range shared {
				last := map[string]int{}
				for _, key := range st.Messages(s) {
					msg := raw[key]
					var g, k int
					fmt.Sscanf(msg, "%d/%d/s", &g, &k)
					if k <= last[fmt.Sprint(g)] {
						t.Fatalf("%s: %s after round %d of the same submitter", s, msg, last[fmt.Sprint(g)])
					}
					last[fmt.Sprint(g)] = k
				}
			}
			if n := len(st.Commits()); n >= goroutines*rounds {
				t.Errorf("%d commits for %d Submits: no grouping", n, goroutines*rounds)
			}
		})
	}
}

func TestSubmitReturnsAfterCommit(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			st := workertest.NewStore()
			g := newGate(nil)
			st.BeforeCommit = g.before
			w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{Pipeline: m.pipeline})
			done := async(w, event("c-1", "signup", "m-1"))
			g.waitEntered(t)
			select {
			case err := <-done:
				t.Fatalf("Submit returned %v while its commit was still running", err)
			case <-time.After(50 * time.Millisecond):
			}
			if msgs := st.Messages("c-1"); len(msgs) != 0 {
				t.Fatalf("committed before release: %v", msgs)
			}
			g.release <- nil
			if err := wait(t, done); err != nil {
				t.Fatal(err)
			}
			// Durable the moment Submit returns.
			if msgs := st.Messages("c-1"); !slices.Equal(msgs, dedupKeys("m-1")) {
				t.Fatalf("after Submit returned, store holds %v", msgs)
			}
		})
	}
}

// TestFailedCommit: a failing Commit fails every Submit in the batch, nothing
// is acknowledged or written, and the retry starts from the committed state
// (the cache did not keep the failed batch's states).
func TestFailedCommit(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			st := workertest.NewStore()
			var failing atomic.Bool
			g := newGate(func(n int) bool { return n == 2 })
			st.BeforeCommit = func(b *store.Batch) error {
				if err := g.before(b); err != nil {
					return err
				}
				if failing.Load() && b.Customers[0].State.ID != "blocker" {
					return errBoom
				}
				return nil
			}
			w := start(t, st, newEngine(t, onboarding, engine.Options{}),
				worker.Options{MaxBatch: 10, FlushInterval: time.Hour, Pipeline: m.pipeline})

			// Ten customers already in the journey (and in the cache).
			var items []worker.Item
			for i := range 10 {
				items = append(items, event(fmt.Sprintf("c-%d", i), "signup", fmt.Sprintf("in-%d", i)))
			}
			submit(t, w, items...)

			// Their "done" events queue behind a slow commit, then fail together.
			blocker := async(w, event("blocker", "signup", "blocker"))
			g.waitEntered(t)
			failing.Store(true)
			var chans []<-chan error
			for i := range 10 {
				chans = append(chans, async(w, event(fmt.Sprintf("c-%d", i), "done", fmt.Sprintf("done-%d", i))))
			}
			eventually(t, func() bool { return w.Stats().Submits == 12 })
			g.release <- nil
			if err := wait(t, blocker); err != nil {
				t.Fatal(err)
			}
			for _, ch := range chans {
				if err := wait(t, ch); !errors.Is(err, errBoom) {
					t.Fatalf("Submit = %v, want the commit's error", err)
				}
			}
			if got := st.Commits(); len(got) != 2 {
				t.Fatalf("commits %v: the failed one wrote something", got)
			}
			for i := range 10 {
				id := fmt.Sprintf("c-%d", i)
				if got := transitions(t, st, id); got != ">welcome" {
					t.Fatalf("%s transitions %q after the failed commit", id, got)
				}
			}
			s := w.Stats()
			if s.Failed != 10 || s.Errors != 1 {
				t.Errorf("stats failed=%d errors=%d, want 10 and 1", s.Failed, s.Errors)
			}

			// The clients retry: each customer leaves the journey exactly once.
			failing.Store(false)
			chans = chans[:0]
			for i := range 10 {
				chans = append(chans, async(w, event(fmt.Sprintf("c-%d", i), "done", fmt.Sprintf("done-%d", i))))
			}
			for _, ch := range chans {
				if err := wait(t, ch); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 10 {
				id := fmt.Sprintf("c-%d", i)
				if got := transitions(t, st, id); got != ">welcome welcome>end" {
					t.Fatalf("%s transitions %q after the retry (a stale cached state would make it a duplicate)", id, got)
				}
			}
		})
	}
}

func TestDedup(t *testing.T) {
	tests := []struct {
		name    string
		before  [][]worker.Item // committed first, one Submit each, by one worker
		restart bool            // then a new worker (empty cache) on the same store
		submit  []worker.Item   // then this Submit
		want    map[string][]string
		dups    uint64
	}{
		{
			name:   "already committed",
			before: [][]worker.Item{{event("a", "signup", "m1")}},
			submit: []worker.Item{event("a", "signup", "m1")},
			want:   map[string][]string{"a": {"m1"}},
			dups:   1,
		},
		{
			name:    "already committed, after a restart",
			before:  [][]worker.Item{{event("a", "signup", "m1")}},
			restart: true,
			submit:  []worker.Item{event("a", "signup", "m1"), event("a", "done", "m2")},
			want:    map[string][]string{"a": {"m1", "m2"}},
			dups:    1,
		},
		{
			name:   "committed for another customer",
			before: [][]worker.Item{{event("a", "signup", "m1")}},
			submit: []worker.Item{event("b", "signup", "m1")},
			want:   map[string][]string{"a": {"m1"}, "b": nil},
			dups:   1,
		},
		{
			name:   "twice in one batch",
			submit: []worker.Item{event("a", "signup", "m1"), event("b", "signup", "m1"), event("a", "done", "m1")},
			want:   map[string][]string{"a": {"m1"}, "b": nil},
			dups:   2,
		},
		{
			name:   "no message id: never a duplicate",
			submit: []worker.Item{event("a", "signup", ""), event("a", "done", "")},
			want:   map[string][]string{"a": nil},
			dups:   0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := workertest.NewStore()
			// The engine's own dedup window is off: this is the worker's.
			eng := newEngine(t, onboarding, engine.Options{DedupWindow: -1})
			w := start(t, st, eng, worker.Options{})
			for _, items := range tc.before {
				submit(t, w, items...)
			}
			if tc.restart {
				w = start(t, st, eng, worker.Options{})
			}
			before := w.Stats().Inputs
			submit(t, w, tc.submit...)
			for id, want := range tc.want {
				if got := st.Messages(id); !slices.Equal(got, dedupKeys(want...)) {
					t.Errorf("%s messages %v, want %v", id, got, want)
				}
			}
			s := w.Stats()
			if s.Duplicates != tc.dups {
				t.Errorf("duplicates %d, want %d", s.Duplicates, tc.dups)
			}
			if got := s.Inputs - before; got != uint64(len(tc.submit))-tc.dups {
				t.Errorf("inputs stepped %d, want %d", got, uint64(len(tc.submit))-tc.dups)
			}
		})
	}
	t.Run("no message id: both handled", func(t *testing.T) {
		st := workertest.NewStore()
		w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{})
		submit(t, w, event("a", "signup", ""), event("a", "done", ""))
		if got := transitions(t, st, "a"); got != ">welcome welcome>end" {
			t.Errorf("transitions %q", got)
		}
	})
}

const journeyA = `
channel "log" {
  type = "log"
}
journey "a" {
  entry "go" {}
  stage "s" {
    on "stop" { goto = end }
  }
}
`

const journeyB = `
channel "log" {
  type = "log"
}
journey "b" {
  entry "go" {}
  stage "s" {
    on "stop" { goto = end }
  }
}
`

func journeys(t *testing.T, st store.Store, id string) []string {
	t.Helper()
	c, err := st.Customer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var js []string
	for _, in := range c.Instances {
		if in.Active() {
			js = append(js, in.Journey)
		}
	}
	return js
}

// TestSwap: a batch runs on the engine it was prepared with; the next one on
// the engine swapped in.
func TestSwap(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			st := workertest.NewStore()
			g := newGate(func(n int) bool { return n == 2 })
			st.BeforeCommit = g.before
			a, b := newEngine(t, journeyA, engine.Options{}), newEngine(t, journeyB, engine.Options{})
			w := start(t, st, a, worker.Options{Pipeline: m.pipeline})

			submit(t, w, event("c1", "go", "1"))
			// The second batch is prepared on a, then held in its commit while
			// the engine changes.
			held := async(w, event("c2", "go", "2"))
			g.waitEntered(t)
			w.Swap(b)
			if w.Engine() != b {
				t.Fatal("Engine() does not return the swapped-in engine")
			}
			g.release <- nil
			if err := wait(t, held); err != nil {
				t.Fatal(err)
			}
			submit(t, w, event("c3", "go", "3"))
			for id, want := range map[string]string{"c1": "a", "c2": "a", "c3": "b"} {
				if got := journeys(t, st, id); !slices.Equal(got, []string{want}) {
					t.Errorf("%s is active in %v, want [%s]", id, got, want)
				}
			}
			// c1's next input runs on b: its instance of a (removed) ends and it enters b.
			submit(t, w, event("c1", "go", "4"))
			if got := journeys(t, st, "c1"); !slices.Equal(got, []string{"b"}) {
				t.Errorf("c1 after the swap is active in %v, want [b]", got)
			}
			if s := w.Stats(); s.Swaps != 1 {
				t.Errorf("swaps %d", s.Swaps)
			}
		})
	}
}

// TestPipelineDependency: a batch prepared while the previous commit runs,
// on a customer of that commit, fails when that commit fails; one on other
// customers does not. And the store never sees the later batch's changes in
// the earlier batch's state.
func TestPipelineDependency(t *testing.T) {
	tests := []struct {
		name       string
		first      error  // the first commit's outcome
		second     string // the customer of the second batch
		wantSecond string // "ok", "dependent" or "boom"
		after      map[string]string
	}{
		{"first fails, second on the same customer", errBoom, "x", "dependent",
			map[string]string{"x": ""}},
		{"first fails, second on another customer", errBoom, "y", "ok",
			map[string]string{"x": "", "y": ">welcome"}},
		{"first commits, second fails: the first's state is clean", nil, "x", "boom",
			map[string]string{"x": ">welcome"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := workertest.NewStore()
			g := newGate(nil)
			st.BeforeCommit = g.before
			prepared := make(chan struct{}, 10)
			w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{Pipeline: true},
				func(w *worker.Worker) {
					worker.SetPrepared(w, func() {
						select {
						case prepared <- struct{}{}:
						default:
						}
					})
				})

			first := async(w, event("x", "signup", "m1"))
			<-prepared
			g.waitEntered(t)
			secondEvent := "done"
			if tc.second != "x" {
				secondEvent = "signup"
			}
			second := async(w, event(tc.second, secondEvent, "m2"))
			<-prepared // the second batch is ready while the first still commits
			g.release <- tc.first
			if err := wait(t, first); !errors.Is(err, tc.first) {
				t.Fatalf("first Submit = %v, want %v", err, tc.first)
			}
			if tc.wantSecond != "dependent" {
				g.waitEntered(t)
				if tc.wantSecond == "boom" {
					g.release <- errBoom
				} else {
					g.release <- nil
				}
			}
			err := wait(t, second)
			var dep *worker.DependentError
			switch tc.wantSecond {
			case "ok":
				if err != nil {
					t.Fatalf("second Submit = %v", err)
				}
			case "dependent":
				if !errors.As(err, &dep) || !errors.Is(err, errBoom) {
					t.Fatalf("second Submit = %v, want a DependentError wrapping the first's", err)
				}
			case "boom":
				if !errors.Is(err, errBoom) || errors.As(err, &dep) {
					t.Fatalf("second Submit = %v, want its own commit's error", err)
				}
			}
			for id, want := range tc.after {
				if got := transitions(t, st, id); got != want {
					t.Errorf("%s transitions %q, want %q", id, got, want)
				}
			}
			if c, err := st.Customer(context.Background(), "x"); err == nil && slices.Contains(c.Seen, "m2") {
				t.Errorf("x's committed state holds the failed batch's message: %v", c.Seen)
			}

			// Retried, everything lands once, in order.
			go func() {
				for range g.entered {
					g.release <- nil
				}
			}()
			if tc.first != nil {
				submit(t, w, event("x", "signup", "m1"))
			}
			if tc.wantSecond != "ok" {
				submit(t, w, event(tc.second, secondEvent, "m2"))
			}
			want := ">welcome welcome>end"
			if tc.second != "x" {
				want = ">welcome"
			}
			if got := transitions(t, st, "x"); got != want {
				t.Errorf("x after the retries: %q, want %q", got, want)
			}
			close(g.entered)
		})
	}
}

// TestLoadError: a customer that cannot be loaded fails the Submits that
// touch it, and only those.
func TestLoadError(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			st := workertest.NewStore()
			st.LoadErr = func(id string) error {
				if id == "bad" {
					return errBoom
				}
				return nil
			}
			w := start(t, st, newEngine(t, onboarding, engine.Options{}),
				worker.Options{FlushInterval: 20 * time.Millisecond, Pipeline: m.pipeline})
			good := async(w, event("good", "signup", "1"))
			bad := async(w, event("bad", "signup", "2"))
			mixed := async(w, event("good2", "signup", "3"), event("bad", "done", "4"))
			if err := wait(t, good); err != nil {
				t.Errorf("good: %v", err)
			}
			for _, ch := range []<-chan error{bad, mixed} {
				if err := wait(t, ch); !errors.Is(err, errBoom) {
					t.Errorf("Submit touching bad = %v, want the load error", err)
				}
			}
			if got := transitions(t, st, "good"); got != ">welcome" {
				t.Errorf("good: %q", got)
			}
			if got := transitions(t, st, "good2"); got != "" {
				t.Errorf("good2 was committed although its Submit failed: %q", got)
			}
		})
	}
}

// TestEnginePanic: should the engine ever panic, the Submits of that customer
// fail and the writer goes on.
func TestEnginePanic(t *testing.T) {
	st := workertest.NewStore()
	eng := newEngine(t, onboarding, engine.Options{})
	w := start(t, st, eng, worker.Options{})
	w.Swap(nil) // Step on a nil engine panics
	if err := w.Submit(context.Background(), []worker.Item{event("a", "signup", "1"), event("b", "signup", "2")}); err == nil {
		t.Fatal("Submit succeeded on a panicking engine")
	}
	w.Swap(eng)
	submit(t, w, event("a", "signup", "1"))
	if got := transitions(t, st, "a"); got != ">welcome" {
		t.Errorf("a: %q", got)
	}
}

// TestShutdown: when Run's context ends, everything already submitted is
// committed; later Submits get ErrClosed.
func TestShutdown(t *testing.T) {
	st := workertest.NewStore()
	w := worker.New(st, newEngine(t, onboarding, engine.Options{}), worker.Options{FlushInterval: time.Hour, MaxBatch: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var chans []<-chan error
	for i := range 20 {
		chans = append(chans, async(w, event(fmt.Sprintf("c-%d", i), "signup", fmt.Sprint(i))))
	}
	// Every Submit enqueued (their goroutines may start late on a loaded
	// machine) and taken by the worker.
	for st := w.Stats(); st.Submits < 20 || st.Queued > 0; st = w.Stats() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // the last one taken is in the open batch
	cancel()
	for _, ch := range chans {
		if err := wait(t, ch); err != nil {
			t.Errorf("Submit during shutdown: %v", err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := w.Submit(context.Background(), []worker.Item{event("late", "signup", "x")}); !errors.Is(err, worker.ErrClosed) {
		t.Errorf("Submit after Run = %v, want ErrClosed", err)
	}
	if n := w.Stats().Inputs; n != 20 {
		t.Errorf("committed %d inputs, want 20", n)
	}
}

// TestAbandoned: a Submit whose context ends while it is queued returns at
// once, and its items are not committed behind its back.
func TestAbandoned(t *testing.T) {
	st := workertest.NewStore()
	g := newGate(func(n int) bool { return n == 1 })
	st.BeforeCommit = g.before
	w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{})
	first := async(w, event("a", "signup", "1"))
	g.waitEntered(t)
	ctx, cancel := context.WithCancel(context.Background())
	late := make(chan error, 1)
	go func() { late <- w.Submit(ctx, []worker.Item{event("b", "signup", "2")}) }()
	for w.Stats().Queued == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := wait(t, late); !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Submit = %v", err)
	}
	g.release <- nil
	if err := wait(t, first); err != nil {
		t.Fatal(err)
	}
	submit(t, w, event("c", "signup", "3")) // runs after b's batch would have
	if got := transitions(t, st, "b"); got != "" {
		t.Errorf("abandoned input committed: %q", got)
	}
	if n := w.Stats().Abandoned; n != 1 {
		t.Errorf("abandoned %d, want 1", n)
	}
}

func TestSubmitValidation(t *testing.T) {
	w := worker.New(workertest.NewStore(), nil, worker.Options{})
	if err := w.Submit(context.Background(), nil); err != nil {
		t.Errorf("empty Submit = %v", err)
	}
	if err := w.Submit(context.Background(), []worker.Item{{Input: engine.Input{Kind: engine.KindWake}}}); !errors.Is(err, worker.ErrNoCustomer) {
		t.Errorf("Submit without customer = %v", err)
	}
}

// TestOnCommit: the hook sees every committed write, before Submit returns.
func TestOnCommit(t *testing.T) {
	st := workertest.NewStore()
	var mu sync.Mutex
	wakes := map[string]time.Time{}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	w := start(t, st, newEngine(t, onboarding, engine.Options{}), worker.Options{
		Now: func() time.Time { return now },
		OnCommit: func(b *store.Batch) {
			mu.Lock()
			defer mu.Unlock()
			for _, cw := range b.Customers {
				wakes[cw.State.ID] = cw.NextWake
			}
		},
	})
	submit(t, w, event("a", "signup", "1"), event("b", "signup", "2"), event("b", "done", "3"))
	mu.Lock()
	defer mu.Unlock()
	if got := wakes["a"]; !got.Equal(now.Add(time.Hour)) {
		t.Errorf("a's next wake %v, want an hour on", got)
	}
	if got, ok := wakes["b"]; !ok || !got.IsZero() {
		t.Errorf("b's next wake %v (seen %v), want zero: its journey ended", got, ok)
	}
}
