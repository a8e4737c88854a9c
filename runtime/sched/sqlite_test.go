package sched_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/sched"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/worker"
)

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func pending(t *testing.T, st store.Store) int {
	t.Helper()
	rows, err := st.Due(context.Background(), time.Now().Add(1000*time.Hour), 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

func history(t *testing.T, st store.Store, id string) string {
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

// TestSQLiteFiresWithinOneSecond: on the real store, `after "1s"` timers are
// committed within a second of their due time, with hints and without.
func TestSQLiteFiresWithinOneSecond(t *testing.T) {
	for _, hints := range []bool{true, false} {
		t.Run(fmt.Sprintf("hints=%v", hints), func(t *testing.T) {
			st := openSQLite(t, filepath.Join(t.TempDir(), "w.db"))
			defer st.Close()
			rt := start(t, st, newEngine(t, reminder("1s")), setup{hints: hints})
			eventually(t, time.Second, "first poll", func() bool { return rt.s.Stats().Polls > 0 })
			cs := ids("c", 300)
			submitAll(t, rt.w, cs)
			eventually(t, 3*time.Second, "all fired", func() bool { return rt.s.Stats().Fired == uint64(len(cs)) })
			rt.stop()
			s := rt.s.Stats()
			if p99 := s.Lag.Quantile(0.99); p99 > 1 {
				t.Errorf("lag p99 %.3fs > 1s", p99)
			}
			for _, id := range cs {
				if got := history(t, st, id); got != ">wait wait>remind remind>end" {
					t.Fatalf("%s: %q", id, got)
				}
			}
			t.Logf("lag p50 %.1fms p99 %.1fms", 1000*s.Lag.Quantile(0.5), 1000*s.Lag.Quantile(0.99))
		})
	}
}

// TestSQLiteOverdueAfterRestart: timers set by one process, on a file that
// is closed, fire once each in the next process when they are overdue.
func TestSQLiteOverdueAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	eng := newEngine(t, reminder("1h"))
	cfg := setup{
		hints: true,
		wopts: worker.Options{Now: clk.Now},
		sopts: sched.Options{Now: clk.Now, PollInterval: 20 * time.Millisecond, PageSize: 250, SubmitSize: 100, MaxInflight: 300},
	}
	st := openSQLite(t, path)
	first := start(t, st, eng, cfg)
	cs := ids("c", 3000)
	for i := 0; i < len(cs); i += 500 {
		submitAll(t, first.w, cs[i:i+500])
	}
	first.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Advance(5 * time.Hour)
	st = openSQLite(t, path)
	defer st.Close()
	if n := pending(t, st); n != len(cs) {
		t.Fatalf("%d pending after reopening, want %d", n, len(cs))
	}
	log := &dueLog{Store: st}
	second := start(t, log, eng, cfg)
	eventually(t, 30*time.Second, "all overdue fired", func() bool { return second.s.Stats().Fired == uint64(len(cs)) })
	second.stop()
	if n := pending(t, st); n != 0 {
		t.Errorf("%d still pending", n)
	}
	for _, id := range cs {
		if got := history(t, st, id); got != ">wait wait>remind remind>end" {
			t.Fatalf("%s: %q", id, got)
		}
	}
	if m := log.maxRows(); m > cfg.sopts.PageSize+cfg.sopts.MaxInflight {
		t.Errorf("a poll returned %d rows", m)
	}
	t.Logf("%d polls", second.s.Stats().Polls)
}
