package sched_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/worker"
	"github.com/waymark-dev/waymark/runtime/worker/workertest"
)

// completed reports whether every customer's reminder went out: its timer
// fired and was committed.
func completed(st *workertest.Store, ids []string) bool {
	for _, id := range ids {
		if st.Wake(id) != (time.Time{}) || len(st.Outbox()) < len(ids) {
			return false
		}
	}
	return true
}

// wakeSteps counts the committed Step results of a customer that handled a
// wake: a second one for the same timer is a double fire.
func wakeSteps(st *workertest.Store, id string) int {
	return len(st.Results(id)) - 1 // the first is the signup
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return out
}

func submitAll(t testing.TB, w *worker.Worker, ids []string) {
	t.Helper()
	var items []worker.Item
	for _, id := range ids {
		items = append(items, signup(id))
	}
	if err := w.Submit(context.Background(), items); err != nil {
		t.Fatal(err)
	}
}

// TestFiresWithinOneSecond: `after "1s"` timers on the real clock are
// committed within a second of their due time: promptly through hints, and
// within a poll interval without them.
func TestFiresWithinOneSecond(t *testing.T) {
	tests := []struct {
		name  string
		hints bool
		poll  time.Duration
	}{
		{"hinted", true, time.Hour}, // no poll after the first: hints alone
		{"polled", false, 250 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := workertest.NewStore()
			rt := start(t, st, newEngine(t, reminder("1s")), setup{hints: tc.hints, sopts: sched.Options{PollInterval: tc.poll}})
			eventually(t, time.Second, "first poll", func() bool { return rt.s.Stats().Polls > 0 })
			cs := ids("c", 200)
			submitAll(t, rt.w, cs)
			eventually(t, 3*time.Second, "all reminders sent", func() bool { return completed(st, cs) })
			s := rt.s.Stats()
			if s.Fired != uint64(len(cs)) {
				t.Errorf("fired %d wakes for %d timers", s.Fired, len(cs))
			}
			if p99 := s.Lag.Quantile(0.99); p99 > 1 {
				t.Errorf("lag p99 %.3fs > 1s", p99)
			}
			if late := s.Lag.Count - s.Lag.Counts[len(s.Lag.Counts)-1-4]; late != 0 { // bounds[..-5] is 1s
				t.Errorf("%d wakes committed more than 1s late", late)
			}
			for _, id := range cs {
				if n := wakeSteps(st, id); n != 1 {
					t.Fatalf("%s woke %d times", id, n)
				}
			}
			t.Logf("lag p50 %.1fms p99 %.1fms", 1000*s.Lag.Quantile(0.5), 1000*s.Lag.Quantile(0.99))
		})
	}
}

// TestOverdueAfterRestart: timers that fell due while nothing ran all fire at
// the start of the next run, page by page, each exactly once.
func TestOverdueAfterRestart(t *testing.T) {
	for _, hints := range []bool{true, false} {
		t.Run(fmt.Sprintf("hints=%v", hints), func(t *testing.T) {
			st := workertest.NewStore()
			clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
			eng := newEngine(t, reminder("1h"))
			cfg := setup{
				hints: hints,
				wopts: worker.Options{Now: clk.Now},
				sopts: sched.Options{Now: clk.Now, PollInterval: 20 * time.Millisecond, PageSize: 300, SubmitSize: 100, MaxInflight: 400},
			}
			first := start(t, st, eng, cfg)
			cs := ids("c", 5000)
			for i := 0; i < len(cs); i += 500 {
				submitAll(t, first.w, cs[i:i+500])
			}
			first.stop()
			if n := st.Pending(); n != len(cs) {
				t.Fatalf("%d pending timers, want %d", n, len(cs))
			}

			clk.Advance(3 * time.Hour) // the process was down meanwhile
			log := &dueLog{Store: st}
			second := start(t, log, eng, cfg)
			eventually(t, 20*time.Second, "every overdue timer fired", func() bool {
				return st.Pending() == 0 && second.s.Stats().Fired == uint64(len(cs))
			})
			second.stop()
			for _, id := range cs {
				if n := wakeSteps(st, id); n != 1 {
					t.Fatalf("%s woke %d times", id, n)
				}
			}
			if got := len(st.Outbox()); got != len(cs) {
				t.Errorf("%d reminders, want %d", got, len(cs))
			}
			// Paged: no poll read more than a page beyond the wakes in flight.
			if m := log.maxRows(); m > cfg.sopts.PageSize+cfg.sopts.MaxInflight {
				t.Errorf("a poll returned %d rows, more than a page (%d) plus those in flight (%d)", m, cfg.sopts.PageSize, cfg.sopts.MaxInflight)
			}
			s := second.s.Stats()
			if s.Fired != uint64(len(cs)) || s.Stuck != 0 {
				t.Errorf("stats %+v", s)
			}
			t.Logf("%d polls for %d overdue timers", s.Polls, len(cs))
		})
	}
}

