package worker_test

import (
	"context"
	"errors"
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
)

// failing wraps a store so that Commit fails while fail is set, before the
// real store sees the batch.
type failing struct {
	store.Store
	fail atomic.Bool
}

func (f *failing) Commit(ctx context.Context, b *store.Batch) error {
	if f.fail.Load() {
		return errBoom
	}
	return f.Store.Commit(ctx, b)
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSQLite runs the worker on the real store: concurrent ingest in group
// commits, a failed commit that leaves nothing behind, and deduplication
// across a restart of the process (a reopened file and an empty cache).
func TestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "waymark.db")
	eng := newEngine(t, onboarding, engine.Options{DedupWindow: -1})
	ctx := context.Background()

	// First run.
	st := &failing{Store: openSQLite(t, path)}
	w := worker.New(st, eng, worker.Options{Logger: slog.New(slog.DiscardHandler)})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()

	const customers, goroutines = 200, 8
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < customers; i += goroutines {
				id := fmt.Sprintf("c-%03d", i)
				for _, ev := range []string{"signup", "done"} {
					if err := w.Submit(ctx, []worker.Item{event(id, ev, id+"/"+ev)}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if s := w.Stats(); s.Batches >= s.Submits {
		t.Errorf("%d commits for %d Submits: no group commit", s.Batches, s.Submits)
	}
	for i := range customers {
		id := fmt.Sprintf("c-%03d", i)
		if got := transitions(t, st, id); got != ">welcome welcome>end" {
			t.Fatalf("%s: %q", id, got)
		}
	}
	items, err := st.ClaimOutbox(ctx, time.Now().Add(time.Hour), time.Minute, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != customers {
		t.Errorf("%d sends in the outbox, want %d", len(items), customers)
	}

	// A failed commit leaves nothing in the file.
	st.fail.Store(true)
	if err := w.Submit(ctx, []worker.Item{event("c-000", "signup", "again")}); !errors.Is(err, errBoom) {
		t.Fatalf("Submit on a failing commit = %v", err)
	}
	st.fail.Store(false)
	if got := transitions(t, st, "c-000"); got != ">welcome welcome>end" {
		t.Fatalf("after the failed commit: %q", got)
	}
	stop()
	<-done
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Second run: a new process on the same file.
	st2 := openSQLite(t, path)
	defer st2.Close()
	w2 := start(t, st2, eng, worker.Options{})
	submit(t, w2,
		event("c-000", "signup", "c-000/signup"), // committed by the first run: skipped
		event("c-000", "signup", "again"),        // its commit failed: handled now
	)
	if s := w2.Stats(); s.Duplicates != 1 || s.Inputs != 1 || s.CacheLoads != 1 {
		t.Errorf("second run stats %+v", s)
	}
	if got := transitions(t, st2, "c-000"); got != ">welcome welcome>end >welcome" {
		t.Errorf("after the restart: %q", got)
	}
}
