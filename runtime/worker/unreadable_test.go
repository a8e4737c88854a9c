package worker_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waymark-dev/waymark/runtime/engine"
	"github.com/waymark-dev/waymark/runtime/store"
	"github.com/waymark-dev/waymark/runtime/store/sqlite"
	"github.com/waymark-dev/waymark/runtime/store/storetest"
	"github.com/waymark-dev/waymark/runtime/worker"
)

// syncBuffer is a log sink the worker's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Wakes, as the scheduler and a reload's migration submit them (many
// customers in one Submit), of a page holding a customer whose stored
// state cannot be decoded (a pre-fix database's 1e400, written here with
// SQL): the others wake and move on, the unreadable one is skipped with
// an error log naming it, and Submit succeeds (so the scheduler does not
// retry the whole page forever, nor the migration stop there). Before the
// fix, Submit failed for the whole page and nobody in it woke.
func TestWakeUnreadable(t *testing.T) {
	t.Run("Customer", func(t *testing.T) { testWakeUnreadable(t, false) })
	// Through store.CustomersReader, as on PostgreSQL: one unreadable state
	// fails the bulk read; the worker reads one by one then.
	t.Run("CustomersReader", func(t *testing.T) { testWakeUnreadable(t, true) })
}

// bulkReader gives a store a store.CustomersReader that fails as
// PostgreSQL's does: the first state it cannot decode fails the read.
type bulkReader struct {
	*sqlite.Store
	calls atomic.Int64
}

func (b *bulkReader) Customers(ctx context.Context, ids []string) (map[string]*engine.Customer, error) {
	b.calls.Add(1)
	out := map[string]*engine.Customer{}
	for _, id := range ids {
		c, err := b.Customer(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, nil
}

func testWakeUnreadable(t *testing.T, bulk bool) {
	path := filepath.Join(t.TempDir(), "waymark.db")
	sq := openSQLite(t, path)
	defer sq.Close()
	var st store.Store = sq
	br := &bulkReader{Store: sq}
	if bulk {
		st = br
	}
	eng := newEngine(t, onboarding, engine.Options{DedupWindow: -1})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	// Seed with a worker of its own, stopped before the corruption: its
	// cache would hold the good state.
	seed := worker.New(st, eng, worker.Options{Now: clock, Logger: slog.New(slog.DiscardHandler)})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- seed.Run(ctx) }()
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		if err := seed.Submit(context.Background(), []worker.Item{event(id, "signup", id+"/signup")}); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE customers SET state = ? WHERE id = 'b'", storetest.BigNumberState); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	w := start(t, st, eng, worker.Options{Now: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	now = now.Add(2 * time.Hour)
	var items []worker.Item
	for _, id := range ids {
		items = append(items, worker.Item{CustomerID: id, Input: engine.Input{Kind: engine.KindWake}})
	}
	if err := w.Submit(context.Background(), items); err != nil {
		t.Fatalf("Submit(wakes of a, b, c): %v; want the readable ones committed", err)
	}
	for _, id := range []string{"a", "c"} {
		if got, want := transitions(t, st, id), ">welcome welcome>nudge nudge>end"; got != want {
			t.Errorf("%s: transitions %q, want %q", id, got, want)
		}
	}
	if bulk && br.calls.Load() == 0 {
		t.Error("the worker did not use the bulk read")
	}
	if got, want := transitions(t, st, "b"), ">welcome"; got != want {
		t.Errorf("b: transitions %q, want %q (untouched)", got, want)
	}
	if l := logs.String(); !strings.Contains(l, "customer=b") || !strings.Contains(l, "cannot be decoded") || strings.Contains(l, "1e400") {
		t.Errorf("log does not name b as unreadable (or shows its value):\n%s", l)
	}
	// An event for it still fails: its input would be lost otherwise.
	if err := w.Submit(context.Background(), []worker.Item{event("b", "done", "b/done")}); err == nil || !strings.Contains(err.Error(), "cannot be decoded") {
		t.Errorf("Submit(event of b) = %v, want an error saying the state cannot be decoded", err)
	}
}