// TestNoDoubleFire: while a wake is being committed (slowly), polls keep
// returning its row; it must not be fired again.
func TestNoDoubleFire(t *testing.T) {
	for _, hints := range []bool{true, false} {
		t.Run(fmt.Sprintf("hints=%v", hints), func(t *testing.T) {
			st := workertest.NewStore()
			clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
			rt := start(t, st, newEngine(t, reminder("1h")), setup{
				hints: hints,
				wopts: worker.Options{Now: clk.Now},
				sopts: sched.Options{Now: clk.Now, PollInterval: 2 * time.Millisecond, SubmitSize: 10},
			})
			cs := ids("c", 200)
			submitAll(t, rt.w, cs)
			st.CommitDelay = 30 * time.Millisecond // every commit now spans many polls
			clk.Advance(2 * time.Hour)
			eventually(t, 10*time.Second, "all fired", func() bool { return st.Pending() == 0 })
			time.Sleep(50 * time.Millisecond) // polls that began before the last commit have ended
			for _, id := range cs {
				if n := wakeSteps(st, id); n != 1 {
					t.Fatalf("%s woke %d times", id, n)
				}
			}
			if s := rt.s.Stats(); s.Fired != uint64(len(cs)) {
				t.Errorf("fired %d", s.Fired)
			}
		})
	}
}

// TestHintSoonerThanPoll: with polls an hour apart, a timer set after the
// last poll fires on time because the commit hinted it.
func TestHintSoonerThanPoll(t *testing.T) {
	for _, hints := range []bool{true, false} {
		t.Run(fmt.Sprintf("hints=%v", hints), func(t *testing.T) {
			st := workertest.NewStore()
			rt := start(t, st, newEngine(t, reminder("1s")), setup{hints: hints, sopts: sched.Options{PollInterval: time.Hour}})
			eventually(t, time.Second, "first poll", func() bool { return rt.s.Stats().Polls > 0 })
			submitAll(t, rt.w, []string{"a"})
			time.Sleep(1500 * time.Millisecond)
			fired := st.Pending() == 0
			if fired != hints {
				t.Errorf("after 1.5s fired=%v, want %v", fired, hints)
			}
		})
	}
}

// TestSubmitErrorRetried: a failed Submit is retried (with backoff) until
// the wakes commit.
func TestSubmitErrorRetried(t *testing.T) {
	st := workertest.NewStore()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	var calls atomic.Int32
	rt := start(t, st, newEngine(t, reminder("1h")), setup{
		hints: true,
		wopts: worker.Options{Now: clk.Now},
		sopts: sched.Options{Now: clk.Now, PollInterval: 10 * time.Millisecond},
		submit: func(next sched.Submit) sched.Submit {
			return func(ctx context.Context, items []worker.Item) error {
				if items[0].Input.Kind == engine.KindWake && calls.Add(1) <= 2 {
					return errors.New("worker: commit: disk I/O error")
				}
				return next(ctx, items)
			}
		},
	})
	cs := ids("c", 20)
	submitAll(t, rt.w, cs)
	clk.Advance(2 * time.Hour)
	eventually(t, 5*time.Second, "all fired after the failures", func() bool { return st.Pending() == 0 })
	s := rt.s.Stats()
	if s.Errors != 2 || s.Fired != uint64(len(cs)) {
		t.Errorf("errors %d fired %d, want 2 and %d", s.Errors, s.Fired, len(cs))
	}
}

// TestStuckDoesNotSpin: should a committed wake leave the index as it was
// (a broken writer), the scheduler fires it once, not in a loop.
func TestStuckDoesNotSpin(t *testing.T) {
	st := workertest.NewStore()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	st.SetWake("stuck", clk.Now().Add(-time.Minute))
	var submits atomic.Int32
	rt := start(t, st, newEngine(t, reminder("1h")), setup{
		sopts: sched.Options{Now: clk.Now, PollInterval: 5 * time.Millisecond},
		submit: func(sched.Submit) sched.Submit {
			return func(ctx context.Context, items []worker.Item) error {
				submits.Add(1)
				return nil // "committed", but nothing moved
			}
		},
	})
	time.Sleep(300 * time.Millisecond)
	if n := submits.Load(); n != 1 {
		t.Errorf("%d submits of a stuck wake, want 1", n)
	}
	if s := rt.s.Stats(); s.Stuck != 1 || s.Polls < 10 {
		t.Errorf("stuck %d after %d polls", s.Stuck, s.Polls)
	}
}

// TestWakeWithoutState: an index entry whose customer has no state (it
// cannot happen with a consistent store) is fired once and cleared, not
// fired forever.
func TestWakeWithoutState(t *testing.T) {
	st := workertest.NewStore()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	for _, id := range ids("ghost", 50) {
		st.SetWake(id, clk.Now().Add(-time.Hour))
	}
	rt := start(t, st, newEngine(t, reminder("1h")), setup{
		hints: true,
		wopts: worker.Options{Now: clk.Now},
		sopts: sched.Options{Now: clk.Now, PollInterval: 5 * time.Millisecond},
	})
	eventually(t, 5*time.Second, "index cleared", func() bool { return st.Pending() == 0 })
	time.Sleep(50 * time.Millisecond)
	if s := rt.s.Stats(); s.Fired != 50 {
		t.Errorf("fired %d, want 50", s.Fired)
	}
}

// TestHintsBeyondTheCap: more hinted timers than the scheduler holds in
// memory; those it let go are read back from the index page by page, with
// no periodic poll to rescue them.
func TestHintsBeyondTheCap(t *testing.T) {
	st := workertest.NewStore()
	log := &dueLog{Store: st}
	rt := start(t, log, newEngine(t, reminder("1s")), setup{
		hints: true,
		sopts: sched.Options{PollInterval: time.Hour, PageSize: 5, SubmitSize: 5, MaxInflight: 10}, // holds at most 30
	})
	eventually(t, time.Second, "first poll", func() bool { return rt.s.Stats().Polls > 0 })
	cs := ids("c", 300)
	submitAll(t, rt.w, cs)
	if k := rt.s.Stats().Known; k > 30 {
		t.Errorf("holds %d wakes, more than its cap", k)
	}
	eventually(t, 5*time.Second, "all fired", func() bool { return rt.s.Stats().Fired == uint64(len(cs)) })
	for _, id := range cs {
		if n := wakeSteps(st, id); n != 1 {
			t.Fatalf("%s woke %d times", id, n)
		}
	}
	if m := log.maxRows(); m > 15 {
		t.Errorf("a poll returned %d rows", m)
	}
	s := rt.s.Stats()
	if p99 := s.Lag.Quantile(0.99); p99 > 1 {
		t.Errorf("lag p99 %.3fs", p99)
	}
	t.Logf("%d polls, lag p99 %.0fms", s.Polls, 1000*s.Lag.Quantile(0.99))
}
